using AotCache.Loader;
using AotCache.Loader.Memory;

namespace AotCache.Fuzz;

/// <summary>
/// Resolves every import to a distinct address inside one page of <see cref="ManagedMemory"/>: near the
/// module, so that PC-relative references to imports reach and relocation is exercised; never called.
/// </summary>
public sealed class DummyImports(ManagedMemory memory) : IImportResolver, IDisposable
{
    private readonly MemoryRegion _page = memory.Allocate(memory.PageSize);
    private int _next;

    public bool TryResolve(in ImportRequest import, out nint address)
    {
        address = _page.Address + 16 * (_next++ % (memory.PageSize / 16));
        return true;
    }

    public void Dispose() => memory.Free(_page);
}
