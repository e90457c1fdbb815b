using System.Buffers.Binary;
using System.Text;
using AotCache.Codegen.Ir;
using AotCache.Loader;

namespace AotCache.Demo.Build;

/// <summary>
/// What the front end remembers about a build beyond the format's own tables, stored in a producer-private
/// section of the cache (FORMAT.md §4): the token hash of every function, so that the next build can tell a
/// function that was edited from one that is stale only because a declaration it uses changed; and the type
/// of every global, which the format does not record (a data object is just bytes).
/// </summary>
/// <remarks>
/// Layout (little-endian): <c>u32 magic "NIBX", u16 version = 1, u16 reserved = 0, u32 function count, u32 global
/// count</c>; then one 16-byte token hash per function, in the order of the cache's function table; then per
/// global <c>u8 type, u8 writable, u16 name length, name (UTF-8)</c>. A section that does not parse, or whose
/// function count differs from the file's, is ignored: the index is an optimization, never trusted for
/// correctness (the content hashes are).
/// </remarks>
public sealed class NibIndex
{
    /// <summary>The private section kind the front end writes.</summary>
    public const uint SectionKind = 0x8000_4E49;

    private const uint Magic = 0x5842_494E; // "NIBX"
    private const ushort Version = 1;

    private readonly UInt128[] _tokenHashes;
    private readonly Dictionary<string, (IrType Type, bool Writable)> _globals;

    private NibIndex(UInt128[] tokenHashes, Dictionary<string, (IrType, bool)> globals)
    {
        _tokenHashes = tokenHashes;
        _globals = globals;
    }

    /// <summary>Token hash of function <paramref name="function"/> (function-table index) in the cached build.</summary>
    public UInt128 TokenHash(int function) => _tokenHashes[function];

    /// <summary>The type of a global in the cached build, if it had one by that name.</summary>
    public bool TryGetGlobal(string name, out IrType type, out bool writable)
    {
        bool found = _globals.TryGetValue(name, out var g);
        (type, writable) = g;
        return found;
    }

    public static byte[] Write(IReadOnlyList<UInt128> tokenHashes, IReadOnlyList<IrGlobal> globals)
    {
        using var stream = new MemoryStream();
        Span<byte> buffer = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[8..], tokenHashes.Count);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[12..], globals.Count);
        stream.Write(buffer);
        foreach (UInt128 h in tokenHashes)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(buffer, h);
            stream.Write(buffer);
        }
        foreach (IrGlobal g in globals)
        {
            byte[] name = Encoding.UTF8.GetBytes(g.Name);
            buffer[0] = (byte)g.Type;
            buffer[1] = g.Writable ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[2..], checked((ushort)name.Length));
            stream.Write(buffer[..4]);
            stream.Write(name);
        }
        return stream.ToArray();
    }

    /// <summary>The index of a cache written by this front end, or null when it has none or it does not parse.</summary>
    public static NibIndex? Read(CacheImage image)
    {
        if (!image.TryGetSection(SectionKind, out ReadOnlySpan<byte> bytes) || bytes.Length < 16) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) != Version) return null;
        int functions = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        int globals = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        if (functions != image.Functions.Length || globals < 0 || (long)functions * 16 > bytes.Length - 16) return null;
        var hashes = new UInt128[functions];
        int at = 16;
        for (int i = 0; i < functions; i++, at += 16) hashes[i] = BinaryPrimitives.ReadUInt128LittleEndian(bytes[at..]);
        var map = new Dictionary<string, (IrType, bool)>(StringComparer.Ordinal);
        for (int i = 0; i < globals; i++)
        {
            if (at + 4 > bytes.Length) return null;
            var type = (IrType)bytes[at];
            bool writable = bytes[at + 1] != 0;
            int length = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(at + 2)..]);
            at += 4;
            if (at + length > bytes.Length || !Enum.IsDefined(type)) return null;
            map[Encoding.UTF8.GetString(bytes.Slice(at, length))] = (type, writable);
            at += length;
        }
        return new NibIndex(hashes, map);
    }
}
