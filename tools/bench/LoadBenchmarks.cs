using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;
using BenchmarkDotNet.Attributes;

namespace AotCache.Bench;

/// <summary>Cold start (compile + write + link) and warm start (read, verify, map, relocate, link) by size.</summary>
[MemoryDiagnoser]
public class LoadBenchmarks
{
    private Workload _workload = null!;
    private string _path = "";

    [Params(1_000, 10_000, 100_000)]
    public int Functions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _workload = new Workload(Functions);
        _path = Path.Combine(Path.GetTempPath(), $"aotcache-bdn-{Functions}.aotc");
        AtomicFile.Write(_path, _workload.CompileAll());
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark]
    public int WarmStart()
    {
        using var module = LoadedModule.LoadFile(_path, Workload.LoadOptions());
        return module.Image.Functions.Length;
    }

    [Benchmark]
    public int ColdStart()
    {
        byte[] file = _workload.CompileAll();
        using var image = CacheImage.Read(file);
        using var module = LoadedModule.Load(image, Workload.LoadOptions());
        return module.Image.Functions.Length;
    }
}
