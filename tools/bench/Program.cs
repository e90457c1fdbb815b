using BenchmarkDotNet.Running;

namespace AotCache.Bench;

/// <summary>
/// <c>aotcache-bench --quick [--sizes 1000,10000,100000] [--repetitions 9]</c>: one JSON object of ratios in well under a minute.
/// Anything else is passed to BenchmarkDotNet (e.g. <c>--filter *</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--quick"))
        {
            int[] sizes = [1_000, 10_000, 100_000];
            int repetitions = 9;
            for (int i = 0; i < args.Length - 1; i++)
            {
                if (args[i] == "--sizes") sizes = [.. args[i + 1].Split(',').Select(int.Parse)];
                if (args[i] == "--repetitions") repetitions = int.Parse(args[i + 1]);
            }
            return QuickRun.Run(sizes, repetitions, Console.Error);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
