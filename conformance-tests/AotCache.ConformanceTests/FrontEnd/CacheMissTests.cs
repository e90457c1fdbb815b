using AotCache.Demo.Build;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>A cache that cannot be used — damaged, truncated, foreign, not a cache at all — is a miss: a warning,
/// a full rebuild, and a program that runs. Never a crash.</summary>
public sealed class CacheMissTests : IDisposable
{
    private const string Program = "extern fn print_i64(x: i64);\nvar n: i64 = 5;\nfn sq(x: i64) -> i64 { return x * x; }\nfn main() -> i64 { print_i64(sq(n)); return 0; }\n";
    private readonly string _directory = Directory.CreateTempSubdirectory("nib-miss-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CachePath => Path.Combine(_directory, "cache", "program.aotc");

    private void AssertRebuiltWithWarning(string expectedWarning)
    {
        BuildResult build = Nib.Build(_directory, Program);
        Assert.Contains(build.Warnings, w => w.Contains(expectedWarning, StringComparison.Ordinal));
        Assert.Equal(2, build.Compiled);
        Assert.True(build.CacheWritten);
        Assert.Equal("25\n", Nib.Run(build.CachePath).Output);
        // The rebuilt cache is good again: the next build reuses it silently.
        BuildResult next = Nib.Build(_directory, Program);
        Assert.Empty(next.Warnings);
        Assert.Equal(2, next.Reused);
    }

    public static TheoryData<int> DamagedOffsets => [0, 8, 20, 24, 40, 130, 600, -1];

    [Theory]
    [MemberData(nameof(DamagedOffsets))]
    public void A_damaged_cache_is_rebuilt_with_a_warning(int offset)
    {
        Nib.Build(_directory, Program);
        byte[] bytes = File.ReadAllBytes(CachePath);
        int at = offset < 0 ? bytes.Length - 1 : offset;
        bytes[at] ^= 0x5A;
        File.WriteAllBytes(CachePath, bytes);
        AssertRebuiltWithWarning("is unusable, rebuilding it");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(127)]
    [InlineData(1000)]
    public void A_truncated_cache_is_rebuilt_with_a_warning(int length)
    {
        Nib.Build(_directory, Program);
        byte[] bytes = File.ReadAllBytes(CachePath);
        File.WriteAllBytes(CachePath, bytes[..Math.Min(length, bytes.Length - 1)]);
        AssertRebuiltWithWarning("is unusable, rebuilding it");
    }

    [Fact]
    public void Text_where_the_cache_should_be_is_rebuilt_with_a_warning()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(CachePath)!);
        File.WriteAllText(CachePath, "this is not a cache\r\n");
        AssertRebuiltWithWarning("BadMagic");
    }

    [Fact]
    public void Another_producers_cache_is_rebuilt_with_a_warning()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(CachePath)!);
        File.Copy(Path.Combine(GoldenFile.SourceDirectory, "example.aotc"), CachePath);
        AssertRebuiltWithWarning("was written by another compiler or for another target (producer 'AotCache golden modules', compiler 'unknown'");
    }

    [Fact]
    public void The_command_line_reports_the_miss_and_runs_the_program()
    {
        string source = Path.Combine(_directory, "program.nib");
        File.WriteAllText(source, Program);
        string cache = Path.Combine(_directory, "cache");
        Assert.Equal(0, Nib.Cli("run", source, "--cache-dir", cache, "-q").Exit);
        File.WriteAllBytes(Path.Combine(cache, "program.aotc"), new byte[300]);
        var (exit, output, errors) = Nib.Cli("run", source, "--cache-dir", cache);
        Assert.Equal(0, exit);
        Assert.Equal("25\n", output);
        Assert.Contains("warning: the cache", errors);
        Assert.Contains("BadMagic (1) at offset 0 (0x0) [HDR-1]", errors);
        Assert.Contains("build: 2 compiled, 0 stale-recompiled, 0 reused", errors);
    }
}
