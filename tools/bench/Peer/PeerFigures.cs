using System.Globalization;
using System.Text.Json;
using AotCache.Bench.Memory;
using AotCache.Writer;

namespace AotCache.Bench.Peer;

/// <summary>
/// The figures of the quick run that need a process of their own: the gcc peer (glibc dlopen of a Workload-shaped
/// shared object; <see cref="PeerSource"/>) timed in freshly forked children and as a whole process, and the memory a
/// loaded module costs, for the AotCache loader and for the peer (<see cref="SharingProbe"/>). Added as keys of each
/// size's object in the quick run's JSON; without gcc the peer's keys are left out and the loader's stay.
/// </summary>
public sealed class PeerFigures
{
    /// <summary>dlopen repetitions (each in a fresh fork) and whole-process runs; both after one unmeasured run.</summary>
    public const int DlopenRepetitions = 21, ProcessRuns = 21;

    private readonly TextWriter _log;
    private readonly string _directory;
    private readonly string? _driver;
    private readonly Dictionary<int, string> _objects = [];
    private readonly Dictionary<int, long> _expected = [];
    private string? _warmup;

    /// <summary>Times whole processes; reusable for any command line (the peer driver spawns them when it exists).</summary>
    public CommandTimer Timer { get; }

    /// <summary>Whether the peer was built (gcc is there and it was asked for).</summary>
    public bool HasPeer => _driver is not null;

    private PeerFigures(TextWriter log, string directory, string? driver)
    {
        _log = log;
        _directory = directory;
        _driver = driver;
        Timer = new CommandTimer(driver);
    }

    /// <summary>
    /// Builds (or finds cached) the peer objects for every size and the driver, before anything is measured, so that
    /// gcc never runs beside a measurement. <paramref name="directory"/> holds the run's scratch files.
    /// </summary>
    public static PeerFigures Prepare(int[] sizes, bool withPeer, string directory, TextWriter log)
    {
        if (!withPeer) return new PeerFigures(log, directory, null);
        PeerToolchain? toolchain = PeerToolchain.TryCreate(log, out string? reason);
        if (toolchain is null)
        {
            log.WriteLine($"[peer] skipping the gcc peer's figures (dlopen_*, warm_over_dlopen, peer_so_bytes): {reason}");
            return new PeerFigures(log, directory, null);
        }
        var figures = new PeerFigures(log, directory, toolchain.Driver());
        foreach (int n in sizes) figures._objects[n] = toolchain.SharedObject(n, Workload.DefaultSeed);
        return figures;
    }

    private long Expected(int n) =>
        _expected.TryGetValue(n, out long v) ? v : _expected[n] = PeerSource.Expected(n, Workload.DefaultSeed, PeerSource.EntryArgument);

    private static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// dlopen(RTLD_NOW) + dlsym + one call, each in a freshly forked child: <c>dlopen_ms</c> (median) and
    /// <c>dlopen_best_ms</c>; with the loader's warm start of this run, <c>warm_over_dlopen</c>.
    /// </summary>
    public void AddDlopen(int n, double? warmSeconds, Dictionary<string, object> figures)
    {
        if (_driver is null) return;
        ProcessResult result = ProcessResult.RunChecked(_driver,
            ["time", _objects[n], Text(DlopenRepetitions), Text(PeerSource.EntryArgument)], TimeSpan.FromMinutes(5));
        var times = new List<double>();
        foreach (string line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(' ');
            if (parts[1] != Text(Expected(n)))
                throw new InvalidOperationException($"the gcc peer's f0({PeerSource.EntryArgument}) returned {parts[1]}, not {Expected(n)}");
            times.Add(long.Parse(parts[0], CultureInfo.InvariantCulture) / 1e9);
        }
        double median = Stats.Median(times);
        figures["dlopen_ms"] = Round(median * 1000);
        figures["dlopen_best_ms"] = Round(times.Min() * 1000);
        if (warmSeconds is { } warm) figures["warm_over_dlopen"] = Round(warm / median);
        _log.WriteLine($"[{n} functions] gcc peer: dlopen + dlsym + call {median * 1000:F3} ms (best {times.Min() * 1000:F3} ms) in a fresh fork");
    }

