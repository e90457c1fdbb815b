using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using AotCache.Format;

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

    /// <summary>
    /// A reference that must reach one particular body rather than the function's current one: a
    /// PC-relative reference whose addend is not the −4 of a field that ends its instruction (a jump into
    /// the middle of the body), or an absolute address with a non-zero addend.
    /// </summary>
    public static bool IsBodyBound(in RelocationRecord r) => r.Kind switch
    {
        RelocationKind.Absolute64 => r.Addend != 0,
        RelocationKind.SlotPcRel32 => false,
        _ => r.Addend != -4,
    };

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
                if (IsBodyBound(r)) s = bodyAddress[r.Target];
                else if (r.Kind == RelocationKind.SlotPcRel32) s = layout.SwapSlotsOffset + baseAddress + (long)symbols[(int)r.Target].Definition * HotSwap.SwapState.SlotSize;
            }
            switch (r.Kind)
            {
                case RelocationKind.Absolute64:
                    BinaryPrimitives.WriteInt64LittleEndian(_memory[(int)fieldOffset..], unchecked(s + r.Addend));
                    continue;
                case RelocationKind.SlotPcRel32:
                    if (slotOf[r.Target] >= 0) s = baseAddress + layout.SlotsOffset + 8L * slotOf[r.Target];
                    break;
                case RelocationKind.ThunkPcRel32:
                    if (symbols[(int)r.Target].Kind == SymbolKind.ImportFunction)
                        s = baseAddress + layout.ThunksOffset + (long)thunkOf[r.Target] * ModuleLayout.ThunkSize;
                    break;
            }
            // S, P and A are all far below 2^62 in magnitude: the sum cannot overflow a long.
            long value = s + r.Addend - p;
            if (value < int.MinValue || value > int.MaxValue)
                throw new AotCacheException(ErrorCode.RelocationOverflow,
                    image.SectionOffset(SectionKind.Relocations) + (long)(firstIndex + k) * RelocationRecord.RecordSize,
                    $"'{image.SymbolName(ownerSymbol)}': {r.Kind} relocation at +{r.Offset} to '{image.SymbolName((int)r.Target)}' needs displacement {value}, which does not fit 32 bits");
            BinaryPrimitives.WriteInt32LittleEndian(_memory[(int)fieldOffset..], (int)value);
        }
    }
}
