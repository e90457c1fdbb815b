using System.Globalization;
using AotCache.Bench;
using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Reader;
using static AotCache.ConformanceTests.Unwind.UnwindChain;

namespace AotCache.ConformanceTests.Unwind;

/// <summary>
/// The perf map (<c>perf-PID.map</c>: <c>START SIZE NAME</c>, hex, one line per function), written on request at load and
/// appended by every hot-swap: checked line by line against the module's symbols and addresses, for a 10k-function
/// module, and through the Nib front end's <c>run --perf-map</c>.
/// </summary>
public sealed class PerfMapTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aotcache-perf-map-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string MapPath => Path.Combine(_directory, $"perf-{Environment.ProcessId}.map");

    private static List<(long Start, long Size, string Name)> Lines(string path) =>
        [.. System.IO.File.ReadAllLines(path).Select(line =>
        {
            string[] parts = line.Split(' ', 3);
            Assert.Equal(3, parts.Length);
            Assert.DoesNotContain("0x", parts[0]); // perf reads plain hex
            return (long.Parse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
                long.Parse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), parts[2]);
        })];

    [Fact]
    public void A_perf_map_names_all_10000_functions_of_a_module_at_their_addresses_and_sizes()
    {
        using CacheImage image = CacheImage.Read(new Workload(10_000).CompileAll());
        using LoadedModule module = LoadedModule.Load(image, Workload.LoadOptions() with { PerfMap = true, PerfMapDirectory = _directory });

        List<(long Start, long Size, string Name)> lines = Lines(MapPath);

        Assert.Equal(10_000, lines.Count);
        Assert.Equal(10_000, lines.Select(l => l.Name).Distinct().Count());
        foreach (var (start, size, name) in lines)
        {
            int function = image.FindFunction(name);
            Assert.True(function >= 0, $"the map names '{name}', which is not a function of the module");
            Assert.Equal((long)module.GetSymbolAddress(name), start);
            Assert.Equal(image.Functions[function].CodeSize, (uint)size);
        }
    }

    [Fact]
    public void A_hot_swap_appends_its_new_bodies_and_nothing_is_written_unless_asked()
    {
        using CacheImage image = CacheImage.Read(CacheFile());
        using var libc = new NativeLibraryResolver("libc.so.6");
        using (LoadedModule.Load(image, Options(LinkMode.Direct, libc) with { PerfMapDirectory = _directory, PerfMap = false }))
            Assert.False(System.IO.File.Exists(MapPath));

        using LoadedModule module = LoadedModule.Load(image, Options(LinkMode.HotSwappable, libc) with { PerfMap = true, PerfMapDirectory = _directory });
        Assert.Equal(Depth, Lines(MapPath).Count);

        FunctionBody body = RedefineF3(module, add: 2);

        List<(long Start, long Size, string Name)> lines = Lines(MapPath);
        Assert.Equal(Depth + 1, lines.Count);
        Frame frame = Trace(module, Depth + 1).Single(f => f.Function == "f3");
        Assert.Equal(((long)frame.BodyStart, (long)body.Code.Length, "f3"), lines[^1]);
        Assert.NotEqual(lines[^1].Start, lines.Single(l => l.Name == "f3" && l != lines[^1]).Start);
    }

    [Fact]
    public void Nib_run_with_perf_map_names_the_programs_functions_in_the_processs_map()
    {
        string program = Path.Combine(_directory, "p.nib");
        System.IO.File.WriteAllText(program, "fn twice(x: i64) -> i64 { return x * 2; }\nfn main() -> i64 { return twice(21); }\n");
        string map = Path.Combine("/tmp", $"perf-{Environment.ProcessId}.map"); // where perf looks: this test process's
        bool existed = System.IO.File.Exists(map);
        long before = existed ? new FileInfo(map).Length : 0;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try
        {
            int exit = Demo.Program.Run(["run", program, "--quiet", "--perf-map"], stdout, stderr);

            Assert.True(exit == 0, $"exit {exit}: {stderr}");
            Assert.Contains("main returned 42", stderr.ToString(), StringComparison.Ordinal);
            using var stream = new FileStream(map, FileMode.Open, FileAccess.Read, FileShare.ReadWrite) { Position = before };
            string[] added = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["main", "twice"], added.Select(l => l.Split(' ', 3)[2]).Order(StringComparer.Ordinal));
        }
        finally
        {
            if (!existed) System.IO.File.Delete(map);
        }
    }
}
