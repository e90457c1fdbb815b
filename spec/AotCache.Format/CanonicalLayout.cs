namespace AotCache.Format;

/// <summary>
/// Where a module's parts go relative to its base address, computed from the file alone (FORMAT.md §16.2): import
/// thunks, then read-only data and the slots, then writable data and the zero-fill area, then the code. A writer that
/// knows this layout can compute every intra-module PC-relative field and store it in the code ("prelinked", header
/// flag <see cref="OptionalFlags.Prelinked"/>); a loader that places the module this way can then map the code pages
/// straight from the file and never write them. The code comes last so that an edit that changes the size of some
/// functions moves nothing but code: thunks, data and slots keep their distance from every unmoved function.
/// </summary>
/// <remarks>All offsets are from the base of the module's region, which a loader aligns to <see cref="PageSize"/>.
/// A loader may put structures of its own (refusal stubs, hot-swap entry thunks and slots) after <see cref="End"/>.</remarks>
public sealed class CanonicalLayout
{
    /// <summary>The page size the canonical layout rounds to: 4 KiB, the base page of x86-64.</summary>
    public const int PageSize = 4096;

    /// <summary>An import thunk: <c>jmp qword [rip + slot]</c> (6 bytes) and two <c>int3</c>.</summary>
    public const int ThunkSize = 8;

    /// <summary>A slot holds one address.</summary>
    public const int SlotSize = 8;

    private readonly int[] _thunkSymbols; // symbol indexes of imported functions, ascending: thunk i is _thunkSymbols[i]
    private readonly int[] _slotSymbols;  // imports first, then defined SlotPcRel32 targets, each ascending
    private readonly int _importSlots;    // how many of _slotSymbols are imports

    private CanonicalLayout(int[] thunkSymbols, int[] slotSymbols, int importSlots)
    {
        _thunkSymbols = thunkSymbols;
        _slotSymbols = slotSymbols;
        _importSlots = importSlots;
    }

    /// <summary>Offset of the first import thunk (always 0).</summary>
    public long ThunksOffset => 0;

    /// <summary>Number of import thunks: one per imported function, in symbol-table order.</summary>
    public int ThunkCount => _thunkSymbols.Length;

    /// <summary>Start of the read-only segment: read-only data, then the slots.</summary>
    public long ReadOnlyOffset { get; private init; }

    /// <summary>Bytes [0, this) of the Data section are read-only objects, placed at <see cref="ReadOnlyOffset"/> + their offset.</summary>
    public long ReadOnlyDataSize { get; private init; }

    /// <summary>Offset of slot 0: the read-only data's end, rounded up to 8.</summary>
    public long SlotsOffset { get; private init; }

    /// <summary>Number of slots: one per import (function or data), in symbol-table order, then one per defined symbol
    /// that some SlotPcRel32 relocation reaches, in symbol-table order.</summary>
    public int SlotCount => _slotSymbols.Length;

    /// <summary>How many of the slots are imports' (the first ones).</summary>
    public int ImportCount => _importSlots;

    /// <summary>Start of the writable segment: writable data, then the zero-fill area.</summary>
    public long WritableOffset { get; private init; }

    /// <summary>The Data-section offset that maps to <see cref="WritableOffset"/>: the first writable object's offset
    /// rounded down to a page, which keeps every alignment up to a page.</summary>
    public long WritableDataFloor { get; private init; }

    /// <summary>Data-section bytes [start, end) of the writable objects.</summary>
    public long WritableDataStart { get; private init; }

    /// <inheritdoc cref="WritableDataStart"/>
    public long WritableDataEnd { get; private init; }

    /// <summary>Start of the zero-fill area; a zero-filled object lies at this plus its offset.</summary>
    public long ZeroFillOffset { get; private init; }

    /// <summary>Start of the code: the Code section's bytes, each at this plus its offset in the section.</summary>
    public long CodeOffset { get; private init; }

    /// <summary>Size of the Code section.</summary>
    public long CodeSize { get; private init; }

    /// <summary>The end of the canonical part (page aligned): the code's end rounded up to a page.</summary>
    public long End { get; private init; }

