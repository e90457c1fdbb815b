using System.Runtime.CompilerServices;
using AotCache.Format;

namespace AotCache.Reader;

/// <summary>Why a reference is stale.</summary>
public enum StaleKind
{
    /// <summary>A relocation's expected signature hash differs from its function target's declaration [LOAD-5].</summary>
    Signature,
    /// <summary>A dependency's expected content hash differs from its target's content hash [DEP-2].</summary>
    Content,
    /// <summary>The function depends on the content of a function or data object that is itself stale (by content or by a signature), so it will be recompiled too [DEP-2].</summary>
    TransitiveContent,
}

/// <summary>A function or data object compiled against something its target no longer is.</summary>
/// <param name="OwnerIsFunction">True when the owner is a function, false for a data object.</param>
/// <param name="Owner">Index in the function or data object table.</param>
/// <param name="Record">The relocation index (signature) or dependency index (content).</param>
public readonly record struct StaleReference(StaleKind Kind, bool OwnerIsFunction, int Owner, int Record, int TargetSymbol, ulong ExpectedHash, ulong ActualHash)
{
    /// <summary>The index of the stale relocation in the relocation table, or -1 for a content dependency.</summary>
    public int Relocation => Kind == StaleKind.Signature ? Record : -1;
}

/// <summary>Finds stale references in a validated image: O(relocations + dependencies), no allocation unless some are stale.</summary>
public static class StaleAnalysis
{
    /// <summary>Every stale reference of the file [LOAD-5] [DEP-2], in table order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static List<StaleReference> Find(CacheImage image)
    {
        var stale = new List<StaleReference>();
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        ReadOnlySpan<DeclarationRecord> declarations = image.Declarations;
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        // Validation counted the stale signature references: the relocation table is scanned only to name them.
        if (image.StaleSignatureReferences > 0)
        {
            image.AnalysisSteps += image.Relocations.Length;
            for (int f = 0; f < functions.Length; f++)
                Scan(image.RelocationsOf(functions[f]), (int)functions[f].FirstRelocation, true, f, symbols, declarations, stale);
            for (int d = 0; d < data.Length; d++)
                Scan(image.RelocationsOf(data[d]), (int)data[d].FirstRelocation, false, d, symbols, declarations, stale);
        }

        // Content dependencies: a function that inlined a target whose content hash changed is stale. So is,
        // transitively, every function that depends on the content of a stale function or data object, whether that
        // owner is stale by content or by a signature [LOAD-5]: it will be recompiled, so its content changes [DEP-2].
        ReadOnlySpan<DependencyRecord> dependencies = image.Dependencies;
        List<int>? changed = null; // symbols whose content will change
        bool[]? isStale = null;    // by symbol index
        foreach (StaleReference s in stale)
            MarkStale(s.OwnerIsFunction ? (int)functions[s.Owner].Symbol : (int)data[s.Owner].Symbol, symbols.Length, ref isStale, ref changed);
        for (int i = 0; i < dependencies.Length; i++)
        {
            image.AnalysisSteps++;
            ref readonly DependencyRecord d = ref dependencies[i];
            SymbolRecord target = symbols[(int)d.Target];
            ContentHash actual = target.Kind == SymbolKind.Function ? functions[(int)target.Definition].ContentHash : data[(int)target.Definition].ContentHash;
            if (actual == d.ExpectedContentHash) continue;
            int owner = (int)functions[(int)d.Function].Symbol;
            stale.Add(new StaleReference(StaleKind.Content, true, (int)d.Function, i, (int)d.Target, d.ExpectedContentHash.Low, actual.Low));
            MarkStale(owner, symbols.Length, ref isStale, ref changed);
        }
        if (changed is not null && dependencies.Length > 0) AddTransitivelyStale(image, changed, isStale!, stale);
        return stale;
    }

    private static void MarkStale(int symbol, int symbolCount, ref bool[]? isStale, ref List<int>? changed)
    {
        isStale ??= new bool[symbolCount];
        if (isStale[symbol]) return;
        isStale[symbol] = true;
        (changed ??= []).Add(symbol);
    }

