using System.Runtime.CompilerServices;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Loader.Linking;

/// <summary>
/// Applies relocations into a module's memory before it is made executable. Per relocation: one array
/// lookup for the target's address, one range check, one store. No names, no allocation [REL-9].
/// </summary>
/// <param name="bodyAddress">Hot-swappable modules: each function symbol's body, for references into the middle
/// of a body (the symbol address is then the function's entry thunk); null in direct modules.</param>
internal readonly ref struct Relocator(CacheImage image, Span<byte> memory, long baseAddress, ModuleLayout layout,
    nint[] symbolAddress, int[] slotOf, int[] thunkOf, nint[]? bodyAddress = null)
{
    private readonly Span<byte> _memory = memory;
    private readonly ReadOnlySpan<SymbolRecord> _symbols = image.Symbols; // once per module, not per owner

    /// <param name="ownerOffset">Offset of the owner's first byte in the region.</param>
    /// <param name="ownerSymbol">The owner's symbol, named only in an error message.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<RelocationRecord> relocations, int firstIndex, long ownerOffset, int ownerSymbol)
    {
        ReadOnlySpan<SymbolRecord> symbols = _symbols;
        for (int k = 0; k < relocations.Length; k++)
        {
            ref readonly RelocationRecord r = ref relocations[k];
            long fieldOffset = ownerOffset + r.Offset;
            long p = baseAddress + fieldOffset;
            long s = symbolAddress[r.Target];
            if (bodyAddress is not null && symbols[(int)r.Target].Kind == SymbolKind.Function)
            {
                if (RelocationRules.IsBodyBound(r.Kind, r.Addend)) s = bodyAddress[r.Target];
                else if (r.Kind == RelocationKind.SlotPcRel32) s = layout.SwapSlotsOffset + baseAddress + (long)symbols[(int)r.Target].Definition * ModuleLayout.SwapSlotSize;
            }
            switch (r.Kind)
            {
                case RelocationKind.SlotPcRel32:
                    if (slotOf[r.Target] >= 0) s = baseAddress + layout.SlotsOffset + 8L * slotOf[r.Target];
                    break;
                case RelocationKind.ThunkPcRel32:
                    if (symbols[(int)r.Target].Kind == SymbolKind.ImportFunction)
                        s = baseAddress + layout.ThunksOffset + (long)thunkOf[r.Target] * ModuleLayout.ThunkSize;
                    break;
            }
            if (!RelocationRules.TryApply(_memory, (int)fieldOffset, r.Kind, s, r.Addend, p, out long value))
                throw new AotCacheException(ErrorCode.RelocationOverflow,
                    image.SectionOffset(SectionKind.Relocations) + (long)(firstIndex + k) * RelocationRecord.RecordSize,
                    $"{Names.Quote(image.SymbolName(ownerSymbol))}: {r.Kind} relocation at +{r.Offset} to {Names.Quote(image.SymbolName((int)r.Target))} needs displacement {value}, which does not fit 32 bits");
        }
    }
}