    /// <summary>
    /// The whole-process figure (<c>dlopen_process_ms</c>) and the memory figures: the loader's for the cache file at
    /// <paramref name="cachePath"/> (when given) and the peer's.
    /// </summary>
    public void AddProcessAndMemory(int n, string? cachePath, Dictionary<string, object> figures)
    {
        string expected = Text(Expected(n));
        if (cachePath is not null)
        {
            _warmup ??= WriteWarmup();
            MemoryFigures loader = SharingProbe.Measure(LoaderChild.CommandLine(cachePath, _warmup), LoaderChild.CommandLine("-", _warmup), expected);
            long fileBytes = new FileInfo(cachePath).Length;
            Add(figures, "loader", loader, fileBytes);
            figures["four_process_pss_over_one"] = Round(loader.FourOverOne);
            Log(n, "loader", loader, fileBytes);
        }
        if (_driver is null) return;
        string so = _objects[n];
        double process = Timer.Median([_driver, "run", so, Text(PeerSource.EntryArgument)], ProcessRuns);
        figures["dlopen_process_ms"] = Round(process * 1000);
        MemoryFigures peer = SharingProbe.Measure([_driver, "hold", so, Text(PeerSource.EntryArgument)], [_driver, "hold", "-", "0"], expected);
        long soBytes = new FileInfo(so).Length;
        figures["peer_so_bytes"] = soBytes;
        Add(figures, "dlopen", peer, soBytes);
        figures["dlopen_four_process_pss_over_one"] = Round(peer.FourOverOne);
        _log.WriteLine($"[{n} functions] gcc peer: a whole process that dlopens and calls {process * 1000:F2} ms");
        Log(n, "gcc peer", peer, soBytes);
    }

    private static void Add(Dictionary<string, object> figures, string prefix, MemoryFigures m, long fileBytes)
    {
        figures[$"{prefix}_private_kb"] = m.Private.PrivateKb;
        figures[$"{prefix}_private_dirty_kb"] = m.Private.PrivateDirtyKb;
        figures[$"{prefix}_private_over_file"] = Round(m.Private.PrivateKb * 1024.0 / fileBytes);
        figures[$"{prefix}_pss_kb"] = m.OnePssKb;
    }

    private void Log(int n, string who, MemoryFigures m, long fileBytes) =>
        _log.WriteLine($"[{n} functions] {who} memory: private {m.Private.PrivateKb} KB (dirty {m.Private.PrivateDirtyKb}, rss {m.Private.RssKb}) " +
            $"for a {fileBytes / 1024} KB file; extra Pss of one process {m.OnePssKb} KB, of four {m.FourPssKb} KB");

    /// <summary>A tiny cache file the loader's children load before measuring (see <see cref="LoaderChild"/>).</summary>
    private string WriteWarmup()
    {
        string path = Path.Combine(_directory, "child-warmup.aotc");
        AtomicFile.Write(path, new Workload(8).CompileAll());
        return path;
    }

    /// <summary><c>--peer-only</c>: the peer's figures alone, as one JSON object like the quick run's.</summary>
    public static int RunPeerOnly(int[] sizes, TextWriter log)
    {
        string directory = Directory.CreateTempSubdirectory("aotcache-bench-").FullName;
        try
        {
            PeerFigures peer = Prepare(sizes, withPeer: true, directory, log);
            if (!peer.HasPeer) return 1;
            var result = new Dictionary<string, object>();
            foreach (int n in sizes)
            {
                var figures = new Dictionary<string, object>();
                peer.AddDlopen(n, warmSeconds: null, figures);
                peer.AddProcessAndMemory(n, cachePath: null, figures);
                result[$"n{n}"] = figures;
            }
            result["machine"] = QuickRun.Machine;
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Round(double v) => Math.Round(v, 3);
}
