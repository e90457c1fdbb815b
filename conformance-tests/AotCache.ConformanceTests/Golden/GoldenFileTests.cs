using Xunit.Sdk;

namespace AotCache.ConformanceTests;

/// <summary>The golden-file helper itself: it must pass on equal text and never pass silently otherwise.</summary>
public sealed class GoldenFileTests : IDisposable
{
    // A unique throwaway name per test, so the real golden files are never touched and parallel runs don't collide.
    private readonly string _name = "selftest-" + Guid.NewGuid().ToString("N");
    private string VerifiedPath => Path.Combine(GoldenFile.SourceDirectory, _name + ".verified.txt");
    private string ReceivedPath => Path.Combine(GoldenFile.SourceDirectory, _name + ".received.txt");

    public void Dispose()
    {
        File.Delete(VerifiedPath);
        File.Delete(ReceivedPath);
    }

    [Fact]
    public void Golden_files_live_in_the_source_tree_next_to_this_helper()
    {
        Assert.True(File.Exists(Path.Combine(GoldenFile.SourceDirectory, "GoldenFile.cs")));
    }

    [Fact]
    public void Matching_text_passes_whatever_its_line_endings()
    {
        File.WriteAllText(VerifiedPath, "header\nline 1\n");

        GoldenFile.Verify(_name, "header\r\nline 1\r\n", accept: false);

        Assert.False(File.Exists(ReceivedPath));
    }

    [Fact]
    public void Mismatched_text_fails_with_a_line_diff_and_writes_the_received_file()
    {
        File.WriteAllText(VerifiedPath, "one\ntwo\nthree\n");

        var failure = Assert.Throws<FailException>(() => GoldenFile.Verify(_name, "one\nTWO\nthree\n", accept: false));

        Assert.Contains("- two\n+ TWO\n", failure.Message);
        Assert.Equal("one\nTWO\nthree\n", File.ReadAllText(ReceivedPath));
        Assert.Equal("one\ntwo\nthree\n", File.ReadAllText(VerifiedPath));
    }

    [Fact]
    public void The_diff_shows_changed_lines_with_a_little_context_not_the_whole_file()
    {
        string[] lines = Enumerable.Range(0, 30).Select(i => $"line {i}").ToArray();
        File.WriteAllText(VerifiedPath, string.Join("\n", lines) + "\n");
        lines[15] = "line fifteen";

        var failure = Assert.Throws<FailException>(() => GoldenFile.Verify(_name, string.Join("\n", lines) + "\n", accept: false));

        Assert.Contains("...\n  line 13\n  line 14\n- line 15\n+ line fifteen\n  line 16\n  line 17\n...\n", failure.Message);
        Assert.DoesNotContain("line 3\n", failure.Message);
        Assert.DoesNotContain("line 27", failure.Message);
    }

    [Fact]
    public void A_missing_verified_file_fails_and_writes_the_received_file()
    {
        var failure = Assert.Throws<FailException>(() => GoldenFile.Verify(_name, "first run\n", accept: false));

        Assert.Contains("does not exist", failure.Message);
        Assert.False(File.Exists(VerifiedPath));
        Assert.Equal("first run\n", File.ReadAllText(ReceivedPath));
    }

    [Fact]
    public void Accept_mode_overwrites_the_verified_file_and_removes_the_received_file()
    {
        File.WriteAllText(VerifiedPath, "old\n");
        File.WriteAllText(ReceivedPath, "stale\n");

        GoldenFile.Verify(_name, "new\r\n", accept: true);

        Assert.Equal("new\n", File.ReadAllText(VerifiedPath));
        Assert.False(File.Exists(ReceivedPath));
    }
}
