using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>The main job end to end: the tour runs the example in fresh processes that share only the cache.</summary>
public sealed partial class TourTests
{
    [GeneratedRegex(@"this one is (\d+)")]
    private static partial Regex ParentPid();

    [GeneratedRegex(@"process (\d+) exited with 0")]
    private static partial Regex ChildPid();

    [Fact]
    public async Task The_tour_builds_reuses_edits_and_catches_a_stale_caller_across_fresh_processes()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nib.dll"));
        using Process tour = Process.Start(info)!;
        Task<string> errors = tour.StandardError.ReadToEndAsync();
        string output = await tour.StandardOutput.ReadToEndAsync();
        Assert.True(tour.WaitForExit(180_000), "the tour did not finish");
        Assert.True(tour.ExitCode == 0, output + await errors);
        Assert.Contains("build   | build: 6 compiled, 0 stale-recompiled, 0 reused", output);
        Assert.Contains("build   | build: 0 compiled, 0 stale-recompiled, 6 reused", output);
        Assert.Contains("build   | build: 1 compiled, 0 stale-recompiled, 5 reused", output);
        Assert.Contains("build   |   compiled hypot: source changed", output);
        Assert.Contains("build   | build: 1 compiled, 1 stale-recompiled, 4 reused", output);
        Assert.Contains("build   |   stale    main: calls 'report', whose signature changed from sysv (i64) -> i64 to sysv (i64) -> f64", output);
        Assert.Contains("program | 50", output);
        Assert.Contains("6 of 6 reused functions recompiled and compared", output);
        Assert.Contains("tour complete", output);
        string parent = ParentPid().Match(output).Groups[1].Value;
        var children = ChildPid().Matches(output).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(5, children.Count);
        Assert.DoesNotContain(parent, children);
        Assert.Equal(5, children.Distinct().Count());
    }
}
