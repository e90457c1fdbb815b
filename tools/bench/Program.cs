using BenchmarkDotNet.Running;

namespace AotCache.Bench;

/// <summary>
/// <c>aotcache-bench --quick [--sizes 1000,10000,100000] [--repetitions 9] [--no-peer] [--no-remote]</c>: one JSON object of
/// ratios in about a minute, with the gcc peer's dlopen figures and memory figures (<c>--no-peer</c>: without the peer, which
/// needs gcc and, the first time, minutes of compiling) and, at 10k functions, the team cache's figures on a local
/// redis-server (<c>--no-remote</c>: without them). <c>--peer-only</c>, <c>--remote-only</c>: those figures alone.
/// Anything else is passed to BenchmarkDotNet (e.g. <c>--filter *</c>). Parsed by <see cref="BenchCommandLine"/> (System.CommandLine).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // The bench talking to itself (a child process it started), not a user's command line.
        if (args.Length > 0 && args[0] == Memory.LoaderChild.Switch) return Memory.LoaderChild.Run(args);
        if (BenchCommandLine.Parse(args, Console.Out, Console.Error, out int exit) is not { } run) return exit;
        switch (run.Mode)
        {
            case BenchMode.WarmLoop:
                return WarmLoop(run.WarmLoop.Functions, run.WarmLoop.Count, prelink: !run.Plain);
            case BenchMode.PeerOnly:
                return Peer.PeerFigures.RunPeerOnly(run.Sizes ?? DefaultSizes, Console.Error);
            case BenchMode.RemoteOnly:
                return QuickRun.RunRemoteOnly(run.Sizes ?? [10_000], Console.Error);
            case BenchMode.Quick:
                return QuickRun.Run(run.Sizes ?? DefaultSizes, run.Repetitions, Console.Error, peer: run.Peer, remote: run.Remote);
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. run.BenchmarkArguments]);
                return 0;
        }
    }

    private static readonly int[] DefaultSizes = [1_000, 10_000, 100_000];

    /// <summary><c>--warm-loop N COUNT [--plain]</c>: writes an N-function cache once (prelinked unless --plain), then
    /// loads it COUNT times and prints the median and best warm start with its parts (map, hash, validation from
    /// memory); for profilers (<c>perf record</c>) and for looking at one size closely.</summary>
    private static int WarmLoop(int functions, int count, bool prelink)
    {
        string path = Path.Combine(Path.GetTempPath(), $"aotcache-warm-loop-{functions}.aotc");
        Writer.AtomicFile.Write(path, new Workload(functions).CompileAll(prelink));
        var times = new List<double>();
        var reads = new List<double>();
        for (int i = 0; i < count; i++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var image = Reader.CacheImage.OpenFile(path);
            reads.Add(sw.Elapsed.TotalMilliseconds);
            using (var module = Loader.LoadedModule.Load(image, Workload.LoadOptions())) { }
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        var maps = new List<double>();
        var hashes = new List<double>();
        for (int i = 0; i < Math.Min(count, 50); i++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var file = Reader.Memory.MappedFile.OpenRead(path);
            maps.Add(sw.Elapsed.TotalMilliseconds);
            _ = Format.Checksums.FileChecksum(file.Memory.Span);
            hashes.Add(sw.Elapsed.TotalMilliseconds - maps[^1]);
        }
        maps.Sort();
        hashes.Sort();
        byte[] bytes = File.ReadAllBytes(path);
        foreach (var (name, options) in new[] { ("validate", Reader.ReadOptions.Default) })
        {
            var v = new List<double>();
            for (int i = 0; i < Math.Min(count, 50); i++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                using var image = Reader.CacheImage.Read(bytes, options);
                v.Add(sw.Elapsed.TotalMilliseconds);
            }
            v.Sort();
            Console.WriteLine($"  {name} from memory: median {v[v.Count / 2]:F3} ms, best {v[0]:F3} ms");
        }
        Console.WriteLine($"  map {maps[maps.Count / 2]:F3} ms, hash {hashes[hashes.Count / 2]:F3} ms (medians)");
        times.Sort();
        reads.Sort();
        Console.WriteLine($"warm start of {functions} functions: median {times[times.Count / 2]:F3} ms (of which open, map and validate {reads[reads.Count / 2]:F3} ms), best {times[0]:F3} ms over {count} loads");
        File.Delete(path);
        return 0;
    }
}
