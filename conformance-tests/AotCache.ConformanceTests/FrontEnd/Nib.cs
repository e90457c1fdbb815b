using AotCache.Demo.Build;
using AotCache.Demo.Generator;
using AotCache.Demo.Language;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>Drives the Nib front end in-process for tests.</summary>
internal static class Nib
{
    public static string ExamplesDirectory => Path.Combine(GoldenFile.RepositoryRoot(), "tools", "demo", "examples");

    /// <summary>Runs the command line with captured output.</summary>
    public static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = AotCache.Demo.Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The diagnostics of a program that does not compile (fails if it compiles).</summary>
    public static IReadOnlyList<Diagnostic> Errors(string text)
    {
        var e = Assert.Throws<CompileErrorException>(() => ProgramAnalysis.Analyze(new SourceText("test.nib", text), new HostLibrary(TextWriter.Null)));
        return e.Diagnostics;
    }

    /// <summary>Builds through the incremental path when the cache allows it (<paramref name="incremental"/>), else the full one.</summary>
    public static BuildResult Build(string directory, string text, string name = "program", KeyInputs inputs = KeyInputs.All,
        CodegenSettings? codegen = null, bool incremental = true)
    {
        var source = new SourceText(Path.Combine(directory, name + ".nib"), text);
        return BuildEngine.Build(SourceFile.FromText(source), new HostLibrary(TextWriter.Null), new BuildOptions
        {
            CacheDirectory = Path.Combine(directory, "cache"),
            KeyInputs = inputs,
            Codegen = codegen ?? CodegenSettings.Default,
            AllowIncremental = incremental,
        }).Result;
    }

    /// <summary>Loads a built cache and runs main; returns what it printed, main's result and the host's tick count.</summary>
    public static (string Output, long Result, long Ticks) Run(string cachePath)
    {
        var output = new StringWriter();
        var host = new HostLibrary(output);
        using var module = ProgramRunner.Load(cachePath, host);
        long result = ProgramRunner.RunMain(module);
        return (output.ToString(), result, host.Ticks);
    }

    public static string Generated(int functions, int? edit = null, bool probeReturnsF64 = false, int variant = 1) =>
        ProgramGenerator.Generate(new GeneratorOptions(functions, Seed: 7, edit, probeReturnsF64, variant));
}
