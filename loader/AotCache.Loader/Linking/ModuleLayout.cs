using AotCache.Format;
using AotCache.Loader.Memory;

namespace AotCache.Loader.Linking;

/// <summary>
/// Where everything of one module goes in its region: the file's canonical layout (FORMAT.md §16.2: import thunks,
/// read-only data and slots, writable data and zero-fill, then the code, each part page aligned), followed by what
/// only this loader needs:
/// <list type="bullet">
/// <item>read+execute: hot-swap entry thunks, refusal stubs and their common tail;</item>
/// <item>read-only: the address of the refused-call handler;</item>
/// <item>read-write, never executable: hot-swap slots.</item>
/// </list>
/// Offsets inside the code and data blocks equal the offsets in the file's sections, so a function's address is
/// the code base plus its code offset: no per-function placement.
/// </summary>
internal sealed class ModuleLayout
{
    public const int PageSize = CanonicalLayout.PageSize;
    public const int ThunkSize = CanonicalLayout.ThunkSize; // jmp [rip+disp32] (6 bytes) + 2 × int3: import and entry thunks
    public const int StubSize = StubCode.StubSize;        // jmp [rip+slot]; push i; jmp common
    public const int CommonStubSize = StubCode.CommonSize;
    /// <summary>A hot-swappable module's per-function slot (read-write, never executable): code pointer, signature hash, generation.</summary>
    public const int SwapSlotSize = 24;

    public required CanonicalLayout Canonical { get; init; }

    public long EntryThunksOffset { get; private init; }
    public long StubsOffset { get; private init; }
    public long CommonStubOffset { get; private init; }
    /// <summary>The loader's read+execute pages: [<see cref="CanonicalLayout.End"/>, this + size).</summary>
    public long PrivateExecuteSize { get; private init; }
    public long HandlerSlotOffset { get; private init; }
    /// <summary>Read-write, never executable: one 8-byte slot per refusal stub (where the stub jumps), then the hot-swap slots.</summary>
    public long StubSlotsOffset { get; private init; }
    public long SwapSlotsOffset { get; private init; }
    /// <summary>Size of the read-write private part: stub slots and hot-swap slots, whole pages.</summary>
    public long SwapSlotsSize { get; private init; }
    public long TotalSize { get; private init; }
    public int StubCount { get; private init; }
    public int SwapEntries { get; private init; }

    /// <param name="swapEntries">Hot-swappable modules: entry thunks (read+execute) and 24-byte swap slots
    /// (read-write, never executable) for this many functions, including room for functions added later.</param>
    public static ModuleLayout Compute(CanonicalLayout canonical, int stubCount, int swapEntries)
    {
        long privateStart = canonical.End;
        long entryThunks = privateStart;
        long stubs = AlignUp(entryThunks + (long)swapEntries * ThunkSize, 16);
        long common = stubs + (long)stubCount * StubSize;
        long executeEnd = stubCount > 0 ? common + CommonStubSize : stubs;
        long executeSize = AlignUp(executeEnd - privateStart, PageSize);
        long handler = privateStart + executeSize;
        long stubSlots = handler + PageSize;
        long swapSlots = AlignUp(stubSlots + (long)stubCount * 8, 8);
        long swapSize = AlignUp(swapSlots + (long)swapEntries * SwapSlotSize, PageSize) - stubSlots;
        return new ModuleLayout
        {
            Canonical = canonical,
            EntryThunksOffset = entryThunks,
            StubsOffset = stubs,
            CommonStubOffset = common,
            PrivateExecuteSize = executeSize,
            HandlerSlotOffset = handler,
            StubSlotsOffset = stubSlots,
            SwapSlotsOffset = swapSlots,
            SwapSlotsSize = swapSize,
            TotalSize = stubSlots + swapSize,
            StubCount = stubCount,
            SwapEntries = swapEntries,
        };
    }

    /// <summary>The module's segments and their final protections, in address order; empty ones left out.</summary>
    public IEnumerable<(long Offset, long Length, PageProtection Protection)> Segments()
    {
        CanonicalLayout c = Canonical;
        (long, long, PageProtection)[] all =
        [
            (0, c.ReadOnlyOffset, PageProtection.ReadExecute),                                // import thunks
            (c.ReadOnlyOffset, c.WritableOffset - c.ReadOnlyOffset, PageProtection.ReadOnly), // read-only data, slots
            (c.WritableOffset, c.CodeOffset - c.WritableOffset, PageProtection.ReadWrite),    // writable data, zero-fill
            (c.CodeOffset, c.End - c.CodeOffset, PageProtection.ReadExecute),                 // code
            (c.End, PrivateExecuteSize, PageProtection.ReadExecute),                          // entry thunks, stubs
            (HandlerSlotOffset, PageSize, PageProtection.ReadOnly),                           // refused-call handler
            (StubSlotsOffset, SwapSlotsSize, PageProtection.ReadWrite),                       // stub slots, hot-swap slots
        ];
        foreach (var segment in all)
            if (segment.Item2 > 0) yield return segment;
    }

    public static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
