using System.IO.Hashing;
using System.Text;
using AotCache.Demo.Language;

namespace AotCache.Demo.Build;

/// <summary>
/// A source file as bytes (UTF-8, without a byte-order mark), decoded only when needed: the incremental path
/// hashes the bytes and decodes just the part that changed. A file opened with <see cref="Open"/> is read only when
/// its bytes are needed: a warm run, whose source matches the cache, only streams it through a hash.
/// </summary>
public sealed class SourceFile
{
    private SourceText? _text;
    private byte[]? _utf8;
    private readonly string? _fullPath; // set for a file not read yet

    public SourceFile(string path, byte[] utf8)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(utf8);
        Path = path;
        _utf8 = WithoutPreamble(utf8);
    }

    private SourceFile(string path, string fullPath)
    {
        Path = path;
        _fullPath = fullPath;
    }

    /// <summary>The file at <paramref name="fullPath"/>, shown as <paramref name="path"/>. It is opened now, so that a file
    /// that cannot be read is reported here (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>).</summary>
    public static SourceFile Open(string path, string fullPath)
    {
        using (File.OpenHandle(fullPath)) { }
        return new SourceFile(path, fullPath);
    }

    public static SourceFile FromText(SourceText source) => new(source.Path, Encoding.UTF8.GetBytes(source.Text)) { _text = source };

    public string Path { get; }

    public byte[] Utf8 => _utf8 ??= WithoutPreamble(File.ReadAllBytes(_fullPath!));

    /// <summary>The whole text, decoded on first use.</summary>
    public SourceText Text => _text ??= new SourceText(Path, Encoding.UTF8.GetString(Utf8));

    /// <summary>Whether <see cref="SourceSegments.Hash"/> of the bytes is <paramref name="hash"/>. A file not read yet is
    /// streamed through a small buffer instead of being read whole (megabytes of fresh memory for a large program).</summary>
    public bool HashIs(ulong hash)
    {
        if (_utf8 is not null || _fullPath is null) return SourceSegments.Hash(Utf8) == hash;
        var hasher = new XxHash3();
        byte[] buffer = new byte[64 * 1024];
        using var stream = new FileStream(_fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        bool first = true;
        for (int n; (n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0; first = false)
        {
            ReadOnlySpan<byte> chunk = buffer.AsSpan(0, n);
            hasher.Append(first && chunk.StartsWith(Encoding.UTF8.Preamble) ? chunk[3..] : chunk);
        }
        return hasher.GetCurrentHashAsUInt64() == hash;
    }

    private static byte[] WithoutPreamble(byte[] utf8) => utf8.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? utf8[3..] : utf8;
}
