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

    /// <summary>Bytes at an address inside a live read-write mapping.</summary>
    public static Span<byte> AsSpan(nint address, int length) => new((void*)address, length);

    /// <summary>Reads the 8 bytes at an address inside a live mapping (for tests and tools inspecting slots).</summary>
    public static long ReadInt64(nint address) => Volatile.Read(ref *(long*)address);

    /// <summary>Stores 8 bytes at an 8-byte-aligned address as one atomic write with a full fence: threads
    /// executing <c>jmp [slot]</c> see either the old or the new value, never a torn one.</summary>
    public static void AtomicWriteInt64(nint address, long value)
    {
        if ((address & 7) != 0) throw new ArgumentException("slots are 8-byte aligned", nameof(address));
        Interlocked.Exchange(ref *(long*)address, value);
    }
}
