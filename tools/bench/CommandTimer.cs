using System.Diagnostics;
using System.Globalization;

namespace AotCache.Bench;

/// <summary>
/// Times a command line as a whole process, from spawn to exit, N times after one unmeasured run (which warms the page
/// cache): the fresh-process figures (the gcc peer's dlopen program now; later a native <c>nib run</c>, or a C host
/// of the loader, timed the same way). With a native spawner (the peer driver's <c>spawn</c> mode, which uses
/// posix_spawn and waitpid), no managed process machinery is inside the measured interval; without one it falls
/// back to <see cref="Process"/>, which adds about a millisecond of its own per run.
/// </summary>
public sealed class CommandTimer(string? nativeSpawner)
{
    /// <summary>The wall time of each measured run, in seconds. The command's stdout is discarded; a failing run
    /// (non-zero exit) is an error that quotes its stderr.</summary>
    public IReadOnlyList<double> Time(IReadOnlyList<string> commandLine, int runs) => [.. TimeWithCpu(commandLine, runs).Select(t => t.Wall)];

    /// <summary>Like <see cref="Time"/>, with the CPU time (user + system) each run's process used, in seconds, when the
    /// native spawner measures it (it reads the child's rusage); null without it. On a shared machine the CPU time
    /// moves much less with the load than the wall time does.</summary>
    public IReadOnlyList<(double Wall, double? Cpu)> TimeWithCpu(IReadOnlyList<string> commandLine, int runs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(commandLine.Count, 1);
        if (nativeSpawner is not null)
        {
            ProcessResult result = ProcessResult.RunChecked(nativeSpawner, ["spawn", runs.ToString(CultureInfo.InvariantCulture), .. commandLine],
                TimeSpan.FromMinutes(10));
            return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
                .Select(p => (long.Parse(p[0], CultureInfo.InvariantCulture) / 1e9, (double?)(long.Parse(p[1], CultureInfo.InvariantCulture) / 1e9)))];
        }
        var times = new List<(double, double?)>(runs);
        for (int r = -1; r < runs; r++)
        {
            var sw = Stopwatch.StartNew();
            ProcessResult.RunChecked(commandLine[0], commandLine.Skip(1).ToArray(), TimeSpan.FromMinutes(2));
            if (r >= 0) times.Add((sw.Elapsed.TotalSeconds, null));
        }
        return times;
    }

    /// <summary>The median of <see cref="Time"/>.</summary>
    public double Median(IReadOnlyList<string> commandLine, int runs) => Stats.Median(Time(commandLine, runs));
}

/// <summary>Order statistics of measured times.</summary>
public static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        if (sorted.Length == 0) throw new InvalidOperationException("no measurements");
        return sorted[sorted.Length / 2];
    }
}
