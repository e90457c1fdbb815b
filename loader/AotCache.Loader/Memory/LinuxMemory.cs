using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.Loader.Memory;

/// <summary>
/// <see cref="IExecutableMemory"/> on Linux through mmap/mprotect/munmap. Regions are anonymous and
/// private; pages start read-write and become read+execute or read-only only after they were written.
/// </summary>
internal sealed partial class LinuxMemory : IExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int ProtNone = 0;
    private const int MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20, MapNoReserve = 0x4000, MapPopulate = 0x8000;
    private const int MadvDontNeed = 4, MadvHugePage = 14, MadvNoHugePage = 15, MadvPopulateWrite = 23;

    /// <summary>Regions from this size up ask for transparent huge pages (one 2 MiB page is also the unit).</summary>
    private const long HugePageSize = 2 << 20;
    private static readonly nint MapFailed = -1;

    public static readonly LinuxMemory Instance = new();

    private LinuxMemory() { }

    public int PageSize { get; } = Environment.SystemPageSize;

    /// <summary>The memory of this host, or an <see cref="AotCacheException"/> naming the platform when
    /// executable memory is not implemented for it.</summary>
    public static IExecutableMemory ForHost()
    {
        CheckPlatform(OperatingSystem.IsLinux(), RuntimeInformation.ProcessArchitecture, RuntimeInformation.OSDescription);
        return Instance;
    }

    /// <summary>Refuses any platform but Linux x86-64 with an error that names it [LOAD-6].</summary>
    internal static void CheckPlatform(bool isLinux, System.Runtime.InteropServices.Architecture architecture, string description)
    {
        if (!isLinux || architecture != System.Runtime.InteropServices.Architecture.X64)
            throw new AotCacheException(ErrorCode.UnsupportedPlatform, -1,
                $"executable memory is implemented for Linux x86-64 only; this host is {description} {architecture}");
    }

    public MemoryRegion Allocate(long size)
    {
        if (size <= 0 || size % PageSize != 0) throw new ArgumentOutOfRangeException(nameof(size), size, "a positive multiple of the page size");
        // Every page of a module is written during loading, and on the VMs this was measured on a first touch costs
        // 4.5–10 µs per 4 KiB page, so pages are faulted in up front: small regions with
        // MAP_POPULATE; regions of 2 MiB and more as transparent huge pages, which cut mapping, copying and
        // protecting a 6 MiB module from ~7.5 ms to ~0.4 ms here. A huge page needs a 2 MiB-aligned range, and
        // kernels align only some mappings, so the region is cut out of a larger one at a 2 MiB boundary.
        bool huge = size >= HugePageSize;
        nint address;
        if (!huge)
        {
            address = Mmap(0, (nuint)size, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapPopulate, -1, 0);
            if (address == MapFailed)
                throw new OutOfMemoryException($"mmap of {size} bytes failed: errno {Marshal.GetLastPInvokeError()}");
        }
        else
        {
            nint raw = Mmap(0, (nuint)(size + HugePageSize), ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (raw == MapFailed)
                throw new OutOfMemoryException($"mmap of {size} bytes failed: errno {Marshal.GetLastPInvokeError()}");
            address = (nint)(((long)raw + HugePageSize - 1) & ~(HugePageSize - 1));
            long head = address - raw, tail = HugePageSize - head;
            if ((head > 0 && Munmap(raw, (nuint)head) != 0) || (tail > 0 && Munmap(address + (nint)size, (nuint)tail) != 0))
                throw new InvalidOperationException($"munmap failed: errno {Marshal.GetLastPInvokeError()}");
            FaultInHuge(address, size);
        }
        return new MemoryRegion(address, size);
    }

    public void Protect(MemoryRegion region, long offset, long length, PageProtection protection)
    {
        if (offset < 0 || length < 0 || offset % PageSize != 0 || length % PageSize != 0 || offset + length > region.Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"pages {offset}+{length} are not whole pages of a {region.Size}-byte region");
        if (length == 0) return;
        int prot = protection switch
        {
            PageProtection.ReadWrite => ProtRead | ProtWrite,
            PageProtection.ReadExecute => ProtRead | ProtExec,
            PageProtection.ReadOnly => ProtRead,
            _ => throw new ArgumentOutOfRangeException(nameof(protection)),
        };
        if (Mprotect(region.Address + (nint)offset, (nuint)length, prot) != 0)
            throw new InvalidOperationException($"mprotect({protection}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Free(MemoryRegion region)
    {
        if (region.Size == 0) return;
        if (Munmap(region.Address, (nuint)region.Size) != 0)
            throw new InvalidOperationException($"munmap failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public MemoryRegion Reserve(long size)
    {
        if (size <= 0 || size % PageSize != 0) throw new ArgumentOutOfRangeException(nameof(size), size, "a positive multiple of the page size");
        nint address = Mmap(0, (nuint)size, ProtNone, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (address == MapFailed)
            throw new OutOfMemoryException($"reserving {size} bytes of address space failed: errno {Marshal.GetLastPInvokeError()}");
        return new MemoryRegion(address, size);
    }

    public void Commit(MemoryRegion region, long offset, long length)
    {
        Protect(region, offset, length, PageProtection.ReadWrite);
        if (length == 0) return;
        // Committed pages are about to be written whole: fault them in at once rather than one fault per page. Large
        // ranges (a module's code copy) as huge pages, as Allocate does; small ones (one new body, a data page) stay
        // 4 KiB pages: a huge page there would zero 2 MiB to write a few hundred bytes.
        if (length >= HugePageSize) FaultInHuge(region.Address + (nint)offset, length);
        else _ = Madvise(region.Address + (nint)offset, (nuint)length, MadvPopulateWrite);
    }

    public void CommitUntouched(MemoryRegion region, long offset, long length) => Protect(region, offset, length, PageProtection.ReadWrite);

    public bool TryMapFile(MemoryRegion region, long offset, long length, Microsoft.Win32.SafeHandles.SafeFileHandle file, long fileOffset, bool writable)
    {
        if (offset < 0 || length < 0 || offset % PageSize != 0 || length % PageSize != 0 || offset + length > region.Size || fileOffset % PageSize != 0)
            throw new ArgumentOutOfRangeException(nameof(offset), $"pages {offset}+{length} (file offset {fileOffset}) are not whole pages of a {region.Size}-byte region");
        if (length == 0) return true;
        // MAP_FIXED replaces the reserved pages in place; MAP_POPULATE maps the page-cache pages now, in one call.
        int prot = writable ? ProtRead | ProtWrite : ProtRead | ProtExec;
        nint at = Mmap(region.Address + (nint)offset, (nuint)length, prot, MapPrivate | MapFixed | MapPopulate, (int)file.DangerousGetHandle(), (nint)fileOffset);
        if (at == MapFailed)
        {
            // A failed MAP_FIXED may already have dropped the reservation there: put it back, so the caller can commit and copy.
            if (Mmap(region.Address + (nint)offset, (nuint)length, ProtNone, MapPrivate | MapFixed | MapAnonymous | MapNoReserve, -1, 0) == MapFailed)
                throw new InvalidOperationException($"restoring reserved pages after a failed file mapping failed: errno {Marshal.GetLastPInvokeError()}");
            return false;
        }
        if (at != region.Address + (nint)offset) throw new InvalidOperationException("mmap with MAP_FIXED returned another address");
        return true;
    }

    /// <summary>Asks for transparent huge pages and faults the range in. Both are hints a kernel may refuse (no THP;
    /// MADV_POPULATE_WRITE needs 5.14): then the pages are touched one by one, as MAP_POPULATE would have.</summary>
    private void FaultInHuge(nint address, long length)
    {
        _ = Madvise(address, (nuint)length, MadvHugePage);
        if (Madvise(address, (nuint)length, MadvPopulateWrite) == 0) return;
        for (long at = 0; at < length; at += PageSize) RegionAccess.AsSpan(address + (nint)at, 1)[0] = 0;
    }

    public void Decommit(MemoryRegion region, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset % PageSize != 0 || length % PageSize != 0 || offset + length > region.Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"pages {offset}+{length} are not whole pages of a {region.Size}-byte region");
        if (length == 0) return;
        nint at = region.Address + (nint)offset;
        // Drop the physical pages first (private anonymous pages read back as zero), then forbid access. A range
        // that was committed large keeps no huge-page advice for the small commits that may reuse it.
        if (Madvise(at, (nuint)length, MadvDontNeed) != 0 || Mprotect(at, (nuint)length, ProtNone) != 0)
            throw new InvalidOperationException($"decommitting pages failed: errno {Marshal.GetLastPInvokeError()}");
        _ = Madvise(at, (nuint)length, MadvNoHugePage);
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int prot);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
