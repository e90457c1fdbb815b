using AotCache.Format;

namespace AotCache.Writer;

/// <summary>How a writer orders the declaration table (FORMAT.md §6 leaves the order to the producer).</summary>
public enum DeclarationOrder
{
    /// <summary>Every declaration added, in the order it was first added.</summary>
    AsAdded = 0,

    /// <summary>Only the declarations some symbol uses, ordered by their canonical encodings (bytewise). The table
    /// then depends on the module alone, not on the order it was built in, so <see cref="CacheRewriter"/> can
    /// edit a file and still write exactly what a fresh build of the new module would.</summary>
    ByEncoding = 1,
}

internal static class DeclarationOrders
{
    /// <summary>Bytewise order of canonical encodings; equal encodings are the same signature.</summary>
    public static int Compare(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => x.SequenceCompareTo(y);

    public static int Compare(Signature x, Signature y) => Compare(x.Encoding.AsSpan(), y.Encoding.AsSpan());
}
