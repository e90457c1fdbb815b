using AotCache.Format;

namespace AotCache.Loader;

/// <summary>A relocation with its target named, so it can be carried into another file's symbol table.</summary>
public readonly record struct StoredRelocation(int Offset, RelocationKind Kind, string Target, SymbolKind TargetKind, long Addend, ulong ExpectedSignatureHash);

/// <summary>A content dependency with its target named.</summary>
public readonly record struct StoredDependency(string Target, DependencyKind Kind, ContentHash ExpectedContentHash);

/// <summary>
/// Everything a file stores about one function, with names instead of indexes: what an incremental
/// writer needs to carry an unchanged body into the next version byte-for-byte instead of recompiling it.
/// </summary>
public sealed record StoredFunction(
    string Name, Signature Signature, Linkage Linkage, byte[] Code, int Alignment, ContentHash ContentHash,
    CpuFeatures RequiredCpuFeatures, IReadOnlyList<StoredRelocation> Relocations, IReadOnlyList<StoredDependency> Dependencies);

public sealed partial class CacheImage
{
    /// <summary>The function named <paramref name="name"/>, or −1 (binary search, no allocation).</summary>
    public int FindFunction(string name)
    {
        int s = FindSymbol(name);
        return s >= 0 && Symbols[s].Kind == SymbolKind.Function ? (int)Symbols[s].Definition : -1;
    }

    /// <summary>A function with its code copied out and its references named. Allocates: for incremental
    /// writers and tools, not for loading.</summary>
    public StoredFunction GetStoredFunction(int function)
    {
        FunctionRecord f = Functions[function];
        SymbolRecord symbol = Symbols[(int)f.Symbol];
        var relocations = new List<StoredRelocation>((int)f.RelocationCount);
        foreach (RelocationRecord r in RelocationsOf(f))
            relocations.Add(new StoredRelocation((int)r.Offset, r.Kind, SymbolName((int)r.Target), Symbols[(int)r.Target].Kind, r.Addend, r.ExpectedSignatureHash));
        var dependencies = new List<StoredDependency>();
        foreach (DependencyRecord d in Dependencies)
            if (d.Function == (uint)function)
                dependencies.Add(new StoredDependency(SymbolName((int)d.Target), d.Kind, d.ExpectedContentHash));
        return new StoredFunction(GetString(symbol.Name), GetSignature((int)symbol.Declaration), symbol.Linkage, FunctionCode(f).ToArray(),
            (int)f.Alignment, f.ContentHash, f.RequiredCpuFeatures, relocations, dependencies);
    }
}
