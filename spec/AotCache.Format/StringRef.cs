using System.Runtime.InteropServices;

namespace AotCache.Format;

/// <summary>
/// A string in the string table: byte offset and byte length of UTF-8 text. Must lie inside the
/// table and start and end on character boundaries [STR-2]. (0, 0) is the empty string.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4, Size = 8)]
public readonly record struct StringRef(uint Offset, uint Length)
{
    /// <summary>The empty string.</summary>
    public static readonly StringRef Empty = default;
}

/// <summary>
/// A 128-bit content hash: the cache key a front end supplies for a function or data object
/// (FORMAT.md §8). Stored as two little-endian 64-bit halves, low half first. All zero means "none".
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 16)]
public readonly record struct ContentHash(ulong Low, ulong High)
{
    /// <summary>No content hash (zero).</summary>
    public static readonly ContentHash None = default;

    /// <summary>Whether this is <see cref="None"/>.</summary>
    public bool IsNone => Low == 0 && High == 0;

    /// <summary>XxHash128 (seed 0) of the given bytes, the recommended way to form a content hash.</summary>
    public static ContentHash Of(ReadOnlySpan<byte> bytes)
    {
        UInt128 h = System.IO.Hashing.XxHash128.HashToUInt128(bytes);
        return new ContentHash((ulong)h, (ulong)(h >> 64));
    }

    /// <summary>32 hex digits, high half first, as tools print it.</summary>
    public override string ToString() => $"{High:x16}{Low:x16}";
}
