using System.Globalization;
using System.Text.Json;
using AotCache.Bench.Peer;
using AotCache.Demo.Generator;

namespace AotCache.Bench;

/// <summary>
/// <c>--fresh-process [--functions N] [--runs R]</c>: a warm start as a user meets it, a whole process from spawn to
/// exit (<see cref="CommandTimer"/>), for a generated Nib program of N functions (default 10,000) whose cache is
/// current: (a) the NativeAOT <c>nib run</c> (reads the source, checks it against the cache, loads, calls main),
/// (b) the C host (tools/c-host) loading the same cache through libaotcache and calling main, (c) the gcc peer's
/// driver dlopening the shared object of the same shape and calling its entry (<c>dlopen_process_ms</c> of the quick
/// run), (d) nib under the JIT (<c>dotnet</c>'s apphost), for reference. Medians of R runs each (default 21), taken in
/// three interleaved rounds so that a change of load on a shared machine falls on every command alike; printed as
/// milliseconds and as ratios to (c), of wall time (the figure the targets are about) and of CPU time (user + system,
/// from the child's rusage: a shared machine's load moves it much less). Also the start-up of the native nib and
/// cachedump (<c>--help</c>).
/// Publishes what it measures first (<c>dotnet publish -c Release -r linux-x64</c>: incremental, quick when current).
/// </summary>
public static class FreshProcess
{
    public const int Rounds = 3;

