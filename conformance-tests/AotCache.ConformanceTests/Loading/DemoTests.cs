using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AotCache.ConformanceTests.Loading;

/// <summary>The main job end to end: compile, write, then a fresh process loads the cache and runs it.</summary>
public sealed partial class DemoTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aotc-demo-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [GeneratedRegex(@"this process: (\d+)")]
    private static partial Regex ParentPid();

    [GeneratedRegex(@"process (\d+) loaded demo\.aotc")]
    private static partial Regex ChildPid();

    [Fact]
    public void The_demo_runs_cached_code_in_a_process_that_did_not_compile_it()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "aotcache-demo.dll"));
        info.ArgumentList.Add("--cache-dir");
        info.ArgumentList.Add(_directory);
        using Process demo = Process.Start(info)!;
        string output = demo.StandardOutput.ReadToEnd();
        string errors = demo.StandardError.ReadToEnd();
        Assert.True(demo.WaitForExit(120_000));
        Assert.True(demo.ExitCode == 0, output + errors);
        Assert.Contains("fib(30) = 832040", output);
        Assert.Contains("collatz_steps(27) = 111", output);
        Assert.Contains("leibniz_pi_millionths(1000000) = 3141591", output);
        Assert.Contains("print_i64(12345) called from cached code", output);
        Assert.Contains("the fresh process ran the cached code successfully", output);
        Assert.NotEqual(ParentPid().Match(output).Groups[1].Value, ChildPid().Match(output).Groups[1].Value);
        Assert.True(File.Exists(Path.Combine(_directory, "demo.aotc")));
    }
}
