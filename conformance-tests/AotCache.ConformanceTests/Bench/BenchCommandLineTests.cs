using AotCache.Bench;

namespace AotCache.ConformanceTests.Bench;

/// <summary>The bench's command line, parsed with System.CommandLine (<c>tools/bench/BenchCommandLine.cs</c>, compiled in here).</summary>
public sealed class BenchCommandLineTests
{
    private static (BenchInvocation? Run, int Exit, string Output, string Errors) Parse(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        BenchInvocation? run = BenchCommandLine.Parse(args, output, errors, out int exit);
        return (run, exit, output.ToString(), errors.ToString());
    }

    [Fact]
    public void Quick_takes_sizes_repetitions_and_the_switches_that_leave_figures_out()
    {
        var (run, exit, _, errors) = Parse("--quick", "--sizes", "1000,10000", "--repetitions", "3", "--no-peer");

        Assert.Equal(0, exit);
        Assert.Equal("", errors);
        Assert.Equal(BenchMode.Quick, run!.Mode);
        Assert.Equal([1000, 10000], run.Sizes!);
        Assert.Equal(3, run.Repetitions);
        Assert.False(run.Peer);
        Assert.True(run.Remote);
    }

    [Fact]
    public void Defaults_leave_sizes_to_the_mode_and_take_nine_repetitions()
    {
        var (run, _, _, _) = Parse("--remote-only");

        Assert.Equal(BenchMode.RemoteOnly, run!.Mode);
        Assert.Null(run.Sizes);
        Assert.Equal(9, run.Repetitions);
        Assert.True(run.Peer && run.Remote);
    }

    [Fact]
    public void Warm_loop_takes_two_numbers_and_plain()
    {
        var (run, exit, _, _) = Parse("--warm-loop", "10000", "50", "--plain");

        Assert.Equal(0, exit);
        Assert.Equal(BenchMode.WarmLoop, run!.Mode);
        Assert.Equal((10000, 50), run.WarmLoop);
        Assert.True(run.Plain);
    }

    [Fact]
    public void Unknown_tokens_go_to_BenchmarkDotNet()
    {
        var (run, exit, _, _) = Parse("--filter", "*Load*", "--job", "short");

        Assert.Equal(0, exit);
        Assert.Equal(BenchMode.BenchmarkDotNet, run!.Mode);
        Assert.Equal(["--filter", "*Load*", "--job", "short"], run.BenchmarkArguments);
    }

    [Theory]
    [InlineData("--sizes must", "--quick", "--sizes", "1000,ten")]
    [InlineData("--sizes must", "--quick", "--sizes", "1")]
    [InlineData("--repetitions must be at least 1", "--quick", "--repetitions", "0")]
    [InlineData("choose one of", "--quick", "--peer-only")]
    [InlineData("--plain is an option of --warm-loop", "--quick", "--plain")]
    [InlineData("--warm-loop takes two positive numbers", "--warm-loop", "0", "5")]
    public void Bad_command_lines_exit_2_naming_the_problem(string expected, params string[] args)
    {
        var (run, exit, _, errors) = Parse(args);

        Assert.Null(run);
        Assert.Equal(BenchCommandLine.ExitUsage, exit);
        Assert.Contains(expected.Replace("--sizes must", "--sizes takes function counts", StringComparison.Ordinal), errors);
        Assert.Contains("usage: aotcache-bench", errors);
    }

    [Fact]
    public void Help_lists_the_options_and_runs_nothing()
    {
        var (run, exit, output, _) = Parse("--help");

        Assert.Null(run);
        Assert.Equal(0, exit);
        Assert.Contains("--warm-loop", output);
        Assert.Contains("--sizes", output);
    }
}
