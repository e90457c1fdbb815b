using BenchmarkDotNet.Running;

namespace AotCache.Bench;

/// <summary>
/// <c>aotcache-bench --quick [--sizes 1000,10000,100000] [--repetitions 9] [--no-peer]</c>: one JSON object of ratios in
/// about a minute, with the gcc peer's dlopen figures and memory figures (<c>--no-peer</c>: without the peer, which needs
/// gcc and, the first time, minutes of compiling). <c>--peer-only</c>: the peer's figures alone.
/// <c>--fresh-process [--functions 10000] [--runs 21]</c>: whole-process warm starts of the native nib, the C host
/// through libaotcache, the gcc peer's dlopen and the JIT nib (<see cref="FreshProcess"/>).
/// Anything else is passed to BenchmarkDotNet (e.g. <c>--filter *</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Memory.LoaderChild.Switch) return Memory.LoaderChild.Run(args);
        if (args.Contains("--fresh-process"))
        {
            int functions = 10_000, runs = 21;
            for (int i = 0; i < args.Length - 1; i++)
            {
                if (args[i] == "--functions") functions = int.Parse(args[i + 1]);
                if (args[i] == "--runs") runs = int.Parse(args[i + 1]);
            }
            return FreshProcess.Run(functions, runs, Console.Error);
        }
        if (args.Contains("--quick") || args.Contains("--peer-only"))
        {
            int[] sizes = [1_000, 10_000, 100_000];
            int repetitions = 9;
            for (int i = 0; i < args.Length - 1; i++)
            {
                if (args[i] == "--sizes") sizes = [.. args[i + 1].Split(',').Select(int.Parse)];
                if (args[i] == "--repetitions") repetitions = int.Parse(args[i + 1]);
            }
            if (args.Contains("--peer-only")) return Peer.PeerFigures.RunPeerOnly(sizes, Console.Error);
            return QuickRun.Run(sizes, repetitions, Console.Error, peer: !args.Contains("--no-peer"));
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
