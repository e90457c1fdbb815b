using System.Buffers.Binary;
using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Malformed;

/// <summary>
/// Breaks a valid file in one precise way and reseals it (section checksums, fingerprint hash and file
/// checksum recomputed) so the damage reaches the structural check under test instead of INT-1.
/// </summary>
public sealed class Vandal
{
    public byte[] Bytes { get; private set; }
    private readonly CacheImage _original;

    public Vandal(byte[] valid)
    {
        Bytes = (byte[])valid.Clone();
        _original = CacheImage.Read(valid);
    }

    public CacheImage Original => _original;

    public int SectionOffset(SectionKind kind) => _original.SectionOffset(kind);

    public int DirectoryEntry(SectionKind kind)
    {
        ReadOnlySpan<SectionEntry> dir = _original.Directory;
        for (int i = 0; i < dir.Length; i++)
            if (dir[i].Kind == (uint)kind) return FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
        throw new InvalidOperationException($"no {kind} section");
    }

    public int Record(SectionKind kind, int index, int recordSize) => SectionOffset(kind) + index * recordSize;

    public Vandal U8(int at, byte value) { Bytes[at] = value; return this; }
    public Vandal U16(int at, ushort value) { BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(at), value); return this; }
    public Vandal U32(int at, uint value) { BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(at), value); return this; }
    public Vandal U64(int at, ulong value) { BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(at), value); return this; }
    public Vandal I64(int at, long value) { BinaryPrimitives.WriteInt64LittleEndian(Bytes.AsSpan(at), value); return this; }
    public Vandal Resize(int length) { var b = Bytes; Array.Resize(ref b, length); Bytes = b; return this; }
    public Vandal Edit(Action<byte[]> edit) { edit(Bytes); return this; }

    /// <summary>Recomputes every checksum, the fingerprint hash and, unless told otherwise, the file size field.</summary>
    public byte[] Reseal(bool fixFileSize = true)
    {
        byte[] b = Bytes;
        if (b.Length < FormatConstants.HeaderSize) return b;
        if (fixFileSize) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), (ulong)b.Length);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(80));
        for (int i = 0; i < count && FormatConstants.DirectoryOffset + (i + 1) * SectionEntry.RecordSize <= b.Length; i++)
        {
            int at = FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
            SectionEntry e = MemoryMarshal.Read<SectionEntry>(b.AsSpan(at));
            if (e.Offset > (ulong)b.Length || e.Size > (ulong)b.Length - e.Offset) continue;
            ReadOnlySpan<byte> section = b.AsSpan((int)e.Offset, (int)e.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at + 32), Checksums.SectionChecksum(section));
            if (e.Kind == (uint)SectionKind.Fingerprint)
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), Checksums.CodegenFingerprint(section));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(b));
        return b;
    }

    /// <summary>Recomputes only the file checksum, keeping every other field as patched.</summary>
    public byte[] ResealFileOnly()
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(Bytes));
        return Bytes;
    }

    /// <summary>A module with every section present: functions with relocations of every kind, data
    /// objects of every kind (one with relocations), imports, fingerprint and dependencies.</summary>
    public static byte[] RichModule()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { Producer = "vandal", ModuleName = "rich-\u00e9" };
        var i64 = b.AddDeclaration(Signature.SysV([ScalarType.I64], [ScalarType.I64]));
        var none = b.AddDeclaration(Signature.SysV([], []));
        var print = b.AddImportFunction("print", i64);
        var errno = b.AddImportData("errno");
        var a = b.DeclareFunction("a", i64);
        var c = b.DeclareFunction("c", none, Linkage.Local);
        var table = b.DeclareData("table", DataKind.ReadOnly, 8);
        var counter = b.DeclareData("counter", DataKind.Writable, 8);
        var scratch = b.DeclareData("scratch", DataKind.ZeroFilled, 64);
        b.DefineFunction(a, new FunctionBody(new byte[32], i64.Signature, [
            new Relocation(1, RelocationKind.FunctionPcRel32, c.Name, -4),
            new Relocation(6, RelocationKind.DataPcRel32, counter.Name, -4),
            new Relocation(11, RelocationKind.ThunkPcRel32, print.Name, -4),
            new Relocation(16, RelocationKind.SlotPcRel32, errno.Name, -4),
            new Relocation(22, RelocationKind.Absolute64, scratch.Name, 0),
        ], [new Dependency(c.Name, new ContentHash(3, 4)), new Dependency(table.Name, new ContentHash(5, 6))])
        { ContentHash = new ContentHash(1, 2) });
        b.DefineFunction(c, new FunctionBody([0xC3], none.Signature) { Alignment = 16 });
        b.DefineData(table, new byte[16], [new Relocation(0, RelocationKind.Absolute64, a.Name, 0), new Relocation(8, RelocationKind.Absolute64, c.Name, 0)]);
        b.DefineData(counter, new byte[8]);
        b.DefineZeroFilled(scratch, 256);
        b.AddFingerprint("compiler", "1.0");
        b.AddFingerprintFeatures("isa", 3);
        return b.ToArray();
    }
}
