namespace AotCache.Loader.Memory;

/// <summary>Page protections a loader uses. There is deliberately no read-write-execute value.</summary>
public enum PageProtection
{
    ReadWrite,
    ReadExecute,
    ReadOnly,
}

/// <summary>
/// Page-granular memory for one module: allocated read-write, then each range switched to its final
/// protection. No implementation ever maps a page writable and executable at once.
/// </summary>
public interface IExecutableMemory
{
    /// <summary>Bytes per page.</summary>
    int PageSize { get; }

    /// <summary>Maps <paramref name="size"/> bytes (a multiple of the page size), zeroed, read-write.</summary>
    MemoryRegion Allocate(long size);

    /// <summary>Changes the protection of whole pages inside a region.</summary>
    void Protect(MemoryRegion region, long offset, long length, PageProtection protection);

    /// <summary>Unmaps a region.</summary>
    void Free(MemoryRegion region);
}

/// <summary>A mapped range: base address and size in bytes.</summary>
public readonly record struct MemoryRegion(nint Address, long Size)
{
    public nint End => Address + (nint)Size;
    public bool Contains(nint address) => address >= Address && address < End;
}
