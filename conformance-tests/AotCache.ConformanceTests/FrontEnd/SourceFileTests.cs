using System.Text;
using AotCache.Demo.Build;

namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>
/// A source file opened by path (as <c>nib run</c> does) is read only when its bytes are needed: an unchanged source is
/// streamed through the hash, with its byte-order mark left out as when it is read whole.
/// </summary>
public sealed class SourceFileTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("source-file-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_streamed_hash_equals_the_hash_of_the_bytes_read_whole_across_chunks_and_a_byte_order_mark(bool byteOrderMark)
    {
        string text = Nib.Generated(1000); // several 64 KiB chunks
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        Assert.True(bytes.Length > 3 * 64 * 1024);
        string path = Path.Combine(_directory.FullName, "program.nib");
        File.WriteAllBytes(path, byteOrderMark ? [.. Encoding.UTF8.Preamble, .. bytes] : bytes);

        ulong expected = SourceSegments.Hash(bytes);
        Assert.True(SourceFile.Open("program.nib", path).HashIs(expected));
        Assert.False(SourceFile.Open("program.nib", path).HashIs(expected + 1));
        SourceFile read = SourceFile.Open("program.nib", path);
        Assert.Equal(bytes, read.Utf8);
        Assert.True(read.HashIs(expected));
    }

    [Fact]
    public void An_unchanged_source_opened_by_path_is_recognised_without_a_rebuild()
    {
        string path = Path.Combine(_directory.FullName, "program.nib");
        File.WriteAllText(path, Nib.Generated(300), new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        var options = new BuildOptions { CacheDirectory = Path.Combine(_directory.FullName, "cache") };
        BuildResult Build() => BuildEngine.Build(SourceFile.Open("program.nib", path), new HostLibrary(TextWriter.Null), options).Result;
        Assert.True(Build().CacheWritten);
        BuildResult again = Build();
        Assert.False(again.CacheWritten);
        Assert.True(again.Incremental);
        Assert.Empty(again.Changed);
    }

    [Fact]
    public void A_file_that_cannot_be_read_is_reported_when_opened()
    {
        Assert.ThrowsAny<IOException>(() => SourceFile.Open("missing.nib", Path.Combine(_directory.FullName, "missing.nib")));
    }
}
