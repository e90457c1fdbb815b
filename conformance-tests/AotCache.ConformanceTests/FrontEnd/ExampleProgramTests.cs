namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>The example programs' output, as golden files; run cold and then warm from the cache.</summary>
public sealed class ExampleProgramTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nib-examples-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly string[] Names = ["tour", "mandelbrot", "semantics"];

    public static TheoryData<string> Examples => [.. Names];

    [Theory]
    [MemberData(nameof(Examples))]
    public void An_example_prints_its_golden_output_cold_and_warm(string name)
    {
        string source = Path.Combine(_directory, name + ".nib");
        File.Copy(Path.Combine(Nib.ExamplesDirectory, name + ".nib"), source);
        string cache = Path.Combine(_directory, "cache");
        var cold = Nib.Cli("run", source, "--cache-dir", cache);
        Assert.Contains("0 reused", cold.Err);
        var warm = Nib.Cli("run", source, "--cache-dir", cache);
        Assert.Contains("build: 0 compiled, 0 stale-recompiled", warm.Err);
        Assert.Contains("cache unchanged", warm.Err);
        Assert.Equal(cold.Out, warm.Out);
        Assert.Equal(cold.Exit, warm.Exit);
        string result = cold.Err.ReplaceLineEndings("\n").Split('\n').Single(l => l.StartsWith("main returned ", StringComparison.Ordinal));
        Assert.Contains(result, warm.Err);
        GoldenFile.Verify($"nib-{name}.output", $"exit code {cold.Exit}\n{result}\n{cold.Out}");
    }

    [Fact]
    public void Every_example_is_in_the_golden_set()
    {
        var files = Directory.GetFiles(Nib.ExamplesDirectory, "*.nib").Select(Path.GetFileNameWithoutExtension).Order();
        Assert.Equal(Names.Order(), files);
    }
}
