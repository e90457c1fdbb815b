using System.Diagnostics;
using AotCache.Demo.Build;
using AotCache.Demo.Generator;
using AotCache.Demo.Remote;
using AotCache.Remote;

namespace AotCache.Bench.Remote;

/// <summary>
/// The team cache's figures (REMOTE.md): a Nib build on a fresh machine (an empty cache directory) whose store already
/// holds every function, against a cold offline build (parse, compile everything, write) and against a warm local
/// build (the previous build's cache is current); the bytes a fetch moves per function; what uploading costs a cold
/// build. The store is a real redis-server on loopback, started as the Remote tests start theirs; entries are
/// HMAC-signed, and fetched both by a client that checks the signatures and by one without keys.
/// </summary>
public static class RemoteFigures
{
    private const int Repetitions = 5;

    private static readonly string TeamKey = $"hmac team {Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)])}\n";

    /// <summary>Adds the <c>remote_*</c> keys for an <paramref name="n"/>-function program to <paramref name="into"/>, or
    /// logs why not (no redis-server).</summary>
    public static void Add(int n, string directory, TextWriter log, Dictionary<string, object> into)
    {
        using BenchRedis? redis = BenchRedis.TryStart(out string? reason);
        if (redis is null)
        {
            log.WriteLine($"[remote] skipping the team-cache figures (remote_*): {reason}");
            return;
        }
        string root = Directory.CreateDirectory(Path.Combine(directory, "remote")).FullName;
        string keyFile = Path.Combine(root, "team.key");
        File.WriteAllText(keyFile, TeamKey);
        // Function entries only for the per-function figures; module entries (REMOTE.md §10) are measured on their own below.
        var settings = new RemoteSettings(RemoteAddress.Parse(redis.Address), keyFile, false, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30))
        { Modules = false };
        var withModules = settings with { Modules = true };
        var unsigned = settings with { KeyFile = null, ReadOnly = true };
        int machines = 0;
        string Fresh() => Directory.CreateDirectory(Path.Combine(root, $"m{machines++}")).FullName;

        // The JIT's first calls, on a small program through every path measured below; then a clean store.
        string small = ProgramGenerator.Generate(new GeneratorOptions(300, Seed: 11));
        Build(small, Fresh(), null);
        Build(small, Fresh(), settings);
        Build(small, Fresh(), settings);
        Build(small, Fresh(), unsigned);
        Build(small, Fresh(), withModules);
        Build(small, Fresh(), withModules);

        string text = ProgramGenerator.Generate(new GeneratorOptions(n, Seed: 7));
        log.WriteLine($"[remote] {n} functions: cold builds, one uploading, then fresh machines fetching from the store...");
        var cold = new List<double>();
        for (int r = 0; r < 3; r++) cold.Add(Build(text, Fresh(), null).Seconds);
        var upload = Build(text, Fresh(), settings);
        Require(upload.Remote!.Uploaded + upload.Remote.Hits == n + 2, $"the uploading build stored {upload.Remote.Uploaded} of {n + 2} entries: {upload.Summary}");

        var fetched = new List<Run>();
        var fetchedUnsigned = new List<Run>();
        for (int r = 0; r < Repetitions; r++)
        {
            fetched.Add(Build(text, Fresh(), settings));
            fetchedUnsigned.Add(Build(text, Fresh(), unsigned));
        }
        foreach (Run run in fetched.Concat(fetchedUnsigned))
            Require(run.Result.Fetched == n + 2 && run.Result.Compiled == 0, $"a fresh machine compiled: {run.Summary}");
        // Module entries: one build uploads the program's module entry (its function entries are already there), then
        // fresh machines take the whole cache from it, analysing nothing.
        var moduleUpload = Build(text, Fresh(), withModules);
        Require(moduleUpload.Remote!.Modules!.Uploaded == StoreOutcome.Stored,
            $"the module upload did not store: {moduleUpload.Summary}");
        var fromModule = new List<Run>();
        for (int r = 0; r < Repetitions; r++) fromModule.Add(Build(text, Fresh(), withModules));
        foreach (Run run in fromModule)
            Require(run.Result.RemoteModule is not null && run.Result.Compiled == 0, $"a fresh machine missed the module entry: {run.Summary}");
        string warmMachine = Fresh();
        Build(text, warmMachine, settings);
        var warm = new List<double>();
        for (int r = 0; r < Repetitions; r++) warm.Add(Build(text, warmMachine, settings).Seconds);

