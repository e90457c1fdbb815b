using System.Runtime.CompilerServices;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Loader.Linking;

/// <summary>
/// Applies relocations into a module's memory before it is made executable. Per relocation: the target's address
/// from the layout (no names, no per-symbol table), one range check, one store [REL-9].
/// </summary>
/// <param name="memory">The module's whole region, writable where owners lie.</param>
/// <param name="stubOf">Direct modules: for each function, the refusal stub its callers are sent to, or −1; null when
/// nothing is refused.</param>
internal readonly ref struct Relocator(CacheImage image, Span<byte> memory, ModuleLinks links, int[]? stubOf)
{
    private readonly Span<byte> _memory = memory;
    private readonly ReadOnlySpan<SymbolRecord> _symbols = image.Symbols; // once per module, not per owner

    /// <param name="ownerOffset">Offset of the owner's first byte in the region.</param>
    /// <param name="ownerSymbol">The owner's symbol, named only in an error message.</param>
    /// <param name="absoluteOnly">Apply only Absolute64 relocations: the PC-relative fields are prelinked for this very
    /// layout [REL-10] and already hold their values.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<RelocationRecord> relocations, int firstIndex, long ownerOffset, int ownerSymbol, bool absoluteOnly = false)
    {
        ReadOnlySpan<SymbolRecord> symbols = _symbols;
        CanonicalLayout canonical = links.Layout.Canonical;
        long baseAddress = links.BaseAddress;
        for (int k = 0; k < relocations.Length; k++)
        {
            ref readonly RelocationRecord r = ref relocations[k];
            if (absoluteOnly && r.Kind != RelocationKind.Absolute64) continue;
            ref readonly SymbolRecord target = ref symbols[(int)r.Target];
            long s;
            if (r.Kind == RelocationKind.SlotPcRel32)
                s = links.HotSwap && target.Kind == SymbolKind.Function ? links.SwapSlot((int)target.Definition) : links.Slot(canonical.SlotOf((int)r.Target));
            else if (r.Kind == RelocationKind.ThunkPcRel32 && target.Kind == SymbolKind.ImportFunction)
                s = links.Thunk(canonical.ThunkOf((int)r.Target));
            else if (target.Kind == SymbolKind.Function)
            {
                int f = (int)target.Definition;
                // A reference into the middle of a body stays with that body; the rest follow the function: its entry
                // thunk in a hot-swappable module, its refusal stub when it was refused.
                s = RelocationRules.IsBodyBound(r.Kind, r.Addend) ? links.Body(f)
                    : links.HotSwap ? links.EntryThunk(f)
                    : stubOf is not null && stubOf[f] >= 0 ? links.Stub(stubOf[f])
                    : links.Body(f);
            }
            else s = links.SymbolAddress((int)r.Target);
            long fieldOffset = ownerOffset + r.Offset;
            if (!RelocationRules.TryApply(_memory, (int)fieldOffset, r.Kind, s, r.Addend, baseAddress + fieldOffset, out long value))
                throw new AotCacheException(ErrorCode.RelocationOverflow,
                    image.SectionOffset(SectionKind.Relocations) + (long)(firstIndex + k) * RelocationRecord.RecordSize,
                    $"{Names.Quote(image.SymbolName(ownerSymbol))}: {r.Kind} relocation at +{r.Offset} to {Names.Quote(image.SymbolName((int)r.Target))} needs displacement {value}, which does not fit 32 bits");
        }
    }
}
