using AotCache.Demo.Build;
using AotCache.Format;
using AotCache.Tools.CacheDump;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>The Nib command line (issue 18 item 7, issue 16): <c>run --lazy</c>, main's result kept apart from the exit
/// codes, honest byte counts, <c>check</c>'s summary, and progress from the start of the analysis.</summary>
public sealed class NibCommandTests : IDisposable
{
    private const string Version1 = """
        extern fn print_i64(x: i64);
        fn report(x: i64) -> i64 { print_i64(x); return x; }
        fn used(x: i64) -> i64 { report(x + 1); return x; }
        fn unused(x: i64) -> i64 { report(x + 2); return x; }
        fn main() -> i64 { used(40); return 42; }
        """;

    /// <summary>report's result type changes; used and unused call it as a statement, so their text is unchanged: stale.</summary>
    private static readonly string Version2 = Version1.Replace("fn report(x: i64) -> i64 { print_i64(x); return x; }",
        "fn report(x: i64) -> f64 { print_i64(x * 2); return x as f64; }", StringComparison.Ordinal);

    private readonly string _directory = Directory.CreateTempSubdirectory("nib-commands-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Source(string text, string name = "p")
    {
        string path = Path.Combine(_directory, name + ".nib");
        File.WriteAllText(path, text);
        return path;
    }

    private string Cache => Path.Combine(_directory, "cache");

    [Fact]
    public void Run_lazy_leaves_stale_functions_stale_and_compiles_only_those_called_on_their_first_call()
    {
        string source = Source(Version1);
        var first = Nib.Cli("run", source, "--cache-dir", Cache);
        Assert.Equal(0, first.Exit);
        Assert.Equal("41\n", first.Out);
        Assert.Contains("main returned 42", first.Err);
        Assert.NotEqual(Version1, Version2);

        File.WriteAllText(source, Version2);
        var lazy = Nib.Cli("run", source, "--cache-dir", Cache, "--lazy");

        Assert.True(lazy.Exit == 0, lazy.Err);
        Assert.Equal("82\n", lazy.Out); // used ran, compiled on its call against report's new signature
        Assert.Contains("build: 1 compiled, 0 stale-recompiled, 1 reused, 2 deferred (stale, compiled on call)", lazy.Err);
        Assert.Contains("  deferred used: calls 'report', whose signature changed from sysv (i64) -> i64 to sysv (i64) -> f64", lazy.Err);
        Assert.Contains("(lenient: 2 stale functions compiled on their first call)", lazy.Err);
        Assert.Contains("lazy: compiled on call 1 of 2 deferred: used; never called, not compiled: unused\n", lazy.Err.ReplaceLineEndings("\n"));
        Assert.Contains("main returned 42", lazy.Err);

        // The cache holds the stale bodies: the strict loader refuses it, cachedump says so, and a plain run recompiles them.
        string cachePath = Path.Combine(Cache, "p.aotc");
        var strict = Assert.Throws<AotCacheException>(() => Nib.Run(cachePath));
        Assert.Equal(ErrorCode.StaleCaller, strict.Code);
        var verify = new StringWriter();
        Assert.Equal(CacheDumpCommand.ExitStale, CacheDumpCommand.Run([cachePath, "--verify"], verify, new StringWriter()));
        Assert.Contains("  unused: [LOAD-5] unused refers to report", verify.ToString());

        var plain = Nib.Cli("run", source, "--cache-dir", Cache);
        Assert.Equal(0, plain.Exit);
        Assert.Equal("82\n", plain.Out);
        Assert.Contains("build: 0 compiled, 2 stale-recompiled, 2 reused", plain.Err);
        Assert.Contains("stale    unused: still stale from an earlier --lazy build: calls 'report' compiled against sysv (i64) -> i64", plain.Err);
        var after = new StringWriter();
        Assert.Equal(CacheDumpCommand.ExitOk, CacheDumpCommand.Run([cachePath, "--verify"], after, new StringWriter()));
    }

    [Fact]
    public void Run_lazy_with_nothing_stale_compiles_nothing_on_call_and_lazy_cannot_be_combined_with_watch()
    {
        string source = Source(Version1);
        var cold = Nib.Cli("run", source, "--cache-dir", Cache, "--lazy");
        var usage = Nib.Cli("run", source, "--cache-dir", Cache, "--lazy", "--watch");

        Assert.Equal(0, cold.Exit);
        Assert.Equal("41\n", cold.Out);
        Assert.Contains("lazy: compiled on call 0 of 0 deferred", cold.Err);
        Assert.Equal(AotCache.Demo.Program.ExitUsage, usage.Exit);
        Assert.Contains("--lazy and --watch cannot be combined", usage.Err);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(-1)]
    [InlineData(256)]
    public void Run_prints_mains_result_and_exits_0_so_it_cannot_pass_for_a_tool_exit_code(long result)
    {
        string source = Source($"fn main() -> i64 {{ return {result}; }}\n");

        var (exit, output, errors) = Nib.Cli("run", source, "--cache-dir", Cache, "-q");

        Assert.Equal(AotCache.Demo.Program.ExitOk, exit);
        Assert.Equal("", output);
        Assert.Equal($"main returned {result}\n", errors.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Help_documents_the_exit_codes()
    {
        var (_, output, _) = Nib.Cli("--help");

        Assert.Contains("Exit codes: 0 done (run: main's result is printed as 'main returned N'", output.ReplaceLineEndings(" ").Replace("  ", " ", StringComparison.Ordinal));
        Assert.Contains("--lazy", Nib.Cli("run", "--help").Out);
    }

    [Fact]
    public void The_cold_build_counts_the_file_and_its_spare_copy_apart_and_an_edit_counts_the_pages_it_rewrites()
    {
        string text = Nib.Generated(200);
        BuildResult cold = Nib.Build(_directory, text);
        long length = new FileInfo(cold.CachePath).Length;
        string kib = $"{length / 1024.0:F0} KiB";

        Assert.Equal($"{kib} file + {kib} spare copy", BuildResult.WriteText(cold.Write!.Value));
        Assert.Contains($"({kib} file + {kib} spare copy))", cold.Summary());

        BuildResult edit = Nib.Build(_directory, Nib.Generated(200, edit: 17));
        Assert.Matches(@"^\d+ KiB of the \d+ KiB file rewritten$", BuildResult.WriteText(edit.Write!.Value));
        Assert.True(edit.Write!.Value.BytesWritten < length);
    }

    [Fact]
    public void Check_ends_with_its_error_count_and_build_says_nothing_was_built()
    {
        string source = Source("fn main() -> i64 {\n    return y;\n}\n", "bad");

        var check = Nib.Cli("check", source);
        var build = Nib.Cli("build", source, "--cache-dir", Cache);

        Assert.Equal(AotCache.Demo.Program.ExitCompileError, check.Exit);
        Assert.EndsWith("check: 1 error\n", check.Err.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("built", check.Err);
        Assert.Equal(AotCache.Demo.Program.ExitCompileError, build.Exit);
        Assert.EndsWith("1 error; nothing was built\n", build.Err.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Progress_is_shown_from_the_analysis_on_then_for_compiling()
    {
        var output = new StringWriter { NewLine = "\n" };
        var progress = new ProgressBar(output, interactive: false, delay: TimeSpan.Zero);
        var source = new AotCache.Demo.Language.SourceText(Path.Combine(_directory, "gen.nib"), Nib.Generated(300));

        BuildEngine.Build(source, new HostLibrary(TextWriter.Null), new BuildOptions { CacheDirectory = Cache, Progress = progress });

        string[] lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.StartsWith("analyzing: 0% (0/302 functions, ", lines[0]);
        int analyzed = Array.FindIndex(lines, l => l.StartsWith("analyzing: 100% (302/302 functions", StringComparison.Ordinal));
        int compiling = Array.FindIndex(lines, l => l.StartsWith("compiling: ", StringComparison.Ordinal));
        Assert.True(analyzed > 0 && compiling > analyzed, string.Join("\n", lines));
        Assert.StartsWith("compiling: 100% (302/302 functions", lines[^1]);
        Assert.Equal(5, lines.Count(l => l.StartsWith("analyzing: ", StringComparison.Ordinal))); // each quarter once
    }

    [Fact]
    public void The_interactive_bar_redraws_one_line_per_phase()
    {
        var output = new StringWriter { NewLine = "\n" };
        var bar = new ProgressBar(output, interactive: true, delay: TimeSpan.Zero);

        for (int i = 0; i <= 100; i++) bar.Report(new BuildProgress(i, 100, BuildProgress.Analyzing));
        for (int i = 1; i <= 100; i++) bar.Report(new BuildProgress(i, 100));
        bar.Finish();

        string[] lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("analyzing [##############################] 100% 100/100 functions", lines[0]);
        Assert.EndsWith("compiling [##############################] 100% 100/100 functions", lines[1]);
    }
}
