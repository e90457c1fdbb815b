using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Loader.Linking;

/// <summary>
/// Where a loaded module's symbols are, computed from its layout rather than stored per symbol (a table per
/// symbol costs a page fault per 512 symbols on load): functions at the code base plus their offset (or, in a
/// hot-swappable module, their entry thunks), data objects where the layout puts them, imports at the addresses
/// the host resolved, kept per import slot. What relocations, lookups by name and code added later resolve against.
/// </summary>
internal sealed class ModuleLinks(CacheImage image, long baseAddress, ModuleLayout layout, nint[] importAddress, bool hotSwap)
{
    public CacheImage Image { get; } = image;
    public long BaseAddress { get; } = baseAddress;
    public ModuleLayout Layout { get; } = layout;
    public bool HotSwap { get; } = hotSwap;

    /// <summary>The host's address of each import, by its canonical slot index (imports take the first slots).</summary>
    public nint[] ImportAddress { get; } = importAddress;

    /// <summary>Address of a function's body as the file placed it.</summary>
    public long Body(int function) => BaseAddress + Layout.Canonical.FunctionAddress(Image.Functions[function]);

    /// <summary>Address of a hot-swappable function's entry thunk (entry <paramref name="entry"/>).</summary>
    public long EntryThunk(int entry) => BaseAddress + Layout.EntryThunksOffset + (long)entry * ModuleLayout.ThunkSize;

    /// <summary>Address of refusal stub <paramref name="stub"/>.</summary>
    public long Stub(int stub) => BaseAddress + Layout.StubsOffset + (long)stub * ModuleLayout.StubSize;

    /// <summary>Address of the slot refusal stub <paramref name="stub"/> jumps through.</summary>
    public long StubSlot(int stub) => BaseAddress + Layout.StubSlotsOffset + (long)stub * 8;

    /// <summary>Address of hot-swap slot <paramref name="entry"/>.</summary>
    public long SwapSlot(int entry) => BaseAddress + Layout.SwapSlotsOffset + (long)entry * ModuleLayout.SwapSlotSize;

    /// <summary>Address of canonical slot <paramref name="slot"/>.</summary>
    public long Slot(int slot) => BaseAddress + Layout.Canonical.SlotAddress(slot);

    /// <summary>Address of import thunk <paramref name="thunk"/>.</summary>
    public long Thunk(int thunk) => BaseAddress + Layout.Canonical.ThunkAddress(thunk);

    /// <summary>
    /// The address a symbol stands for: a function's body (in a hot-swappable module its entry thunk, which follows
    /// redefinitions), a data object's first byte, an import's host address.
    /// </summary>
    public long SymbolAddress(int symbol)
    {
        ref readonly SymbolRecord s = ref Image.Symbols[symbol];
        return s.Kind switch
        {
            SymbolKind.Function => HotSwap ? EntryThunk((int)s.Definition) : Body((int)s.Definition),
            SymbolKind.Data => BaseAddress + Layout.Canonical.DataObjectAddress(Image.DataObjects[(int)s.Definition]),
            _ => ImportAddress[Layout.Canonical.SlotOf(symbol)],
        };
    }

    /// <summary>The address a relocation of kind <paramref name="kind"/> to the import or data object
    /// <paramref name="name"/> uses: the import's slot or thunk for PC-relative kinds, the address itself otherwise.</summary>
    public long ImportOrDataAddress(string name, RelocationKind kind)
    {
        int s = Image.FindSymbol(name);
        SymbolRecord symbol = Image.Symbols[s];
        if (symbol.Kind is SymbolKind.ImportFunction or SymbolKind.ImportData)
        {
            if (kind == RelocationKind.SlotPcRel32) return Slot(Layout.Canonical.SlotOf(s));
            if (kind == RelocationKind.ThunkPcRel32) return Thunk(Layout.Canonical.ThunkOf(s));
        }
        return SymbolAddress(s);
    }
}
