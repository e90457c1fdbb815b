using AotCache.ConformanceTests.FrontEnd;
using Xunit.Abstractions;

namespace AotCache.ConformanceTests.Native;

/// <summary>
/// nib and cachedump published with NativeAOT: they start, print their help, and do their work without a JIT: the
/// native nib builds and runs a program whose host functions are managed delegates, and loads it again warm; the
/// native cachedump verifies and dumps the cache (its JSON is written without reflection).
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class NativeToolsTests(NativeToolchain native, ITestOutputHelper output)
{
    private static ChildProcess.Result Run(string program, params string[] arguments) =>
        ChildProcess.Run(program, arguments, TimeSpan.FromMinutes(2));

    [Fact]
    public void The_native_nib_and_cachedump_print_their_help()
    {
        foreach (string step in native.Timings) output.WriteLine(step); // what the fixture's publishes and compiles took
        ChildProcess.Result nib = Run(native.Nib, "--help");
        Assert.True(nib.ExitCode == 0, nib.Stderr);
        Assert.Contains("Usage:", nib.Stdout);
        Assert.Contains("nib [command] [options]", nib.Stdout);
        Assert.Contains("run <FILE>", nib.Stdout);
        ChildProcess.Result cachedump = Run(native.CacheDump, "--help");
        Assert.True(cachedump.ExitCode == 0, cachedump.Stderr);
        Assert.Contains("Usage:", cachedump.Stdout);
        Assert.Contains("--verify", cachedump.Stdout);
    }

    [Fact]
    public void The_native_nib_builds_and_runs_a_program_then_reuses_its_cache_and_cachedump_verifies_it()
    {
        string directory = native.NewDirectory("native-nib");
        string program = Path.Combine(directory, "tour.nib");
        File.Copy(Path.Combine(Nib.ExamplesDirectory, "tour.nib"), program);
        string cacheDirectory = Path.Combine(directory, "cache");
        string expected = ExpectedOutput(program);

        ChildProcess.Result cold = Run(native.Nib, "run", program, "--cache-dir", cacheDirectory);
        Assert.True(cold.ExitCode == 0, cold.Stderr);
        Assert.Equal(expected, cold.Stdout); // print_i64 and print_f64 are delegates; sqrt comes from libm
        Assert.Contains("build: 6 compiled", cold.Stderr);

        ChildProcess.Result warm = Run(native.Nib, "run", program, "--cache-dir", cacheDirectory);
        Assert.True(warm.ExitCode == 0, warm.Stderr);
        Assert.Equal(expected, warm.Stdout);
        Assert.Contains("build: 0 compiled, 0 stale-recompiled, 6 reused", warm.Stderr);

        string cache = Path.Combine(cacheDirectory, "tour.aotc");
        ChildProcess.Result verify = Run(native.CacheDump, cache, "--verify", "--strict");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.StartsWith("OK: ", verify.Stdout);
        ChildProcess.Result json = Run(native.CacheDump, cache, "--json", "--section", "symbols");
        Assert.True(json.ExitCode == 0, json.Stderr);
        Assert.Contains("\"name\": \"hypot\"", json.Stdout);
    }

    /// <summary>What the program prints, from an in-process build and run in a directory of its own.</summary>
    private string ExpectedOutput(string program)
    {
        var build = Nib.Build(native.NewDirectory("expected"), File.ReadAllText(program), "tour");
        return Nib.Run(build.CachePath).Output;
    }
}
