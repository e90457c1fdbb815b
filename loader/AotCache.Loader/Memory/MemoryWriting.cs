namespace AotCache.Loader.Memory;

/// <summary>Safe writes into read-write pages of a region, for code outside the memory layer (tools, benchmarks).</summary>
internal static class MemoryWriting
{
    /// <summary>Copies <paramref name="bytes"/> to <paramref name="offset"/> in a mapped, read-write region.</summary>
    public static void Write(this MemoryRegion region, long offset, ReadOnlySpan<byte> bytes)
    {
        if (offset < 0 || offset + bytes.Length > region.Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{bytes.Length} bytes at {offset} do not fit a {region.Size}-byte region");
        bytes.CopyTo(RegionAccess.AsSpan(region)[(int)offset..]);
    }
}
