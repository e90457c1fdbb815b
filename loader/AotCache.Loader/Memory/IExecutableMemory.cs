namespace AotCache.Loader.Memory;

/// <summary>Page protections a loader uses. There is deliberately no read-write-execute value.</summary>
public enum PageProtection
{
    /// <summary>Readable and writable, never executable.</summary>
    ReadWrite,
    /// <summary>Readable and executable, never writable.</summary>
    ReadExecute,
    /// <summary>Readable only.</summary>
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

    /// <summary>Like <see cref="Commit"/>, for pages that may never be touched (a zero-fill area): no memory is
    /// spent on a page until it is first written.</summary>
    void CommitUntouched(MemoryRegion region, long offset, long length) => Commit(region, offset, length);

    /// <summary>
    /// Maps <paramref name="length"/> bytes of an open file from <paramref name="fileOffset"/> over whole pages of a
    /// reserved region, private: the pages come from the page cache, shared with every process mapping the file, until
    /// one is written (then that page alone is copied). Read-write when <paramref name="writable"/> (to be protected
    /// later), else read+execute at once. False when this memory cannot map files: the caller copies instead.
    /// </summary>
    bool TryMapFile(MemoryRegion region, long offset, long length, Microsoft.Win32.SafeHandles.SafeFileHandle file, long fileOffset, bool writable) => false;
}

/// <summary>A mapped range: base address and size in bytes.</summary>
public readonly record struct MemoryRegion(nint Address, long Size)
{
    /// <summary>The first address after the region.</summary>
    public nint End => Address + (nint)Size;
    /// <summary>Whether <paramref name="address"/> lies inside the region.</summary>
    public bool Contains(nint address) => address >= Address && address < End;
}