    public static int Run(int functions, int runs, TextWriter log)
    {
        string root = RepositoryRoot();
        string directory = Directory.CreateTempSubdirectory("aotcache-fresh-").FullName;
        try
        {
            PeerToolchain toolchain = PeerToolchain.TryCreate(log, out string? reason)
                ?? throw new InvalidOperationException($"the fresh-process bench compares with the gcc peer, and gcc cannot run: {reason}");
            string driver = toolchain.Driver();
            string sharedObject = toolchain.SharedObject(functions, Workload.DefaultSeed);

            string nib = Path.Combine(Publish(root, "tools/demo/AotCache.Demo.csproj", log), "nib");
            string cachedump = Path.Combine(Publish(root, "tools/cachedump/cachedump.csproj", log), "cachedump");
            string library = Publish(root, "loader/AotCache.Native/AotCache.Native.csproj", log);
            string cHost = Path.Combine(directory, "c-host");
            ProcessResult.RunChecked(toolchain.Gcc, ["-O2", "-std=c11", "-I", Path.Combine(root, "loader", "AotCache.Native", "include"), "-o", cHost,
                Path.Combine(root, "tools", "c-host", "c_host.c"), "-L", library, "-laotcache", $"-Wl,-rpath,{library}", "-lm"], TimeSpan.FromMinutes(2));
            // nib under the JIT: the framework-dependent build the bench references (its apphost starts the runtime).
            string jitNib = Path.Combine(AppContext.BaseDirectory, "nib");
            if (!File.Exists(jitNib)) throw new InvalidOperationException($"{jitNib} is missing: the bench references tools/demo, whose build puts it there");

            string program = Path.Combine(directory, "program.nib");
            File.WriteAllText(program, ProgramGenerator.Generate(new GeneratorOptions(functions)));
            string cache = Path.Combine(directory, ".aotcache", "program.aotc");
            log.WriteLine($"[fresh] building the cache of a {functions}-function Nib program with the native nib (cold, once)...");
            ProcessResult.RunChecked(nib, ["build", "-q", program], TimeSpan.FromMinutes(10));

            var commands = new (string Key, string[] Line, int Runs)[]
            {
                ("dlopen_process_ms", [driver, "run", sharedObject, PeerSource.EntryArgument.ToString(CultureInfo.InvariantCulture)], runs),
                ("c_host_process_ms", [cHost, cache], runs),
                ("nib_native_process_ms", [nib, "run", "-q", program], runs),
                ("nib_jit_process_ms", [jitNib, "run", "-q", program], Math.Max(10, runs / 2)), // ~0.3 s each: fewer
                ("nib_help_ms", [nib, "--help"], runs),
                ("cachedump_help_ms", [cachedump, "--help"], runs),
            };
            // Each command must work, and the three that run the program must agree on what it computes.
            string expected = ProcessResult.RunChecked(nib, ["run", "-q", program], TimeSpan.FromMinutes(1)).Stdout;
            if (ProcessResult.RunChecked(cHost, [cache], TimeSpan.FromMinutes(1)).Stdout != expected)
                throw new InvalidOperationException("the C host's output differs from nib's for the same cache");
            if (ProcessResult.RunChecked(jitNib, ["run", "-q", program], TimeSpan.FromMinutes(1)).Stdout != expected)
                throw new InvalidOperationException("the JIT nib's output differs from the native nib's");

            var timer = new CommandTimer(driver);
            var times = commands.ToDictionary(c => c.Key, _ => new List<(double Wall, double? Cpu)>());
            for (int round = 0; round < Rounds; round++)
                foreach (var (key, line, count) in commands)
                {
                    int share = count / Rounds + (round < count % Rounds ? 1 : 0);
                    times[key].AddRange(timer.TimeWithCpu(line, share));
                }

            var result = new Dictionary<string, object> { ["functions"] = functions, ["runs"] = runs, ["cache_bytes"] = new FileInfo(cache).Length };
            foreach (var (key, values) in times)
            {
                result[key] = Round(Stats.Median(values.Select(v => v.Wall)) * 1000);
                // The same as CPU time (user + system): what the process itself did, much less moved by a shared machine's load.
                result[key.Replace("_ms", "_cpu_ms", StringComparison.Ordinal)] = Round(Stats.Median(values.Select(v => v.Cpu ?? double.NaN)) * 1000);
            }
            foreach (string unit in new[] { "", "_cpu" })
            {
                double dlopen = (double)result[$"dlopen_process{unit}_ms"];
                result[$"c_host_over_dlopen{unit}"] = Round((double)result[$"c_host_process{unit}_ms"] / dlopen);
                result[$"nib_native_over_dlopen{unit}"] = Round((double)result[$"nib_native_process{unit}_ms"] / dlopen);
                result[$"nib_jit_over_dlopen{unit}"] = Round((double)result[$"nib_jit_process{unit}_ms"] / dlopen);
            }
            result["targets"] = "c_host_over_dlopen <= 3; nib_native_over_dlopen <= 10; nib_help_ms and cachedump_help_ms <= 20";
            result["machine"] = QuickRun.Machine;
            foreach (var (key, values) in times)
                log.WriteLine($"[fresh] {key,-22} median {Stats.Median(values.Select(v => v.Wall)) * 1000,8:F2} ms (min {values.Min(v => v.Wall) * 1000,7:F2}, " +
                    $"max {values.Max(v => v.Wall) * 1000,7:F2}); CPU median {Stats.Median(values.Select(v => v.Cpu ?? double.NaN)) * 1000,7:F2} ms   ({values.Count} runs)");
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Publishes a project with NativeAOT into its usual publish directory and returns that directory.</summary>
    private static string Publish(string root, string project, TextWriter log)
    {
        log.WriteLine($"[fresh] dotnet publish {project} -c Release -r linux-x64 (NativeAOT; quick when nothing changed)...");
        string path = Path.Combine(root, project);
        ProcessResult.RunChecked("dotnet", ["publish", path, "-c", "Release", "-r", "linux-x64", "--nologo", "-v", "quiet", "-nodeReuse:false"], TimeSpan.FromMinutes(20));
        return Path.Combine(Path.GetDirectoryName(path)!, "bin", "Release", "net10.0", "linux-x64", "publish");
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Format.sln"))) return d.FullName;
        throw new InvalidOperationException($"no Format.sln above {AppContext.BaseDirectory}: run the bench from its repository");
    }

    private static double Round(double v) => Math.Round(v, 3);
}
