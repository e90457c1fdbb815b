using System.Buffers.Binary;
using AotCache.Format;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// Names the field at a file offset, for diagnostics: <c>header.file_size</c>, <c>directory[2].offset</c>,
/// <c>Symbols[3].kind</c>, <c>Code+0x12</c>. The names follow FORMAT.md's tables (and the keys of the
/// annotated vectors in spec/vectors). Works on any bytes, valid or not: it reads the directory as written,
/// every read bounds-checked, and says <c>padding</c> or <c>end of file</c> where no field is.
/// </summary>
internal static class FieldNames
{
    private static readonly (int Offset, string Name)[] Header =
    [
        (0, "magic"), (8, "major_version"), (10, "minor_version"), (12, "header_size"), (16, "file_size"),
        (24, "file_checksum"), (32, "architecture"), (34, "abi"), (36, "os"), (38, "reserved"), (40, "required_flags"),
        (44, "optional_flags"), (48, "required_cpu_features"), (56, "codegen_fingerprint"), (64, "producer"),
        (72, "module_name"), (80, "section_count"), (84, "directory_offset"), (88, "reserved"),
    ];

    private static readonly (int Offset, string Name)[] Directory =
        [(0, "kind"), (4, "flags"), (8, "offset"), (16, "size"), (24, "alignment"), (28, "reserved"), (32, "checksum")];

    private static readonly Dictionary<SectionKind, (int Offset, string Name)[]> Records = new()
    {
        [SectionKind.Declarations] = [(0, "signature_offset"), (4, "signature_length"), (8, "signature_hash")],
        [SectionKind.Symbols] = [(0, "name"), (8, "kind"), (9, "linkage"), (10, "reserved"), (12, "declaration"), (16, "definition"), (20, "reserved")],
        [SectionKind.Functions] =
            [(0, "symbol"), (4, "code_offset"), (8, "code_size"), (12, "alignment"), (16, "first_relocation"), (20, "relocation_count"),
             (24, "required_cpu_features"), (32, "content_hash")],
        [SectionKind.DataObjects] =
            [(0, "symbol"), (4, "kind"), (5, "reserved"), (8, "offset"), (12, "size"), (16, "alignment"), (20, "first_relocation"),
             (24, "relocation_count"), (28, "reserved"), (32, "content_hash")],
        [SectionKind.Relocations] = [(0, "offset"), (4, "kind"), (6, "reserved"), (8, "target"), (12, "reserved"), (16, "addend"), (24, "expected_signature_hash")],
        [SectionKind.Fingerprint] = [(0, "key"), (8, "value_kind"), (9, "match"), (10, "reserved"), (16, "value")],
        [SectionKind.Dependencies] = [(0, "function"), (4, "target"), (8, "kind"), (10, "reserved"), (16, "expected_content_hash")],
        [SectionKind.Signature] = [(0, "algorithm"), (2, "reserved"), (4, "signature_length"), (8, "key_id"), (40, "signature"), (104, "reserved")],
    };

    private static readonly Dictionary<SectionKind, int> RecordSizes = new()
    {
        [SectionKind.Declarations] = DeclarationRecord.RecordSize,
        [SectionKind.Symbols] = SymbolRecord.RecordSize,
        [SectionKind.Functions] = FunctionRecord.RecordSize,
        [SectionKind.DataObjects] = DataObjectRecord.RecordSize,
        [SectionKind.Relocations] = RelocationRecord.RecordSize,
        [SectionKind.Fingerprint] = FingerprintComponent.RecordSize,
        [SectionKind.Dependencies] = DependencyRecord.RecordSize,
        [SectionKind.Signature] = SignatureRecord.RecordSize,
    };

    /// <summary>The field at <paramref name="offset"/>; <c>+N</c> when the offset is inside a field rather than at its start.</summary>
    public static string At(ReadOnlySpan<byte> file, long offset)
    {
        if (offset < 0) return "no field";
        if (offset >= file.Length) return "end of file";
        if (offset < FormatConstants.HeaderSize) return "header." + Name(Header, (int)offset);
        int count = file.Length >= 84 ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(file[80..]), FormatConstants.MaxSectionCount) : 0;
        long directoryEnd = FormatConstants.DirectoryOffset + (long)count * SectionEntry.RecordSize;
        if (offset < directoryEnd)
        {
            long inDirectory = offset - FormatConstants.DirectoryOffset;
            return $"directory[{inDirectory / SectionEntry.RecordSize}].{Name(Directory, (int)(inDirectory % SectionEntry.RecordSize))}";
        }
        for (int i = 0; i < count; i++)
        {
            int at = FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
            if (at + SectionEntry.RecordSize > file.Length) break;
            uint kind = BinaryPrimitives.ReadUInt32LittleEndian(file[at..]);
            ulong start = BinaryPrimitives.ReadUInt64LittleEndian(file[(at + 8)..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(file[(at + 16)..]);
            if ((ulong)offset < start || (ulong)offset - start >= size) continue;
            long inSection = offset - (long)start;
            string section = Enum.IsDefined((SectionKind)kind) ? ((SectionKind)kind).ToString() : $"section kind {kind}";
            if (Records.TryGetValue((SectionKind)kind, out var fields))
            {
                int recordSize = RecordSizes[(SectionKind)kind];
                return $"{section}[{inSection / recordSize}].{Name(fields, (int)(inSection % recordSize))}";
            }
            return $"{section}+0x{inSection:x}";
        }
        return "padding";
    }

    private static string Name((int Offset, string Name)[] fields, int offset)
    {
        int i = fields.Length - 1;
        while (fields[i].Offset > offset) i--;
        return offset == fields[i].Offset ? fields[i].Name : $"{fields[i].Name}+{offset - fields[i].Offset}";
    }
}
