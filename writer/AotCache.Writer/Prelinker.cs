using AotCache.Format;

namespace AotCache.Writer;

/// <summary>
/// Stores the canonical layout's values in a module's PC-relative code fields (FORMAT.md §16.2, [REL-10]): the one
/// place the writer side prelinks, for <see cref="CacheBuilder"/> and <see cref="CacheRewriter"/>.
/// </summary>
internal static class Prelinker
{
    /// <summary>
    /// Prelinks <paramref name="code"/> (the whole Code section) in place, or leaves it untouched and returns false
    /// when some value does not fit 32 bits (such a module is written without the flag; a loader then reports the
    /// overflow [REL-9]).
    /// </summary>
    public static bool TryPrelink(Span<byte> code, ReadOnlySpan<SymbolRecord> symbols, ReadOnlySpan<FunctionRecord> functions,
        ReadOnlySpan<DataObjectRecord> data, long zeroFillSize, ReadOnlySpan<RelocationRecord> relocations)
    {
        CanonicalLayout layout = CanonicalLayout.Compute(code.Length, symbols, data, zeroFillSize, relocations);
        var values = new int[relocations.Length];
        foreach (ref readonly FunctionRecord f in functions)
        {
            ReadOnlySpan<RelocationRecord> own = relocations.Slice((int)f.FirstRelocation, (int)f.RelocationCount);
            for (int k = 0; k < own.Length; k++)
                if (own[k].Kind != RelocationKind.Absolute64 && !layout.TryPrelink(own[k], f, symbols, functions, data, out values[f.FirstRelocation + k]))
                    return false;
        }
        foreach (ref readonly FunctionRecord f in functions)
        {
            ReadOnlySpan<RelocationRecord> own = relocations.Slice((int)f.FirstRelocation, (int)f.RelocationCount);
            for (int k = 0; k < own.Length; k++)
                if (own[k].Kind != RelocationKind.Absolute64)
                    RelocationRules.Store(code[(int)(f.CodeOffset + own[k].Offset)..], own[k].Kind, values[f.FirstRelocation + k]);
        }
        return true;
    }
}
