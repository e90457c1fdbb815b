using AotCache.Demo.Build;
using AotCache.Demo.Generator;
using AotCache.Demo.Language;

namespace AotCache.ConformanceTests.FrontEnd;

public sealed class GeneratorTests
{
    [Fact]
    public void The_same_options_give_the_same_program_and_an_edit_changes_one_function()
    {
        string a = ProgramGenerator.Generate(new GeneratorOptions(500, Seed: 3));
        Assert.Equal(a, ProgramGenerator.Generate(new GeneratorOptions(500, Seed: 3)));
        Assert.NotEqual(a, ProgramGenerator.Generate(new GeneratorOptions(500, Seed: 4)));
        string[] before = a.Split("\n\n"), after = ProgramGenerator.Generate(new GeneratorOptions(500, Seed: 3, Edit: 250)).Split("\n\n");
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.Single(changed);
        Assert.StartsWith("fn f_250(", after[changed[0]]);
    }

    [Fact]
    public void A_generated_program_has_the_promised_shape_and_compiles()
    {
        var analysis = ProgramAnalysis.Analyze(new SourceText("gen.nib", ProgramGenerator.Generate(new GeneratorOptions(1000))), new HostLibrary(TextWriter.Null));
        Assert.Equal(1002, analysis.Functions.Count);
        foreach (AnalyzedFunction f in analysis.Functions.Where(f => f.Name.StartsWith("f_", StringComparison.Ordinal)))
        {
            int i = int.Parse(f.Name[2..]);
            var calls = f.Bound.References.Where(r => r.StartsWith("f_", StringComparison.Ordinal)).Select(r => int.Parse(r[2..])).ToList();
            Assert.All(calls, j => Assert.InRange(j, i + 1, 999));     // only later functions: the call graph is acyclic
            Assert.InRange(calls.Count, i == 999 ? 0 : 1, 4);
            Assert.Contains("tick", f.Bound.References);
            Assert.Equal(ProgramGenerator.CallsProbe(i), f.Bound.References.Contains("probe"));
        }
    }

    [Fact]
    public void The_generate_command_writes_the_file()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("nib-gen-").FullName, "big.nib");
        var (exit, _, err) = Nib.Cli("generate", "--functions", "100", "--seed", "2", "--output", path);
        Assert.Equal(0, exit);
        Assert.Contains("100 functions", err);
        Assert.Equal(ProgramGenerator.Generate(new GeneratorOptions(100, 2)), File.ReadAllText(path));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void Progress_is_shown_only_for_builds_that_take_a_moment_and_by_quarters_in_logs()
    {
        var log = new StringWriter();
        var quick = new ProgressBar(log, interactive: false, delay: TimeSpan.FromHours(1));
        for (int i = 1; i <= 100; i++) quick.Report(new BuildProgress(i, 100));
        var small = new ProgressBar(log, interactive: false, delay: TimeSpan.Zero);
        for (int i = 1; i <= ProgressBar.MinimumFunctions - 1; i++) small.Report(new BuildProgress(i, ProgressBar.MinimumFunctions - 1));
        Assert.Equal("", log.ToString());
        var slow = new ProgressBar(log, interactive: false, delay: TimeSpan.Zero);
        for (int i = 1; i <= 100; i++) slow.Report(new BuildProgress(i, 100));
        Assert.Equal(["compiling: 1%", "compiling: 25%", "compiling: 50%", "compiling: 75%", "compiling: 100%"],
            log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(" (", StringComparison.Ordinal)]));
        var terminal = new StringWriter();
        var bar = new ProgressBar(terminal, interactive: true, delay: TimeSpan.Zero);
        for (int i = 1; i <= 100; i++) bar.Report(new BuildProgress(i, 100));
        Assert.EndsWith("\rcompiling [##############################] 100% 100/100 functions" + Environment.NewLine, terminal.ToString());
        Assert.Equal(100, terminal.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries).Length); // one redraw per percent
    }
}
