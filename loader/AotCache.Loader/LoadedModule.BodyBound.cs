using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Loader;

public sealed partial class LoadedModule
{
    /// <summary>
    /// [LOAD-7]: a refused function's body is replaced by a jump to its refusal stub, so a reference into the middle
    /// of that body (a body-bound reference, <see cref="RelocationRules.IsBodyBound"/>) would land inside the stubs.
    /// Each function with such a reference is refused as well, with the reason of the function it jumps into, and so
    /// on transitively; a data object with such a reference refuses the whole load, as a stale pointer in data does.
    /// The body-bound references are indexed once by target (O(relocations)), and only when something is refused.
    /// </summary>
    private static void RefuseBodyBoundReferrers(CacheImage image, Dictionary<int, RefusedFunction> refused)
    {
        if (refused.Count == 0) return;
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        ReadOnlySpan<RelocationRecord> relocations = image.Relocations;

        // first[t]..first[t + 1]: the relocations (by index) of functions that jump into the body of function t.
        var first = new int[functions.Length + 1];
        for (int f = 0; f < functions.Length; f++)
            foreach (ref readonly RelocationRecord r in image.RelocationsOf(functions[f]))
                if (symbols[(int)r.Target].Kind == SymbolKind.Function && RelocationRules.IsBodyBound(r.Kind, r.Addend))
                    first[symbols[(int)r.Target].Definition + 1]++;
        for (int t = 0; t < functions.Length; t++) first[t + 1] += first[t];
        var referrers = new (int Owner, int Relocation)[first[functions.Length]];
        var next = (int[])first.Clone();
        for (int f = 0; f < functions.Length; f++)
        {
            int k = (int)functions[f].FirstRelocation;
            foreach (ref readonly RelocationRecord r in image.RelocationsOf(functions[f]))
            {
                if (symbols[(int)r.Target].Kind == SymbolKind.Function && RelocationRules.IsBodyBound(r.Kind, r.Addend))
                    referrers[next[symbols[(int)r.Target].Definition]++] = (f, k);
                k++;
            }
        }

        // Breadth first from the functions refused so far, in function order: deterministic names and reasons.
        var queue = new Queue<int>(refused.Keys.Order());
        while (queue.TryDequeue(out int target))
        {
            RefusedFunction why = refused[target];
            for (int i = first[target]; i < first[target + 1]; i++)
            {
                (int owner, int relocation) = referrers[i];
                if (refused.ContainsKey(owner)) continue;
                refused[owner] = new RefusedFunction(image.SymbolName((int)functions[owner].Symbol), why.Reason,
                    $"it jumps into the middle of refused function {Names.Quote(why.Name)} (relocation {relocation} at +{relocations[relocation].Offset}), " +
                    "whose body does not run here");
                queue.Enqueue(owner);
            }
        }

        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        for (int d = 0; d < data.Length; d++)
        {
            int k = (int)data[d].FirstRelocation;
            foreach (ref readonly RelocationRecord r in image.RelocationsOf(data[d]))
            {
                if (symbols[(int)r.Target].Kind == SymbolKind.Function && RelocationRules.IsBodyBound(r.Kind, r.Addend)
                    && refused.TryGetValue((int)symbols[(int)r.Target].Definition, out RefusedFunction? why))
                    throw new AotCacheException(why.Reason, image.SectionOffset(SectionKind.Relocations) + (long)k * RelocationRecord.RecordSize,
                        $"data object {Names.Quote(image.SymbolName((int)data[d].Symbol))} points into the middle of refused function " +
                        $"{Names.Quote(why.Name)} (relocation {k}): {why.Detail}");
                k++;
            }
        }
    }
}
