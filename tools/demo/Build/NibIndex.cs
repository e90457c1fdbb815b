using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using AotCache.Codegen.Ir;
using AotCache.Reader;

namespace AotCache.Demo.Build;

/// <summary>
/// What the front end remembers about a build beyond the format's own tables, in a producer-private section
/// of the cache (FORMAT.md §4): the hash of the whole source and of each of its segments (so the next build
/// finds what changed without parsing the rest), every function's token hash (to tell an edited function
/// from a stale one), the type of every global (the format stores only bytes), and the build settings.
/// </summary>
/// <remarks>
/// Layout (little-endian): <c>u32 magic "NIBX", u16 version = 2, u16 reserved</c>, <c>u32 function count, u32 global
/// count, u32 segment count, u32 key inputs</c>, <c>u64 source hash, u64 settings hash</c> (XxHash3-64 of the UTF-8
/// source, and of the codegen settings text); then one 16-byte token hash per function in function-table order;
/// then the segments (<c>u32 length, u8 kind, 3 reserved, u64 hash</c>) in source order; then per global
/// <c>u8 type, u8 writable, u16 name length, name</c>. An index that does not parse or does not match the file's
/// function count is ignored: it makes builds faster, and is never what decides that code is current (the
/// content hashes are).
/// </remarks>
public sealed class NibIndex
{
    /// <summary>The private section kind the front end writes.</summary>
    public const uint SectionKind = 0x8000_4E49;

    private const uint Magic = 0x5842_494E; // "NIBX"
    private const ushort Version = 2;
    private const int HeaderSize = 40;

    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly int _functions, _segments;
    private Dictionary<string, (IrType Type, bool Writable)>? _globals;
    private readonly int _globalsAt, _globalCount;

    private NibIndex(ReadOnlyMemory<byte> bytes, int functions, int segments, int globalCount, KeyInputs keyInputs, ulong sourceHash, ulong settingsHash)
    {
        _bytes = bytes;
        _functions = functions;
        _segments = segments;
        _globalCount = globalCount;
        _globalsAt = HeaderSize + functions * 16 + segments * Segment.RecordSize;
        KeyInputs = keyInputs;
        SourceHash = sourceHash;
        SettingsHash = settingsHash;
    }

    public KeyInputs KeyInputs { get; }
    public ulong SourceHash { get; }
    public ulong SettingsHash { get; }

    /// <summary>Token hash of function <paramref name="function"/> (function-table index) in the cached build.</summary>
    public UInt128 TokenHash(int function) =>
        BinaryPrimitives.ReadUInt128LittleEndian(_bytes.Span.Slice(HeaderSize + function * 16, 16));

    /// <summary>The segments of the cached build's source, viewed in place.</summary>
    public ReadOnlySpan<Segment> Segments =>
        MemoryMarshal.Cast<byte, Segment>(_bytes.Span.Slice(HeaderSize + _functions * 16, _segments * Segment.RecordSize));

    /// <summary>The type of a global in the cached build, if it had one by that name.</summary>
    public bool TryGetGlobal(string name, out IrType type, out bool writable)
    {
        _globals ??= TryReadGlobals() ?? [];
        bool found = _globals.TryGetValue(name, out var g);
        (type, writable) = g;
        return found;
    }

    public static ulong HashSettings(CodegenSettings settings) => SourceSegments.Hash(Encoding.UTF8.GetBytes(settings.ToString()));

    public static byte[] Write(ReadOnlySpan<UInt128> tokenHashes, ReadOnlySpan<Segment> segments, IReadOnlyList<IrGlobal> globals,
        ulong sourceHash, CodegenSettings settings, KeyInputs keyInputs)
    {
        int globalBytes = 0;
        foreach (IrGlobal g in globals) globalBytes += 4 + Encoding.UTF8.GetByteCount(g.Name);
        var bytes = new byte[HeaderSize + tokenHashes.Length * 16 + segments.Length * Segment.RecordSize + globalBytes];
        Span<byte> s = bytes;
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], tokenHashes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(s[12..], globals.Count);
        BinaryPrimitives.WriteInt32LittleEndian(s[16..], segments.Length);
        BinaryPrimitives.WriteInt32LittleEndian(s[20..], (int)keyInputs);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], sourceHash);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], HashSettings(settings));
        int at = HeaderSize;
        foreach (UInt128 h in tokenHashes)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(s[at..], h);
            at += 16;
        }
        MemoryMarshal.AsBytes(segments).CopyTo(s[at..]);
        at += segments.Length * Segment.RecordSize;
        foreach (IrGlobal g in globals)
        {
            s[at] = (byte)g.Type;
            s[at + 1] = g.Writable ? (byte)1 : (byte)0;
            int length = Encoding.UTF8.GetBytes(g.Name, s[(at + 4)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 2)..], checked((ushort)length));
            at += 4 + length;
        }
        return bytes;
    }

    /// <summary>The index of a cache written by this front end, or null when it has none or it does not parse.</summary>
    public static NibIndex? Read(CacheImage image)
    {
        if (!image.TryGetSectionMemory(SectionKind, out ReadOnlyMemory<byte> memory) || memory.Length < HeaderSize) return null;
        ReadOnlySpan<byte> s = memory.Span;
        if (BinaryPrimitives.ReadUInt32LittleEndian(s) != Magic || BinaryPrimitives.ReadUInt16LittleEndian(s[4..]) != Version) return null;
        int functions = BinaryPrimitives.ReadInt32LittleEndian(s[8..]);
        int globals = BinaryPrimitives.ReadInt32LittleEndian(s[12..]);
        int segments = BinaryPrimitives.ReadInt32LittleEndian(s[16..]);
        if (functions != image.Functions.Length || globals < 0 || segments < 1
            || HeaderSize + (long)functions * 16 + (long)segments * Segment.RecordSize + 4L * globals > memory.Length) return null;
        var index = new NibIndex(memory, functions, segments, globals, (KeyInputs)BinaryPrimitives.ReadInt32LittleEndian(s[20..]),
            BinaryPrimitives.ReadUInt64LittleEndian(s[24..]), BinaryPrimitives.ReadUInt64LittleEndian(s[32..]));
        // The segments must tile a source, end with the trailing one, and name one function per function record.
        int functionSegments = 0;
        ReadOnlySpan<Segment> all = index.Segments;
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i].Length < 0 || (all[i].Kind == SegmentKind.Trailing) != (i == all.Length - 1)) return null;
            if (all[i].Kind == SegmentKind.Function) functionSegments++;
        }
        if (functionSegments != functions || index.TryReadGlobals() is not { } globalTypes) return null;
        index._globals = globalTypes;
        return index;
    }

    private Dictionary<string, (IrType, bool)>? TryReadGlobals()
    {
        ReadOnlySpan<byte> s = _bytes.Span;
        var map = new Dictionary<string, (IrType, bool)>(StringComparer.Ordinal);
        int at = _globalsAt;
        for (int i = 0; i < _globalCount; i++)
        {
            if (at + 4 > s.Length) return null;
            var type = (IrType)s[at];
            int length = BinaryPrimitives.ReadUInt16LittleEndian(s[(at + 2)..]);
            if (at + 4 + length > s.Length || !Enum.IsDefined(type)) return null;
            map[Encoding.UTF8.GetString(s.Slice(at + 4, length))] = (type, s[at + 1] != 0);
            at += 4 + length;
        }
        return map;
    }
}
