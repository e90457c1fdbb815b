using AotCache.Codegen;
using AotCache.Demo;
using AotCache.Demo.Build;
using AotCache.Demo.Language;
using AotCache.Reader;
using AotCache.Loader;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary><c>run --watch</c>: edits are hot-swapped into the running module, which keeps its globals.</summary>
public sealed class WatchTests : IDisposable
{
    private const string Version1 = """
        extern fn print_i64(x: i64);
        var runs: i64 = 0;
        fn step(x: i64) -> i64 { return x + 1; }
        fn twice(x: i64) -> i64 { return step(step(x)); }
        fn report(x: i64) -> i64 { print_i64(x); return x; }
        fn main() -> i64 {
            runs = runs + 1;
            report(twice(10));
            return runs;
        }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("nib-watch-").FullName;
    private readonly StringWriter _output = new();
    private readonly WatchSession _session;
    private readonly string _path;

    public WatchTests()
    {
        _path = Path.Combine(_directory, "live.nib");
        File.WriteAllText(_path, Version1);
        var request = new BuildRequest(new FileInfo(_path), new DirectoryInfo(Path.Combine(_directory, "cache")), Quiet: true,
            Verify: false, VerifyAmount: null, VerifySeed: null, KeyInputs.All, CodegenSettings.Default);
        var host = new HostLibrary(_output);
        var analysis = ProgramAnalysis.Analyze(new SourceText(_path, Version1), host);
        BuildResult build = BuildEngine.Build(analysis, new BuildOptions { CacheDirectory = request.CacheDirectoryPath });
        _session = new WatchSession(request, analysis, build, host);
    }

    public void Dispose()
    {
        _session.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private WatchUpdate Save(string text)
    {
        File.WriteAllText(_path, text);
        return _session.Poll() ?? throw new Xunit.Sdk.XunitException("the change was not seen");
    }

    [Fact]
    public void An_edited_body_is_swapped_into_the_running_module_which_keeps_its_globals()
    {
        Assert.Equal(1, _session.RunMain());
        nint region = _session.Module.Region.Address;
        WatchUpdate update = Save(Version1.Replace("return x + 1;", "return x + 100;"));
        Assert.True(update.Applied, update.ToString());
        Assert.Equal(["step"], update.Redefined);
        Assert.False(update.Reloaded);
        Assert.Equal(region, _session.Module.Region.Address); // same mapping: swapped, not reloaded
        Assert.Equal(LinkMode.HotSwappable, _session.Module.LinkMode);
        Assert.Equal(2, _session.RunMain());                  // the writable global kept its value
        Assert.Equal("12\n210\n", _output.ToString());
        Assert.Null(_session.Poll());                          // nothing changed since
    }

    [Fact]
    public void The_running_module_does_not_hold_the_cache_file_so_later_saves_write_only_changed_pages()
    {
        for (int i = 2; i <= 4; i++)
        {
            WatchUpdate update = Save(Version1.Replace("return x + 1;", $"return x + {i};"));
            Assert.True(update.Applied, update.ToString());
            // From the second save on, the spare is the file the module was loaded from, which it would hold
            // locked if it still mapped it; the build writes through it.
            Assert.True(update.Build!.Write!.Value.ReusedSpare, $"save {i} wrote a fresh file: the running module holds the cache");
        }
        _session.RunMain();
        Assert.Equal("18\n", _output.ToString()); // step(step(10)) = 10 + 4 + 4: the last save is running
    }

    [Fact]
    public void A_signature_change_swaps_the_callee_and_its_stale_callers_in_one_transaction()
    {
        _session.RunMain();
        WatchUpdate update = Save(Version1.Replace("fn report(x: i64) -> i64 { print_i64(x); return x; }",
            "fn report(x: i64) -> f64 { print_i64(x * 2); return x as f64; }"));
        Assert.True(update.Applied, update.ToString());
        Assert.Equal(["report", "main"], update.Redefined);   // main calls report as a statement: its text is unchanged
        Assert.Equal(2, _session.RunMain());
        Assert.Equal("12\n24\n", _output.ToString());
    }

    [Fact]
    public void A_change_with_errors_is_not_applied_and_the_old_code_keeps_running()
    {
        _session.RunMain();
        WatchUpdate update = Save(Version1.Replace("return x + 1;", "return x + 1.5;"));
        Assert.False(update.Applied);
        Assert.Contains("live.nib:3:35: error: in 'step': '+' needs operands of one type", update.Errors.Single().ToString());
        Assert.Equal(2, _session.RunMain());
        Assert.Equal("12\n12\n", _output.ToString());
    }

    [Fact]
    public void Added_and_removed_functions_are_swapped_in_and_out()
    {
        WatchUpdate added = Save(Version1.Replace("fn main() -> i64 {", "fn triple(x: i64) -> i64 { return step(step(step(x))); }\nfn main() -> i64 {")
            .Replace("report(twice(10));", "report(triple(10));"));
        Assert.True(added.Applied, added.ToString());
        Assert.Equal(["triple"], added.Added);
        Assert.Equal(["main"], added.Redefined);
        _session.RunMain();
        WatchUpdate removed = Save(Version1.Replace("fn twice(x: i64) -> i64 { return step(step(x)); }\n", "")
            .Replace("report(twice(10));", "report(step(10));"));
        Assert.True(removed.Applied, removed.ToString());
        Assert.Equal(["triple", "twice"], removed.Removed.Order());
        _session.RunMain();
        Assert.Equal("13\n11\n", _output.ToString());
        Assert.DoesNotContain("twice", _session.Module.FunctionNames);
    }

    [Fact]
    public void A_change_to_globals_reloads_the_module_from_the_rebuilt_cache()
    {
        WatchUpdate update = Save(Version1.Replace("var runs: i64 = 0;", "var runs: i64 = 40;"));
        Assert.True(update.Applied, update.ToString());
        Assert.True(update.Reloaded);
        Assert.Equal(41, _session.RunMain());
    }

    [Fact]
    public void Each_update_also_rewrites_the_cache_so_the_next_start_is_warm()
    {
        string edited = Version1.Replace("return x + 1;", "return x + 7;");
        Assert.True(Save(edited).Applied);
        BuildResult next = Nib.Build(_directory, edited, name: "live");
        Assert.Equal(0, next.Compiled + next.StaleRecompiled);
        Assert.False(next.CacheWritten);
    }
}
