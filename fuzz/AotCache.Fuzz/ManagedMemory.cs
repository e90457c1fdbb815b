using System.Runtime.InteropServices;
using AotCache.Loader.Memory;

namespace AotCache.Fuzz;

/// <summary>
/// <see cref="IExecutableMemory"/> over pinned managed arrays: the loader lays out, copies and relocates
/// into it exactly as into mmap'd pages, but nothing here is ever executable (protection changes are only
/// checked and recorded), so fuzzed code is linked and never run. A budget bounds what one input may ask for.
/// </summary>
public sealed class ManagedMemory(long budget) : IExecutableMemory
{
    private readonly Dictionary<nint, byte[]> _live = [];
    private long _used;

    public int PageSize => 4096;

    /// <summary>Bytes currently allocated or reserved.</summary>
    public long Used => _used;

    /// <summary>Regions not yet freed.</summary>
    public int LiveRegions => _live.Count;

    public MemoryRegion Allocate(long size) => Map(size);

    public MemoryRegion Reserve(long size) => Map(size);

    public void Protect(MemoryRegion region, long offset, long length, PageProtection protection) => CheckPages(region, offset, length);

    public void Commit(MemoryRegion region, long offset, long length) => CheckPages(region, offset, length);

    public void Decommit(MemoryRegion region, long offset, long length)
    {
        CheckPages(region, offset, length);
        // Decommitted pages read back as zero when committed again, as with madvise(DONTNEED).
        byte[] backing = Backing(region);
        long start = region.Address - Marshal.UnsafeAddrOfPinnedArrayElement(backing, 0) + offset;
        backing.AsSpan((int)start, (int)length).Clear();
    }

    public void Free(MemoryRegion region)
    {
        if (region.Size == 0) return;
        Backing(region);
        _live.Remove(region.Address);
        _used -= region.Size;
    }

    /// <summary>Fails the way the real loader's memory would on a misuse: such a call is a loader bug, not bad input.</summary>
    private void CheckPages(MemoryRegion region, long offset, long length)
    {
        Backing(region);
        if (offset < 0 || length < 0 || offset % PageSize != 0 || length % PageSize != 0 || offset + length > region.Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"pages {offset}+{length} are not whole pages of a {region.Size}-byte region");
    }

    private byte[] Backing(MemoryRegion region) =>
        _live.TryGetValue(region.Address, out byte[]? backing) && region.Size <= backing.Length - PageSize
            ? backing
            : throw new InvalidOperationException($"region 0x{region.Address:x}+{region.Size} was not allocated here or was freed");

    private MemoryRegion Map(long size)
    {
        if (size <= 0 || size % PageSize != 0) throw new ArgumentOutOfRangeException(nameof(size), size, "a positive multiple of the page size");
        // RegionAccess.AsSpan cannot address a region above 2 GiB: asking for one is the loader's bug, whatever the input.
        if (size > int.MaxValue) throw new InvalidOperationException($"the loader asked for a {size}-byte region; regions above 2 GiB cannot be addressed");
        if (_used + size > budget) throw new HarnessLimitException($"the input needs {size} bytes of module memory; the harness allows {budget}");
        // Pinned arrays are zeroed and never move; one spare page lets the region start on a page boundary.
        byte[] backing = GC.AllocateArray<byte>((int)size + PageSize, pinned: true);
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(backing, 0);
        nint address = (start + PageSize - 1) & ~(nint)(PageSize - 1);
        _live.Add(address, backing);
        _used += size;
        return new MemoryRegion(address, size);
    }
}

/// <summary>An input asked for more than the harness lends (memory): not a finding, the input is skipped.</summary>
public sealed class HarnessLimitException(string message) : Exception(message);
