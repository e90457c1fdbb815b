using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Loader.Linking;

/// <summary>
/// Where everything of one module goes in its single mapping. Three page-aligned segments:
/// <list type="bullet">
/// <item>read+execute: the code section as one block, then import thunks and refusal stubs;</item>
/// <item>read-only: read-only data as one block, then the 8-byte slots (import addresses, trap handler);</item>
/// <item>read-write: writable data as one block, then the zero-fill area.</item>
/// </list>
/// Offsets inside the code and data blocks equal the offsets in the file's sections, so a function's
/// address is the code base plus its code offset: no per-function placement.
/// </summary>
internal sealed class ModuleLayout
{
    public const int ThunkSize = 8;         // jmp [rip+disp32] (6 bytes) + 2 × int3
    public const int StubSize = 16;         // mov esi, imm32; jmp rel32 common; int3 padding
    public const int CommonStubSize = 48;
    /// <summary>A hot-swappable module's per-function slot (read-write, never executable): code pointer, signature hash, generation.</summary>
    public const int SwapSlotSize = 24;

    public long CodeSize;
    public long ThunksOffset, EntryThunksOffset, StubsOffset, CommonStubOffset;
    public long ExecuteSize;

    public long ReadOnlyOffset;             // segment start
    public long ReadOnlyDataSize;           // bytes [0, roEnd) of the data section
    public long SlotsOffset;                // absolute offset in the region
    public long ReadOnlySize;

    public long WritableOffset;             // segment start
    public long WritableDataFloor;          // data-section offset mapped to the segment start (page floor of the first writable object)
    public long WritableDataStart, WritableDataEnd;
    public long ZeroFillOffset;             // absolute offset in the region
    public long SwapSlotsOffset;            // absolute offset in the region (hot-swappable modules)
    public long WritableSize;

    public long TotalSize;

    public int SlotCount, ThunkCount, StubCount, SwapEntries;

    /// <param name="swapEntries">Hot-swappable modules: entry thunks (read+execute) and 24-byte swap slots
    /// (read-write, never executable) for this many functions, including room for functions added later.</param>
    public static ModuleLayout Compute(CacheImage image, int slotCount, int thunkCount, int stubCount, int pageSize, int swapEntries = 0)
    {
        var l = new ModuleLayout { SlotCount = slotCount, ThunkCount = thunkCount, StubCount = stubCount, SwapEntries = swapEntries };
        l.CodeSize = image.Code.Length;
        l.ThunksOffset = AlignUp(l.CodeSize, 16);
        l.EntryThunksOffset = l.ThunksOffset + (long)thunkCount * ThunkSize;
        l.StubsOffset = AlignUp(l.EntryThunksOffset + (long)swapEntries * ThunkSize, 16);
        l.CommonStubOffset = l.StubsOffset + (long)stubCount * StubSize;
        long executeEnd = stubCount > 0 ? l.CommonStubOffset + CommonStubSize : l.StubsOffset;
        l.ExecuteSize = AlignUp(executeEnd, pageSize);

        long roEnd = 0, rwStart = -1, rwEnd = 0;
        foreach (DataObjectRecord d in image.DataObjects)
        {
            if (d.Kind == DataKind.ReadOnly) roEnd = Math.Max(roEnd, (long)d.Offset + d.Size);
            else if (d.Kind == DataKind.Writable)
            {
                if (rwStart < 0) rwStart = d.Offset;
                rwEnd = Math.Max(rwEnd, (long)d.Offset + d.Size);
            }
        }
        l.ReadOnlyOffset = l.ExecuteSize;
        l.ReadOnlyDataSize = roEnd;
        l.SlotsOffset = l.ReadOnlyOffset + AlignUp(roEnd, 8);
        l.ReadOnlySize = AlignUp(AlignUp(roEnd, 8) + (long)slotCount * 8, pageSize);

        l.WritableOffset = l.ReadOnlyOffset + l.ReadOnlySize;
        if (rwStart < 0) rwStart = rwEnd = 0;
        l.WritableDataStart = rwStart;
        l.WritableDataEnd = rwEnd;
        l.WritableDataFloor = rwStart / pageSize * pageSize; // keeps every alignment up to a page
        long rwBytes = AlignUp(rwEnd - l.WritableDataFloor, pageSize);
        l.ZeroFillOffset = l.WritableOffset + rwBytes;
        l.SwapSlotsOffset = l.ZeroFillOffset + AlignUp(image.ZeroFillSize, pageSize);
        l.WritableSize = rwBytes + AlignUp(image.ZeroFillSize, pageSize) + AlignUp((long)swapEntries * SwapSlotSize, pageSize);

        l.TotalSize = Math.Max(pageSize, l.ExecuteSize + l.ReadOnlySize + l.WritableSize);
        return l;
    }

    /// <summary>Offset in the region of a data object's first byte.</summary>
    public long DataObjectOffset(in DataObjectRecord d) => d.Kind switch
    {
        DataKind.ReadOnly => ReadOnlyOffset + d.Offset,
        DataKind.Writable => WritableOffset + (d.Offset - WritableDataFloor),
        _ => ZeroFillOffset + d.Offset,
    };

    public static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
