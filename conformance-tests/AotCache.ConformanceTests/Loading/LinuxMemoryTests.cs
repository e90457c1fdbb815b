using AotCache.Loader.Memory;

namespace AotCache.ConformanceTests.Loading;

/// <summary>The Linux memory layer's own promises: regions are exactly what was asked for, faulted in, zeroed,
/// and large ones start on a 2 MiB boundary so that they can be backed by huge pages.</summary>
public sealed class LinuxMemoryTests
{
    [Theory]
    [InlineData(4096)]
    [InlineData(600 * 1024)]
    [InlineData(2 << 20)]
    [InlineData((3 << 20) + 4096)]
    public void A_region_is_zeroed_read_write_memory_of_exactly_its_size(int size)
    {
        IExecutableMemory memory = LinuxMemory.Instance;
        MemoryRegion region = memory.Allocate(size);
        try
        {
            Assert.Equal(size, region.Size);
            if (size >= 2 << 20) Assert.Equal(0, region.Address % (2 << 20));
            // Mapped read-write throughout (a neighbouring mapping may merge with it, so its extent is not checked).
            List<ProcessMaps.Mapping> maps = ProcessMaps.Overlapping(region.Address, size);
            Assert.NotEmpty(maps);
            Assert.All(maps, m => Assert.Equal("rw-p", m.Permissions));
            Assert.True(maps.Min(m => m.Start) <= (ulong)region.Address && maps.Max(m => m.End) >= (ulong)region.Address + (ulong)size);
            Span<byte> bytes = RegionAccess.AsSpan(region);
            Assert.True(bytes.IndexOfAnyExcept((byte)0) < 0);
            bytes.Fill(0x5A);
            Assert.Equal(0x5A, bytes[^1]);
        }
        finally
        {
            memory.Free(region);
        }
    }
}