        double coldMedian = Median(cold);
        Run median = fetched.OrderBy(r => r.Seconds).ElementAt(fetched.Count / 2);
        Run medianUnsigned = fetchedUnsigned.OrderBy(r => r.Seconds).ElementAt(fetchedUnsigned.Count / 2);
        RemoteStatistics stats = median.Remote!.StoreStatistics;
        Run moduleMedian = fromModule.OrderBy(r => r.Seconds).ElementAt(fromModule.Count / 2);
        into["remote_module_fresh_over_cold"] = Round(coldMedian / moduleMedian.Seconds);
        into["remote_module_fresh_ms"] = Round(moduleMedian.Seconds * 1000);
        into["remote_module_fetch_and_check_ms"] = Round(moduleMedian.Result.RemoteModule!.FetchTime.TotalMilliseconds);
        into["remote_module_write_ms"] = Round(moduleMedian.Result.WriteTime.TotalMilliseconds);
        into["remote_module_bytes_in"] = moduleMedian.Remote!.StoreStatistics.BytesIn;
        into["remote_module_bytes_in_per_function"] = Math.Round((double)moduleMedian.Remote.StoreStatistics.BytesIn / (n + 2));
        into["remote_module_round_trips"] = moduleMedian.Remote.StoreStatistics.RoundTrips;
        into["remote_module_bytes_out"] = moduleUpload.Remote.Modules.BytesOut;
        into["remote_module_fresh_over_warm_local"] = Round(moduleMedian.Seconds / Median(warm));
        into["remote_fresh_over_cold"] = Round(coldMedian / median.Seconds);
        into["remote_fresh_unsigned_over_cold"] = Round(coldMedian / medianUnsigned.Seconds);
        into["remote_fresh_over_warm_local"] = Round(median.Seconds / Median(warm));
        into["remote_fresh_ms"] = Round(median.Seconds * 1000);
        into["remote_fresh_unsigned_ms"] = Round(medianUnsigned.Seconds * 1000);
        into["remote_cold_ms"] = Round(coldMedian * 1000);
        into["remote_warm_local_ms"] = Round(Median(warm) * 1000);
        into["remote_cold_with_upload_over_cold"] = Round(upload.Seconds / coldMedian);
        into["remote_bytes_in_per_function"] = Math.Round((double)stats.BytesIn / (n + 2));
        into["remote_bytes_out_per_function"] = Math.Round((double)upload.Remote.StoreStatistics.BytesOut / (n + 2));
        into["remote_round_trips"] = stats.RoundTrips;
        into["remote_fresh_analyze_ms"] = Round(median.Result.AnalyzeTime.TotalMilliseconds);
        into["remote_fresh_fetch_ms"] = Round(stats.NetworkTime.TotalMilliseconds);
        into["remote_fresh_check_cpu_ms"] = Round(median.Remote.EntryTime.TotalMilliseconds);
        into["remote_fresh_write_ms"] = Round(median.Result.WriteTime.TotalMilliseconds);
        log.WriteLine($"[remote] {n} functions: cold {coldMedian * 1000:F0} ms (with upload {upload.Seconds * 1000:F0} ms), fresh machine from the store " +
            $"{median.Seconds * 1000:F0} ms signed / {medianUnsigned.Seconds * 1000:F0} ms unsigned (analyze {median.Result.AnalyzeTime.TotalMilliseconds:F0} ms, " +
            $"fetch and check {stats.NetworkTime.TotalMilliseconds:F0} ms, of which checking {median.Remote.EntryTime.TotalMilliseconds:F0} ms of CPU, " +
            $"write {median.Result.WriteTime.TotalMilliseconds:F0} ms), warm local {Median(warm) * 1000:F1} ms; " +
            $"{stats.BytesIn / (n + 2)} bytes per function in {stats.RoundTrips} round trips");
        log.WriteLine($"[remote] {median.Summary}");
        log.WriteLine($"[remote] {n} functions from the module entry: {moduleMedian.Seconds * 1000:F0} ms (cold ÷ this {coldMedian / moduleMedian.Seconds:F1}); " +
            $"fetch and check {moduleMedian.Result.RemoteModule!.FetchTime.TotalMilliseconds:F0} ms, write {moduleMedian.Result.WriteTime.TotalMilliseconds:F0} ms, " +
            $"{moduleMedian.Remote.StoreStatistics.BytesIn} bytes in {moduleMedian.Remote.StoreStatistics.RoundTrips} round trips; uploading it cost " +
            $"{moduleUpload.Remote.Modules.BytesOut} bytes out");
        log.WriteLine($"[remote] {moduleMedian.Summary}");
    }

    private sealed record Run(double Seconds, BuildResult Result, RemoteFunctionCache? Remote, string Summary);

    /// <summary>One build of <paramref name="text"/> on a machine, timed as a whole (opening the store included, which
    /// connects on first use as a fresh process would).</summary>
    private static Run Build(string text, string machine, RemoteSettings? remote)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var file = new SourceFile(Path.Combine(machine, "program.nib"), System.Text.Encoding.UTF8.GetBytes(text));
        var clock = Stopwatch.StartNew();
        RemoteFunctionCache? cache = remote?.Open(CodegenSettings.Default);
        try
        {
            BuildResult result = BuildEngine.Build(file, new HostLibrary(TextWriter.Null), new BuildOptions
            {
                CacheDirectory = Path.Combine(machine, "cache"),
                Remote = cache,
            }).Result;
            double seconds = clock.Elapsed.TotalSeconds;
            if (cache?.Warning is { } warning) throw new InvalidOperationException($"the store failed during the bench: {warning}");
            return new Run(seconds, result, cache, cache?.Summary(result.Reused, result.Compiled) ?? result.Summary());
        }
        finally
        {
            cache?.Dispose();
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static double Round(double v) => Math.Round(v, 3);
}