    /// <summary>
    /// The functions that depend on the content of a stale function or data object, transitively, breadth first from
    /// <paramref name="changed"/> (symbol indexes), each with the first dependency (in table order) that makes it
    /// stale. The dependents of each symbol are indexed once (a reverse adjacency over the dependency table), so the
    /// closure costs O(symbols + dependencies), however many functions are stale.
    /// </summary>
    private static void AddTransitivelyStale(CacheImage image, List<int> changed, bool[] isStale, List<StaleReference> stale)
    {
        ReadOnlySpan<DependencyRecord> dependencies = image.Dependencies;
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        int symbolCount = image.Symbols.Length;
        // first[s]..first[s + 1]: the dependencies on symbol s's content, in table order.
        var first = new int[symbolCount + 1];
        for (int i = 0; i < dependencies.Length; i++)
        {
            image.AnalysisSteps++;
            first[dependencies[i].Target + 1]++;
        }
        for (int s = 0; s < symbolCount; s++) first[s + 1] += first[s];
        var dependents = new int[first[symbolCount]];
        var next = (int[])first.Clone();
        for (int i = 0; i < dependencies.Length; i++)
        {
            image.AnalysisSteps++;
            dependents[next[dependencies[i].Target]++] = i;
        }
        var queue = new Queue<int>(changed);
        while (queue.TryDequeue(out int symbol))
            for (int k = first[symbol]; k < first[symbol + 1]; k++)
            {
                image.AnalysisSteps++;
                int i = dependents[k];
                ref readonly DependencyRecord d = ref dependencies[i];
                int owner = (int)functions[(int)d.Function].Symbol;
                if (isStale[owner]) continue;
                isStale[owner] = true;
                stale.Add(new StaleReference(StaleKind.TransitiveContent, true, (int)d.Function, i, (int)d.Target, 0, 0));
                queue.Enqueue(owner);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scan(ReadOnlySpan<RelocationRecord> relocations, int first, bool isFunction, int owner,
        ReadOnlySpan<SymbolRecord> symbols, ReadOnlySpan<DeclarationRecord> declarations, List<StaleReference> stale)
    {
        for (int k = 0; k < relocations.Length; k++)
        {
            ref readonly RelocationRecord r = ref relocations[k];
            if (r.ExpectedSignatureHash == 0) continue;
            ref readonly SymbolRecord target = ref symbols[(int)r.Target];
            if (target.Kind is not (SymbolKind.Function or SymbolKind.ImportFunction)) continue;
            ulong actual = declarations[(int)target.Declaration].SignatureHash;
            if (actual != r.ExpectedSignatureHash)
                stale.Add(new StaleReference(StaleKind.Signature, isFunction, owner, first + k, (int)r.Target, r.ExpectedSignatureHash, actual));
        }
    }

    /// <summary>"main refers to add compiled against sysv (i64) -> i64, but add is now sysv (i64, i64) -> i64".</summary>
    public static string Describe(CacheImage image, in StaleReference s)
    {
        string owner = Names.Escape(image.SymbolName((int)(s.OwnerIsFunction ? image.Functions[s.Owner].Symbol : image.DataObjects[s.Owner].Symbol)));
        string target = Names.Escape(image.SymbolName(s.TargetSymbol));
        return s.Kind switch
        {
            StaleKind.Signature => $"{owner} refers to {target} compiled against {SignatureText(image, s.ExpectedHash)}, but {target} is now {SignatureText(image, s.ActualHash)}",
            StaleKind.Content => $"{owner} depends on the content of {target} as it was ({image.Dependencies[s.Record].ExpectedContentHash}), but {target} is now {ContentOf(image, s.TargetSymbol)}",
            _ => $"{owner} depends on the content of {target}, which is stale itself",
        };
    }

    private static ContentHash ContentOf(CacheImage image, int symbol)
    {
        SymbolRecord s = image.Symbols[symbol];
        return s.Kind == SymbolKind.Function ? image.Functions[(int)s.Definition].ContentHash : image.DataObjects[(int)s.Definition].ContentHash;
    }

    /// <summary>A signature by hash: its text when some declaration of the file has it, else the hash. The
    /// declarations are indexed by hash once per image (<see cref="CacheImage.FindDeclaration"/>), so naming every
    /// stale reference of a file costs O(declarations + stale references).</summary>
    public static string SignatureText(CacheImage image, ulong hash)
    {
        int declaration = image.FindDeclaration(hash);
        return declaration >= 0 ? $"{image.GetSignature(declaration)} (0x{hash:x16})" : $"the signature with hash 0x{hash:x16}";
    }
}
