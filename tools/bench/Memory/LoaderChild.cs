using System.Globalization;
using AotCache.Bench.Peer;
using AotCache.Loader;

namespace AotCache.Bench.Memory;

/// <summary>
/// The bench's hidden child mode for memory figures, <c>--child-hold PATH|- --warmup WARMUP</c>: the
/// <see cref="HeldChild"/> protocol around <see cref="LoadedModule.LoadFile"/> of PATH and one call of its entry
/// ("-": the same process, loading nothing).
/// </summary>
public static class LoaderChild
{
    public const string Switch = "--child-hold";

    /// <summary>The command line that starts this mode: this executable, or dotnet and this assembly.</summary>
    public static IReadOnlyList<string> CommandLine(string path, string warmup)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("the bench's own executable path is unknown");
        string assembly = typeof(LoaderChild).Assembly.Location;
        bool viaDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        return viaDotnet ? [host, assembly, Switch, path, "--warmup", warmup] : [host, Switch, path, "--warmup", warmup];
    }

    public static int Run(string[] args)
    {
        if (args.Length != 4 || args[0] != Switch || args[2] != "--warmup")
        {
            Console.Error.WriteLine($"usage: aotcache-bench {Switch} PATH|- --warmup WARMUP.aotc");
            return 2;
        }
        string path = args[1];
        // Load a tiny module first and collect: the JIT's code and data for the loader, and the runtime's own start-up
        // garbage, then belong to the state before loading (and to the idle baseline), not to the module.
        using (LoadedModule warm = LoadedModule.LoadFile(args[3], Workload.LoadOptions()))
            warm.Invoke(PeerSource.EntryName, Value.I64(PeerSource.EntryArgument));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Console.Out.WriteLine("idle");
        if (Console.In.ReadLine() is null) return 2;
        LoadedModule? module = null;
        if (path == "-")
        {
            Console.Out.WriteLine("ready");
        }
        else
        {
            module = LoadedModule.LoadFile(path, Workload.LoadOptions());
            long result = module.Invoke(PeerSource.EntryName, Value.I64(PeerSource.EntryArgument)).AsI64;
            Console.Out.WriteLine("ready " + result.ToString(CultureInfo.InvariantCulture));
        }
        while (Console.In.ReadLine() is not null) { }
        module?.Dispose();
        return 0;
    }
}
