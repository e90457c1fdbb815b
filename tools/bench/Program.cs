using BenchmarkDotNet.Running;

namespace AotCache.Bench;

/// <summary>
/// <c>aotcache-bench --quick [--sizes 1000,10000,100000] [--repetitions 9] [--no-peer] [--no-remote]</c>: one JSON object of
/// ratios in about a minute, with the gcc peer's dlopen figures and memory figures (<c>--no-peer</c>: without the peer, which
/// needs gcc and, the first time, minutes of compiling) and, at 10k functions, the team cache's figures on a local
/// redis-server (<c>--no-remote</c>: without them). <c>--peer-only</c>, <c>--remote-only</c>: those figures alone.
/// Anything else is passed to BenchmarkDotNet (e.g. <c>--filter *</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Memory.LoaderChild.Switch) return Memory.LoaderChild.Run(args);
        if (args.Length > 0 && args[0] == "--warm-loop")
            return WarmLoop(int.Parse(args[1]), int.Parse(args[2]), prelink: !args.Contains("--plain"), unwind: !args.Contains("--no-unwind"),
                unwindSection: !args.Contains("--no-unwind-section"));
        if (args.Contains("--quick") || args.Contains("--peer-only") || args.Contains("--remote-only"))
        {
            int[] sizes = [1_000, 10_000, 100_000];
            int repetitions = 9;
            for (int i = 0; i < args.Length - 1; i++)
            {
                if (args[i] == "--sizes") sizes = [.. args[i + 1].Split(',').Select(int.Parse)];
                if (args[i] == "--repetitions") repetitions = int.Parse(args[i + 1]);
            }
            if (args.Contains("--peer-only")) return Peer.PeerFigures.RunPeerOnly(sizes, Console.Error);
            if (args.Contains("--remote-only")) return QuickRun.RunRemoteOnly(args.Contains("--sizes") ? sizes : [10_000], Console.Error);
            return QuickRun.Run(sizes, repetitions, Console.Error, peer: !args.Contains("--no-peer"), remote: !args.Contains("--no-remote"));
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    /// <summary><c>--warm-loop N COUNT [--plain] [--no-unwind] [--no-unwind-section]</c>: writes an N-function cache once
    /// (prelinked unless --plain; without an Unwind section with --no-unwind-section), then loads it COUNT times
    /// (registering unwind information unless --no-unwind) and prints the median and
    /// best warm start with its parts (map, hash, validation from memory); for profilers (<c>perf record</c>) and for
    /// looking at one size closely.</summary>
    private static int WarmLoop(int functions, int count, bool prelink, bool unwind, bool unwindSection)
    {
        string path = Path.Combine(Path.GetTempPath(), $"aotcache-warm-loop-{functions}.aotc");
        byte[] written = new Workload(functions).CompileAll(prelink);
        Writer.AtomicFile.Write(path, unwindSection ? written : QuickRun.WithoutUnwind(written, prelink));
        var times = new List<double>();
        var reads = new List<double>();
        for (int i = 0; i < count; i++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var image = Reader.CacheImage.OpenFile(path);
            reads.Add(sw.Elapsed.TotalMilliseconds);
            using (var module = Loader.LoadedModule.Load(image, Workload.LoadOptions() with { RegisterUnwindInfo = unwind })) { }
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