    /// <summary>
    /// The layout of a module with these tables. <paramref name="relocations"/> is the whole relocation table (its
    /// SlotPcRel32 targets decide the defined symbols that get a slot); <paramref name="zeroFillSize"/> the end of the
    /// last zero-filled object. Every input must already satisfy FORMAT.md's structural rules.
    /// </summary>
    public static CanonicalLayout Compute(long codeSize, ReadOnlySpan<SymbolRecord> symbols, ReadOnlySpan<DataObjectRecord> data,
        long zeroFillSize, ReadOnlySpan<RelocationRecord> relocations)
    {
        var thunks = new List<int>();
        var imports = new List<int>();
        for (int s = 0; s < symbols.Length; s++)
        {
            if (symbols[s].Kind == SymbolKind.ImportFunction) thunks.Add(s);
            if (symbols[s].Kind is SymbolKind.ImportFunction or SymbolKind.ImportData) imports.Add(s);
        }
        // Defined symbols reached through a slot: marked in one pass over the table, listed in symbol order.
        int importSlots = imports.Count;
        bool[]? slotted = null;
        foreach (ref readonly RelocationRecord r in relocations)
            if (r.Kind == RelocationKind.SlotPcRel32 && r.Target < (uint)symbols.Length && symbols[(int)r.Target].Kind is SymbolKind.Function or SymbolKind.Data)
                (slotted ??= new bool[symbols.Length])[r.Target] = true;
        if (slotted is not null)
            for (int s = 0; s < slotted.Length; s++)
                if (slotted[s]) imports.Add(s);

        long roEnd = 0, rwStart = -1, rwEnd = 0;
        foreach (ref readonly DataObjectRecord d in data)
        {
            if (d.Kind == DataKind.ReadOnly) roEnd = Math.Max(roEnd, (long)d.Offset + d.Size);
            else if (d.Kind == DataKind.Writable)
            {
                if (rwStart < 0) rwStart = d.Offset;
                rwEnd = Math.Max(rwEnd, (long)d.Offset + d.Size);
            }
        }
        if (rwStart < 0) rwStart = rwEnd = 0;

        long readOnly = AlignUp((long)thunks.Count * ThunkSize, PageSize);
        long slots = readOnly + AlignUp(roEnd, SlotSize);
        long writable = AlignUp(slots + (long)imports.Count * SlotSize, PageSize);
        long floor = rwStart / PageSize * PageSize;
        long zeroFill = writable + AlignUp(rwEnd - floor, PageSize);
        long code = zeroFill + AlignUp(zeroFillSize, PageSize);
        return new CanonicalLayout([.. thunks], [.. imports], importSlots)
        {
            ReadOnlyOffset = readOnly,
            ReadOnlyDataSize = roEnd,
            SlotsOffset = slots,
            WritableOffset = writable,
            WritableDataFloor = floor,
            WritableDataStart = rwStart,
            WritableDataEnd = rwEnd,
            ZeroFillOffset = zeroFill,
            CodeOffset = code,
            CodeSize = codeSize,
            End = code + AlignUp(codeSize, PageSize),
        };
    }

    /// <summary>The thunk index of an imported function, or −1 when <paramref name="symbol"/> is not one.</summary>
    public int ThunkOf(int symbol) => Math.Max(-1, Array.BinarySearch(_thunkSymbols, symbol));

    /// <summary>The slot index of a symbol, or −1 when it has none (a defined symbol no SlotPcRel32 reaches).</summary>
    public int SlotOf(int symbol)
    {
        int imports = Array.BinarySearch(_slotSymbols, 0, _importSlots, symbol);
        if (imports >= 0) return imports;
        int defined = Array.BinarySearch(_slotSymbols, _importSlots, _slotSymbols.Length - _importSlots, symbol);
        return Math.Max(-1, defined);
    }

    /// <summary>The symbol that owns slot <paramref name="slot"/>.</summary>
    public int SlotSymbol(int slot) => _slotSymbols[slot];

    /// <summary>The imported function that thunk <paramref name="thunk"/> jumps to.</summary>
    public int ThunkSymbol(int thunk) => _thunkSymbols[thunk];

    /// <summary>Offset of an import thunk.</summary>
    public long ThunkAddress(int thunk) => ThunksOffset + (long)thunk * ThunkSize;

    /// <summary>Offset of a slot.</summary>
    public long SlotAddress(int slot) => SlotsOffset + (long)slot * SlotSize;

    /// <summary>Offset of a data object's first byte.</summary>
    public long DataObjectAddress(in DataObjectRecord d) => d.Kind switch
    {
        DataKind.ReadOnly => ReadOnlyOffset + d.Offset,
        DataKind.Writable => WritableOffset + (d.Offset - WritableDataFloor),
        _ => ZeroFillOffset + d.Offset,
    };

    /// <summary>Offset of a function's first byte.</summary>
    public long FunctionAddress(in FunctionRecord f) => CodeOffset + f.CodeOffset;

    /// <summary>
    /// The value a prelinked field holds (FORMAT.md §16.2): S + A − P in this layout, for a PC-relative relocation of
    /// function <paramref name="owner"/>; false for Absolute64 (its value depends on where the module lands) or when
    /// the value does not fit 32 bits [REL-9].
    /// </summary>
    public bool TryPrelink(in RelocationRecord r, in FunctionRecord owner, ReadOnlySpan<SymbolRecord> symbols,
        ReadOnlySpan<FunctionRecord> functions, ReadOnlySpan<DataObjectRecord> data, out int value)
    {
        value = 0;
        if (r.Kind == RelocationKind.Absolute64 || !RelocationRules.IsKnown(r.Kind)) return false;
        ref readonly SymbolRecord target = ref symbols[(int)r.Target];
        long s;
        switch (r.Kind)
        {
            case RelocationKind.SlotPcRel32:
                s = SlotAddress(SlotOf((int)r.Target));
                break;
            case RelocationKind.ThunkPcRel32 when target.Kind == SymbolKind.ImportFunction:
                s = ThunkAddress(ThunkOf((int)r.Target));
                break;
            default:
                s = target.Kind == SymbolKind.Data ? DataObjectAddress(data[(int)target.Definition]) : FunctionAddress(functions[(int)target.Definition]);
                break;
        }
        long p = FunctionAddress(owner) + r.Offset;
        if (!RelocationRules.TryCompute(r.Kind, s, r.Addend, p, out long computed)) return false;
        value = (int)computed;
        return true;
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
