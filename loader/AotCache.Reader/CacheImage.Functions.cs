using AotCache.Format;

namespace AotCache.Reader;

public sealed partial class CacheImage : ISymbolScope
{
    // Decoded names and signatures, filled on first use: tools and incremental writers ask for the same few
    // thousand names many times. Racing threads store equal values, so no lock is needed.
    private string?[]? _names;
    private Signature?[]? _signatures;

    /// <summary>The function named <paramref name="name"/>, or −1 (binary search, no allocation).</summary>
    public int FindFunction(string name)
    {
        int s = FindSymbol(name);
        return s >= 0 && Symbols[s].Kind == SymbolKind.Function ? (int)Symbols[s].Definition : -1;
    }

    /// <summary>The last function whose code starts at or before <paramref name="codeOffset"/> (an offset into the Code
    /// section), or −1 when none does: a binary search of the function table, which is sorted by code offset [FUN-2].
    /// The offset may lie past that function's body (in its padding, or beyond the last function).</summary>
    public int FunctionAtOrBefore(long codeOffset)
    {
        ReadOnlySpan<FunctionRecord> functions = Functions;
        int lo = 0, hi = functions.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if ((long)functions[mid].CodeOffset <= codeOffset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>A symbol's name, decoded (allocates: for tools and diagnostics, not for loading).</summary>
    public string SymbolName(int symbol) => GetString(Symbols[symbol].Name);

    /// <summary>A symbol's name decoded once per image: what carrying many bodies (<see cref="GetFunctionBody(int)"/>)
    /// asks for over and over. Loading never fills this table.</summary>
    private string CachedName(int symbol)
    {
        string?[] names = _names ??= new string?[Symbols.Length];
        return names[symbol] ??= GetString(Symbols[symbol].Name);
    }

    private Dictionary<ulong, int>? _declarationByHash;

    /// <summary>Work counted by the analyses that name things in an image (declaration lookups by hash, stale
    /// analysis): inner-loop iterations, so that tests can check that the work grows linearly with the file.</summary>
    internal long AnalysisSteps;

    /// <summary>The first declaration whose signature hash is <paramref name="signatureHash"/>, or −1. The
    /// declarations are indexed by hash on first use (O(declarations) once, then O(1) per lookup): what naming the
    /// signatures of many stale references needs. Racing threads build equal indexes; either may win.</summary>
    public int FindDeclaration(ulong signatureHash)
    {
        Dictionary<ulong, int>? index = Volatile.Read(ref _declarationByHash);
        if (index is null)
        {
            ReadOnlySpan<DeclarationRecord> declarations = Declarations;
            index = new Dictionary<ulong, int>(declarations.Length);
            for (int i = 0; i < declarations.Length; i++)
            {
                AnalysisSteps++;
                index.TryAdd(declarations[i].SignatureHash, i);
            }
            Volatile.Write(ref _declarationByHash, index);
        }
        AnalysisSteps++;
        return index.TryGetValue(signatureHash, out int declaration) ? declaration : -1;
    }

    /// <summary>The declaration of a function or imported function, decoded once per image.</summary>
    public Signature GetSignature(int declaration)
    {
        Signature?[] signatures = _signatures ??= new Signature?[Declarations.Length];
        return signatures[declaration] ??= Signature.TryDecode(GetSignatureEncoding(declaration), out _, out _)
            ?? throw new InvalidOperationException("internal: a validated signature did not decode");
    }

    /// <summary>What the file's symbol named <paramref name="name"/> is: its kind and, for functions and imports
    /// of functions, its declaration.</summary>
    public bool TryGetSymbol(string name, out SymbolInfo symbol)
    {
        int s = FindSymbol(name);
        if (s < 0)
        {
            symbol = default;
            return false;
        }
        SymbolRecord record = Symbols[s];
        symbol = new SymbolInfo(record.Kind, RelocationRules.IsCallable(record.Kind) ? GetSignature((int)record.Declaration) : null);
        return true;
    }

    /// <summary>
    /// Function <paramref name="function"/> as the file stores it: code (copied out, its relocation fields zeroed:
    /// what they hold in the file depends on where the file placed the function, FORMAT.md §16.2), relocations with
    /// their targets named and their recorded signature hashes, signature, alignment, content hash, CPU features,
    /// content dependencies and unwind information. The same body from any file, prelinked or not, compares equal. Allocates: for
    /// incremental writers and tools, not for loading.
    /// </summary>
    public FunctionBody GetFunctionBody(int function)
    {
        if ((uint)function >= (uint)Functions.Length)
            throw new ArgumentOutOfRangeException(nameof(function), function, $"the file has {Functions.Length} functions");
        FunctionRecord f = Functions[function];
        SymbolRecord symbol = Symbols[(int)f.Symbol];
        var relocations = new Relocation[f.RelocationCount];
        byte[] code = FunctionCode(f).ToArray();
        int k = 0;
        foreach (RelocationRecord r in RelocationsOf(f))
        {
            relocations[k++] = new Relocation((int)r.Offset, r.Kind, CachedName((int)r.Target), r.Addend, r.ExpectedSignatureHash);
            code.AsSpan((int)r.Offset, RelocationRules.FieldWidth(r.Kind)).Clear();
        }
        return new FunctionBody(code, GetSignature((int)symbol.Declaration), relocations, DependenciesOf(function))
        {
            Alignment = (int)f.Alignment,
            ContentHash = f.ContentHash,
            RequiredCpuFeatures = f.RequiredCpuFeatures,
            Unwind = GetUnwindInfo(function),
        };
    }

    /// <summary>The function named <paramref name="name"/> (see <see cref="GetFunctionBody(int)"/>).</summary>
    public FunctionBody GetFunctionBody(string name)
    {
        int function = FindFunction(name);
        if (function < 0) throw new KeyNotFoundException($"module {Names.Quote(ModuleName)} has no function named {Names.Quote(name)}");
        return GetFunctionBody(function);
    }

    /// <summary>The content dependencies of a function: a binary search of the table, sorted by function [DEP-1].</summary>
    public List<Dependency> DependenciesOf(int function)
    {
        ReadOnlySpan<DependencyRecord> dependencies = Dependencies;
        int lo = 0, hi = dependencies.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (dependencies[mid].Function < (uint)function) lo = mid + 1; else hi = mid;
        }
        var list = new List<Dependency>();
        for (int i = lo; i < dependencies.Length && dependencies[i].Function == (uint)function; i++)
            list.Add(new Dependency(CachedName((int)dependencies[i].Target), dependencies[i].ExpectedContentHash));
        return list;
    }
}
