using AotCache.Demo.Build;
using AotCache.Demo.Generator;
using AotCache.Demo.Language;
using AotCache.Writer;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>The incremental path of the front end on generated programs: exactly what changed is compiled, and
/// the result is the file a cold build would write.</summary>
public sealed class IncrementalBuildTests : IDisposable
{
    private const int Functions = 300;
    private readonly string _directory = Directory.CreateTempSubdirectory("nib-incremental-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;

    /// <summary>A cold build of <paramref name="text"/> in a fresh directory: the reference bytes.</summary>
    private byte[] Cold(string text)
    {
        BuildResult cold = Nib.Build(Dir("cold-" + Guid.NewGuid().ToString("N")), text);
        Assert.Equal(0, cold.Reused);
        return File.ReadAllBytes(cold.CachePath);
    }

    [Fact]
    public void The_first_build_compiles_everything_and_the_next_reuses_everything_without_writing()
    {
        string dir = Dir("warm");
        string text = Nib.Generated(Functions);
        BuildResult first = Nib.Build(dir, text);
        Assert.Equal(Functions + 2, first.Compiled); // f0..f299, probe, main
        Assert.True(first.CacheWritten);
        DateTime written = File.GetLastWriteTimeUtc(first.CachePath);
        BuildResult second = Nib.Build(dir, text);
        Assert.Equal(Functions + 2, second.Reused);
        Assert.Equal(0, second.Compiled + second.StaleRecompiled);
        Assert.False(second.CacheWritten);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.CachePath));
    }

    [Fact]
    public void Editing_one_function_recompiles_exactly_that_function()
    {
        string dir = Dir("edit");
        Nib.Build(dir, Nib.Generated(Functions));
        string edited = Nib.Generated(Functions, edit: 137);
        BuildResult build = Nib.Build(dir, edited);
        Assert.Equal(["f_137"], build.Named(FunctionOutcome.Compiled));
        Assert.Empty(build.Named(FunctionOutcome.StaleRecompiled));
        Assert.Equal(Functions + 1, build.Reused);
        // Carried bodies are byte-identical to fresh ones, so the incremental file is the cold build's file.
        Assert.Equal(Cold(edited), File.ReadAllBytes(build.CachePath));
        Assert.Equal(RunCold(edited), Nib.Run(build.CachePath));
    }

    [Fact]
    public void A_series_of_edits_writes_only_the_pages_they_change_and_still_the_cold_build_bytes()
    {
        string dir = Dir("series");
        Nib.Build(dir, Nib.Generated(Functions));
        for (int variant = 1; variant <= 4; variant++)
        {
            string edited = Nib.Generated(Functions, edit: 137, variant: variant);
            BuildResult build = Nib.Build(dir, edited);
            Assert.Equal(["f_137"], build.Named(FunctionOutcome.Compiled));
            Assert.Equal(Cold(edited), File.ReadAllBytes(build.CachePath));
            SpareWriteResult write = build.Write!.Value;
            Assert.Equal(new FileInfo(build.CachePath).Length, write.Length);
            // The cold build left a spare copy: every edit, the first included, writes a few pages.
            Assert.True(write.ReusedSpare && write.BytesWritten <= 8 * 4096 && write.BytesWritten < write.Length / 4,
                $"edit {variant} wrote {write.BytesWritten} of {write.Length} bytes");
        }
    }

    [Fact]
    public void Changing_one_signature_recompiles_it_and_exactly_its_callers()
    {
        string dir = Dir("signature");
        Nib.Build(dir, Nib.Generated(Functions));
        string changed = Nib.Generated(Functions, probeReturnsF64: true);
        BuildResult build = Nib.Build(dir, changed);
        Assert.Equal(["probe"], build.Named(FunctionOutcome.Compiled));
        string[] callers = [.. Enumerable.Range(0, Functions).Where(ProgramGenerator.CallsProbe).Select(i => $"f_{i}")];
        Assert.Equal(callers, build.Named(FunctionOutcome.StaleRecompiled));
        Assert.All(build.Changed.Where(f => f.Outcome == FunctionOutcome.StaleRecompiled),
            f => Assert.Equal("calls 'probe', whose signature changed from sysv (i64) -> i64 to sysv (i64) -> f64", f.Reason));
        Assert.Equal(Functions + 2 - 1 - callers.Length, build.Reused);
        Assert.Equal(Cold(changed), File.ReadAllBytes(build.CachePath));
        Assert.Equal(RunCold(changed), Nib.Run(build.CachePath));
    }

    [Fact]
    public void Whitespace_and_comments_do_not_change_any_cache_key()
    {
        string dir = Dir("trivia");
        string text = Nib.Generated(60);
        Nib.Build(dir, text);
        string reformatted = "// a new first line\n" + text.Replace("    ", "\t").Replace(";\n", ";   // comment\n").Replace("{\n", "{\n\n");
        BuildResult build = Nib.Build(dir, reformatted);
        Assert.Equal(0, build.Compiled + build.StaleRecompiled);
        Assert.Equal(62, build.Reused);
        Assert.True(build.CacheWritten); // only the front end's index of the source changed
        Assert.Equal(Cold(reformatted), File.ReadAllBytes(build.CachePath));
    }

    [Fact]
    public void Adding_and_removing_functions_compiles_only_the_new_ones()
    {
        string dir = Dir("add-remove");
        string text = Nib.Generated(40);
        Nib.Build(dir, text);
        string added = text.Replace("fn main() -> i64 {", "fn extra(a: i64) -> i64 {\n    return a * 2;\n}\n\nfn main() -> i64 {");
        BuildResult build = Nib.Build(dir, added);
        Assert.Equal(["extra"], build.Named(FunctionOutcome.Compiled));
        Assert.True(build.CacheWritten);
        BuildResult removed = Nib.Build(dir, text);
        Assert.Equal(0, removed.Compiled + removed.StaleRecompiled);
        Assert.True(removed.CacheWritten); // the function set changed, so the file did
        Assert.False(removed.Incremental);  // removing a function is left to the full path
        Assert.Equal(Cold(text), File.ReadAllBytes(removed.CachePath));
    }

    [Fact]
    public void A_global_type_change_makes_its_readers_stale()
    {
        string dir = Dir("global");
        string v1 = "const scale: i64 = 3;\nfn f(x: i64) -> i64 { return x * scale; }\nfn g(x: i64) -> i64 { return x + 1; }\nfn main() -> i64 { return f(2) + g(1); }\n";
        Nib.Build(dir, v1);
        // The global becomes writable: its reader's code is the same, but its key covers the declaration.
        string v2 = v1.Replace("const scale", "var scale");
        BuildResult build = Nib.Build(dir, v2);
        Assert.Empty(build.Named(FunctionOutcome.Compiled));
        Assert.Equal(["f"], build.Named(FunctionOutcome.StaleRecompiled));
        Assert.Equal("uses global 'scale', now declared var scale: i64", build.Changed.Single(x => x.Name == "f").Reason);
        Assert.Equal(8, Nib.Run(build.CachePath).Result);
    }

    [Fact]
    public void An_edit_breaking_a_declaration_rule_fails_as_a_full_build_does()
    {
        string dir = Dir("bad-parameters");
        string v1 = "fn a() -> i64 { return 1; }\nfn f(x: i64) -> i64 { return x; }\nfn main() -> i64 { return a() + f(1); }\n";
        Nib.Build(dir, v1);
        string duplicate = v1.Replace("fn f(x: i64)", "fn f(x: i64, x: i64)").Replace("f(1)", "f(1, 2)");
        var e = Assert.Throws<CompileErrorException>(() => Nib.Build(dir, duplicate));
        Assert.Contains("'f' has two parameters named 'x'", e.Message);
        string seven = v1.Replace("fn f(x: i64)", "fn f(x: i64, b: i64, c: i64, d: i64, e: i64, g: i64, h: i64)").Replace("f(1)", "f(1, 2, 3, 4, 5, 6, 7)");
        e = Assert.Throws<CompileErrorException>(() => Nib.Build(dir, seven));
        Assert.Contains("'f' has more than 6 i64 or 8 f64 parameters", e.Message);
        Assert.Equal(Nib.Errors(seven).Select(d => (d.Position, d.Message)), e.Diagnostics.Select(d => (d.Position, d.Message)));
        Assert.Equal(2, Nib.Run(Nib.Build(dir, v1).CachePath).Result); // the cache was left as it was
    }

    [Fact]
    public void An_edit_whose_comment_swallows_unchanged_text_writes_what_a_cold_build_writes()
    {
        string dir = Dir("swallow");
        string v1 = "fn a() -> i64 { return 1; } fn f() -> i64 { return 2; }\nfn main() -> i64 { return a() + f(); }\n";
        Nib.Build(dir, v1);
        // The comment ends with f's old text, so the unchanged-suffix search matches it as f's old segment.
        string v2 = "fn a() -> i64 { return 1; } fn f() -> i64 { return 7; } // fn f() -> i64 { return 2; }\nfn main() -> i64 { return a() + f(); }\n";
        BuildResult build = Nib.Build(dir, v2);
        Assert.Equal(["f"], build.Named(FunctionOutcome.Compiled));
        Assert.Equal(Cold(v2), File.ReadAllBytes(build.CachePath));
        Assert.False(Nib.Build(dir, v2).CacheWritten); // and the index covers the whole source: nothing to do next time
    }

    [Fact]
    public void A_source_that_is_not_valid_UTF_8_is_built_as_decoded_and_recognised_when_unchanged()
    {
        string dir = Dir("latin1");
        byte[] Bytes(string text) => [.. text.Split('@').SelectMany((part, i) => i == 0 ? System.Text.Encoding.UTF8.GetBytes(part) : [0xE9, .. System.Text.Encoding.UTF8.GetBytes(part)])];
        string template = "// caf@ (a Latin-1 byte)\nfn a() -> i64 { return 1; }\nfn f() -> i64 { return 2; }\nfn main() -> i64 { return a() + f(); }\n";
        BuildResult Build(string d, string text) => BuildEngine.Build(new SourceFile(Path.Combine(d, "program.nib"), Bytes(text)),
            new HostLibrary(TextWriter.Null), new BuildOptions { CacheDirectory = Path.Combine(d, "cache") }).Result;
        Assert.True(Build(dir, template).CacheWritten);
        Assert.False(Build(dir, template).CacheWritten);
        string edited = template.Replace("return 2;", "return 5;");
        BuildResult build = Build(dir, edited);
        Assert.Equal(["f"], build.Named(FunctionOutcome.Compiled));
        Assert.Equal(File.ReadAllBytes(Build(Dir("latin1-cold"), edited).CachePath), File.ReadAllBytes(build.CachePath));
        Assert.Equal(6, Nib.Run(build.CachePath).Result);
    }

    private (string, long, long) RunCold(string text) => Nib.Run(Nib.Build(Dir("run-" + Guid.NewGuid().ToString("N")), text).CachePath);
}
