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

    /// <summary>Reserves address space without memory behind it (no access). Hot-swappable modules reserve
    /// their code and all future bodies in one range, so every rel32 between them reaches by construction.</summary>
    MemoryRegion Reserve(long size);

    /// <summary>Makes whole pages of a reserved region usable, zeroed and read-write.</summary>
    void Commit(MemoryRegion region, long offset, long length);

    /// <summary>Returns whole pages of a reserved region to the system and makes them inaccessible again.</summary>
    void Decommit(MemoryRegion region, long offset, long length);
}

/// <summary>A mapped range: base address and size in bytes.</summary>
public readonly record struct MemoryRegion(nint Address, long Size)
{
    public nint End => Address + (nint)Size;
    public bool Contains(nint address) => address >= Address && address < End;
}
