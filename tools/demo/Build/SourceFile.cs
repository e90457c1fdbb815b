using System.Text;
using AotCache.Demo.Language;

namespace AotCache.Demo.Build;

/// <summary>
/// A source file as bytes (UTF-8, without a byte-order mark), decoded only when needed: the incremental path
/// hashes the bytes and decodes just the part that changed.
/// </summary>
public sealed class SourceFile
{
    private SourceText? _text;

    public SourceFile(string path, byte[] utf8)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(utf8);
        Path = path;
        Utf8 = utf8.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? utf8[3..] : utf8;
    }

    public static SourceFile FromText(SourceText source) => new(source.Path, Encoding.UTF8.GetBytes(source.Text)) { _text = source };

    public string Path { get; }

    public byte[] Utf8 { get; }

    /// <summary>The whole text, decoded on first use.</summary>
    public SourceText Text => _text ??= new SourceText(Path, Encoding.UTF8.GetString(Utf8));
}
