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
}
