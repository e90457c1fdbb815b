namespace AotCache.Loader.Memory;

/// <summary>The one place where mapped memory becomes a span: everything above this layer writes and
/// patches through bounds-checked spans.</summary>
internal static unsafe class RegionAccess
{
    /// <summary>The region's bytes. Valid only while the region is mapped and read-write.</summary>
    public static Span<byte> AsSpan(MemoryRegion region) =>
        region.Size > int.MaxValue
            ? throw new ArgumentOutOfRangeException(nameof(region), "regions above 2 GiB are never created")
            : new Span<byte>((void*)region.Address, (int)region.Size);

    /// <summary>Reads the 8 bytes at an address inside a live mapping (for tests and tools inspecting slots).</summary>
    public static long ReadInt64(nint address) => *(long*)address;
}
