using AotCache.Demo;
using AotCache.Demo.Build;
using AotCache.Demo.Language;
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
    public void A_bad_save_is_reported_once_not_on_every_look_at_the_file()
    {
        string bad = Version1.Replace("return x + 1;", "return x + 1.5;");
        WatchUpdate first = Save(bad);
        Assert.False(first.Applied);

        // The file is unchanged since that look: nothing to report, though the last applied text differs from it.
        Assert.Null(_session.Poll());
        Assert.Null(_session.Poll());

        // Back to the applied text: that is a change from the last text seen, and it applies (nothing to swap).
        WatchUpdate back = Save(Version1);
        Assert.True(back.Applied, back.ToString());
        Assert.Empty(back.Redefined);
    }

    /// <summary>The loop itself, as <c>run --watch</c> runs it: saves are noticed by the file-system watcher, a bad save
    /// prints its diagnostics once, a good one is swapped in and main runs again. Every step waits for a printed line,
    /// never for a time.</summary>
    [Fact]
    public void The_watch_loop_reports_a_bad_save_once_and_applies_the_next_good_one()
    {
        var errors = new LineWaiter();
        var output = new LineWaiter();
        var request = new BuildRequest(new FileInfo(_path), new DirectoryInfo(Path.Combine(_directory, "cache")), Quiet: true,
            Verify: false, VerifyAmount: null, VerifySeed: null, KeyInputs.All, CodegenSettings.Default);
        var host = new HostLibrary(output);
        var analysis = ProgramAnalysis.Analyze(new SourceText(_path, Version1), host);
        BuildResult build = BuildEngine.Build(analysis, new BuildOptions { CacheDirectory = request.CacheDirectoryPath });
        using var stop = new CancellationTokenSource();
        int exit = -1;
        var loop = new Thread(() => exit = WatchSession.RunLoop(request, analysis, build, host, output, errors, stop.Token));
        loop.Start();
        try
        {
            errors.WaitFor("watching ");
            Assert.Contains("watch: main returned 1", errors.Text);
            Replace(Version1.Replace("return x + 1;", "return x + 1.5;"));
            errors.WaitFor("watch: not applied: 1 error");
            Replace(Version1.Replace("return x + 1;", "return x + 5;"));
            errors.WaitFor("watch: main returned 2");
        }
        finally
        {
            stop.Cancel();
            loop.Join();
        }
        Assert.Equal(AotCache.Demo.Program.ExitOk, exit);
        string text = errors.Text;
        Assert.Equal(1, Count(text, "watch: not applied"));
        Assert.Equal(1, Count(text, "'+' needs operands of one type"));
        Assert.Equal(1, Count(text, "watch: hot-swapped 1 redefined, 0 added, 0 removed"));
        Assert.Contains("12\n20\n", output.Text); // step(step(10)) with +1, then with +5
    }

    /// <summary>Saves as editors do: a new file renamed over the old, so the watcher never sees half a file.</summary>
    private void Replace(string text)
    {
        string temporary = _path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, _path, overwrite: true);
    }

    private static int Count(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>A writer that others can wait on until a line containing some text has been written.</summary>
    private sealed class LineWaiter : TextWriter
    {
        private readonly System.Text.StringBuilder _text = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public string Text
        {
            get { lock (_text) return _text.ToString(); }
        }

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
                Monitor.PulseAll(_text);
            }
        }

        public override void Write(string? value)
        {
            lock (_text)
            {
                _text.Append(value);
                Monitor.PulseAll(_text);
            }
        }

        /// <summary>Waits until <paramref name="part"/> has been written. The limit only keeps a broken loop from hanging the
        /// run; nothing here depends on how long a step takes.</summary>
        public void WaitFor(string part)
        {
            lock (_text)
                while (!_text.ToString().Contains(part, StringComparison.Ordinal))
                    if (!Monitor.Wait(_text, TimeSpan.FromMinutes(5)))
                        throw new Xunit.Sdk.XunitException($"never printed '{part}'; printed:\n{_text}");
        }
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
