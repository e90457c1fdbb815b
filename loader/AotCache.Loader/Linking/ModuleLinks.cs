using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Loader.Linking;

/// <summary>
/// Where a loaded module's symbols ended up: every symbol's address (a function's entry thunk in a hot-swappable
/// module), and the slot and thunk of each import. What relocations of code added later (hot-swap) resolve against.
/// </summary>
internal sealed class ModuleLinks(CacheImage image, long baseAddress, ModuleLayout layout, nint[] symbolAddress, int[] slotOf, int[] thunkOf)
{
    public CacheImage Image { get; } = image;
    public long BaseAddress { get; } = baseAddress;
    public ModuleLayout Layout { get; } = layout;

    /// <summary>Address of each symbol by index: functions (or their entry thunks), data objects, resolved imports.</summary>
    public nint[] SymbolAddress { get; } = symbolAddress;

    /// <summary>The address a relocation of kind <paramref name="kind"/> to the import or data object
    /// <paramref name="name"/> uses: the import's slot or thunk for PC-relative kinds, the address itself otherwise.</summary>
    public long ImportOrDataAddress(string name, RelocationKind kind)
    {
        int s = Image.FindSymbol(name);
        SymbolRecord symbol = Image.Symbols[s];
        if (symbol.Kind is SymbolKind.ImportFunction or SymbolKind.ImportData)
        {
            if (kind == RelocationKind.SlotPcRel32) return BaseAddress + Layout.SlotsOffset + 8L * slotOf[s];
            if (kind == RelocationKind.ThunkPcRel32) return BaseAddress + Layout.ThunksOffset + (long)thunkOf[s] * ModuleLayout.ThunkSize;
        }
        return SymbolAddress[s];
    }
}
