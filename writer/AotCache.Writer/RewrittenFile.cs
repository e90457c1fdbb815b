using System.IO.Hashing;

namespace AotCache.Writer;

/// <summary>
/// A file as a list of pieces, most of them slices of the previous version's mapping: what
/// <see cref="CacheRewriter"/> produces, so that an edit costs copying into the page cache once, not
/// building the whole file in a fresh buffer first.
/// </summary>
public sealed class RewrittenFile
{
    internal RewrittenFile(IReadOnlyList<ReadOnlyMemory<byte>> pieces, long length)
    {
        Pieces = pieces;
        Length = length;
    }

    /// <summary>The bytes of the file, in order. They may point into the previous file's mapping: keep the
    /// <see cref="Reader.CacheImage"/> it came from open until the file is written.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Pieces { get; }

    /// <summary>The new file's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The new file as one array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        int at = 0;
        foreach (ReadOnlyMemory<byte> piece in Pieces)
        {
            piece.Span.CopyTo(bytes.AsSpan(at));
            at += piece.Length;
        }
        return bytes;
    }

    /// <summary>XxHash3-64 of the pieces, as if they were one span.</summary>
    internal static ulong Hash(IEnumerable<ReadOnlyMemory<byte>> pieces)
    {
        var hash = new XxHash3();
        foreach (ReadOnlyMemory<byte> piece in pieces) hash.Append(piece.Span);
        return hash.GetCurrentHashAsUInt64();
    }
}
