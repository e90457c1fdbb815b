using AotCache.Loader;
using AotCache.Loader.Memory;
using AotCache.Reader;
using static AotCache.ConformanceTests.HotSwap.SwapCode;

namespace AotCache.ConformanceTests.Loading;

/// <summary>
/// W^X audit at every step: a memory layer that checks /proc/self/maps after each allocation,
/// reservation, commit, protection change and decommit the loader makes, during load, link and hot-swap.
/// </summary>
public class WxAuditTests
{
    private sealed class AuditingMemory(IExecutableMemory inner) : IExecutableMemory
    {
        private readonly List<MemoryRegion> _regions = [];
        public int Audits { get; private set; }
        public List<string> Violations { get; } = [];
        public int PageSize => inner.PageSize;

        public MemoryRegion Allocate(long size) => Track(inner.Allocate(size), "allocate");
        public MemoryRegion Reserve(long size) => Track(inner.Reserve(size), "reserve");
        public void Commit(MemoryRegion region, long offset, long length) { inner.Commit(region, offset, length); Audit("commit"); }
        public void Decommit(MemoryRegion region, long offset, long length) { inner.Decommit(region, offset, length); Audit("decommit"); }
        public void Protect(MemoryRegion region, long offset, long length, PageProtection protection) { inner.Protect(region, offset, length, protection); Audit($"protect {protection}"); }

        public void Free(MemoryRegion region)
        {
            inner.Free(region);
            _regions.Remove(region);
            Audit("free");
        }

        private MemoryRegion Track(MemoryRegion region, string step)
        {
            _regions.Add(region);
            Audit(step);
            return region;
        }

        private void Audit(string step)
        {
            Audits++;
            foreach (MemoryRegion r in _regions)
                foreach (var m in ProcessMaps.Overlapping(r.Address, r.Size))
                    if (m.Writable && m.Executable) Violations.Add($"after {step}: {m.Start:x}-{m.End:x} {m.Permissions}");
        }
    }

    [Fact]
    public void LOAD_4_no_mapping_is_ever_writable_and_executable_during_load_link_and_hot_swap()
    {
        var memory = new AuditingMemory(LinuxMemory.Instance);
        using var image = CacheImage.Read(Module(
        [
            ("g", 7, NoParams, []),
            ("f", 100, NoParams, [new Call("g", NoParams)]),
        ]));
        using (var module = LoadedModule.Load(image, new LoadOptions { LinkMode = LinkMode.HotSwappable, Memory = memory }))
        {
            for (int i = 0; i < 20; i++)
                module.BeginUpdate()
                    .Redefine("g", Update(i, NoParams, [], padding: 5000))
                    .Add($"n{i}", Update(i, NoParams, [new Call("f", NoParams)]))
                    .Commit();
            Assert.Equal(100 + 19 + 19, module.Invoke("n19").AsI64);
        }
        using (var direct = LoadedModule.Load(image, new LoadOptions { Memory = memory }))
            Assert.Equal(107, direct.Invoke("f").AsI64);
        Assert.True(memory.Audits > 40, $"only {memory.Audits} audited steps");
        Assert.Empty(memory.Violations);
    }
}
