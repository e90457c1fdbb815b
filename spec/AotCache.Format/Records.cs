using System.Runtime.InteropServices;

namespace AotCache.Format;

// Every record is little-endian, fixed-width and naturally aligned, so that a reader views a whole
// table in place (MemoryMarshal.Cast) instead of parsing it record by record. Offsets in comments are
// byte offsets inside the record. Reserved fields must be zero [LIM-1].

/// <summary>The 128-byte file header at offset 0 (FORMAT.md §3).</summary>
[StructLayout(LayoutKind.Explicit, Size = FormatConstants.HeaderSize)]
public struct FileHeader
{
    /// <summary>0: <see cref="FormatConstants.Magic"/>, read as a little-endian u64 [HDR-1].</summary>
    [FieldOffset(At.Magic)] public ulong Magic;
    /// <summary>8: must be a major version the reader supports [HDR-2].</summary>
    [FieldOffset(At.MajorVersion)] public ushort MajorVersion;
    /// <summary>10: any value; a newer minor only adds optional things [HDR-2].</summary>
    [FieldOffset(At.MinorVersion)] public ushort MinorVersion;
    /// <summary>12: must be 128 [HDR-3].</summary>
    [FieldOffset(At.HeaderSize)] public uint HeaderSize;
    /// <summary>16: must equal the file's length in bytes [HDR-4], at most 2^31 − 1 [LIM-2].</summary>
    [FieldOffset(At.FileSize)] public ulong FileSize;
    /// <summary>24: XxHash3-64 (seed 0) of the whole file with these 8 bytes taken as zero [INT-1].</summary>
    [FieldOffset(At.FileChecksum)] public ulong FileChecksum;
    /// <summary>32: <see cref="Format.Architecture"/> [HDR-7].</summary>
    [FieldOffset(At.Architecture)] public ushort Architecture;
    /// <summary>34: <see cref="Format.Abi"/> [HDR-7].</summary>
    [FieldOffset(At.Abi)] public ushort Abi;
    /// <summary>36: <see cref="TargetOs"/> [HDR-7].</summary>
    [FieldOffset(At.Os)] public ushort Os;
    /// <summary>38: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public ushort Reserved0;
    /// <summary>40: <see cref="Format.RequiredFlags"/>; unknown bits refuse the file [HDR-6].</summary>
    [FieldOffset(At.RequiredFlags)] public uint RequiredFlags;
    /// <summary>44: <see cref="Format.OptionalFlags"/>; unknown bits are ignored.</summary>
    [FieldOffset(At.OptionalFlags)] public uint OptionalFlags;
    /// <summary>48: <see cref="CpuFeatures"/> every function of the file needs [FUN-6].</summary>
    [FieldOffset(At.RequiredCpuFeatures)] public ulong RequiredCpuFeatures;
    /// <summary>56: XxHash3-64 (seed 0) of the fingerprint section's bytes, 0 when there is none [FPR-2].</summary>
    [FieldOffset(At.CodegenFingerprint)] public ulong CodegenFingerprint;
    /// <summary>64: name and version of the program that wrote the file.</summary>
    [FieldOffset(At.Producer)] public StringRef Producer;
    /// <summary>72: name of the module, for tools and diagnostics.</summary>
    [FieldOffset(At.ModuleName)] public StringRef ModuleName;
    /// <summary>80: number of 40-byte directory entries, at most 64 [HDR-9].</summary>
    [FieldOffset(At.SectionCount)] public uint SectionCount;
    /// <summary>84: must be 128: the directory follows the header [HDR-8].</summary>
    [FieldOffset(At.DirectoryOffset)] public uint DirectoryOffset;
    /// <summary>88..127: reserved, zero.</summary>
    [FieldOffset(At.Reserved1)] public ulong Reserved1;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved2)] public ulong Reserved2;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved3)] public ulong Reserved3;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved4)] public ulong Reserved4;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved5)] public ulong Reserved5;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="FileHeader.Magic"/> field.</summary>
        public const int Magic = 0;
        /// <summary>Byte offset of the <see cref="FileHeader.MajorVersion"/> field.</summary>
        public const int MajorVersion = 8;
        /// <summary>Byte offset of the <see cref="FileHeader.MinorVersion"/> field.</summary>
        public const int MinorVersion = 10;
        /// <summary>Byte offset of the <see cref="FileHeader.HeaderSize"/> field.</summary>
        public const int HeaderSize = 12;
        /// <summary>Byte offset of the <see cref="FileHeader.FileSize"/> field.</summary>
        public const int FileSize = 16;
        /// <summary>Byte offset of the <see cref="FileHeader.FileChecksum"/> field.</summary>
        public const int FileChecksum = 24;
        /// <summary>Byte offset of the <see cref="FileHeader.Architecture"/> field.</summary>
        public const int Architecture = 32;
        /// <summary>Byte offset of the <see cref="FileHeader.Abi"/> field.</summary>
        public const int Abi = 34;
        /// <summary>Byte offset of the <see cref="FileHeader.Os"/> field.</summary>
        public const int Os = 36;
        /// <summary>Byte offset of the <see cref="FileHeader.Reserved0"/> field.</summary>
        public const int Reserved0 = 38;
        /// <summary>Byte offset of the <see cref="FileHeader.RequiredFlags"/> field.</summary>
        public const int RequiredFlags = 40;
        /// <summary>Byte offset of the <see cref="FileHeader.OptionalFlags"/> field.</summary>
        public const int OptionalFlags = 44;
        /// <summary>Byte offset of the <see cref="FileHeader.RequiredCpuFeatures"/> field.</summary>
        public const int RequiredCpuFeatures = 48;
        /// <summary>Byte offset of the <see cref="FileHeader.CodegenFingerprint"/> field.</summary>
        public const int CodegenFingerprint = 56;
        /// <summary>Byte offset of the <see cref="FileHeader.Producer"/> field.</summary>
        public const int Producer = 64;
        /// <summary>Byte offset of the <see cref="FileHeader.ModuleName"/> field.</summary>
        public const int ModuleName = 72;
        /// <summary>Byte offset of the <see cref="FileHeader.SectionCount"/> field.</summary>
        public const int SectionCount = 80;
        /// <summary>Byte offset of the <see cref="FileHeader.DirectoryOffset"/> field.</summary>
        public const int DirectoryOffset = 84;
        /// <summary>Byte offset of the <see cref="FileHeader.Reserved1"/> field.</summary>
        public const int Reserved1 = 88;
        /// <summary>Byte offset of the <see cref="FileHeader.Reserved2"/> field.</summary>
        public const int Reserved2 = 96;
        /// <summary>Byte offset of the <see cref="FileHeader.Reserved3"/> field.</summary>
        public const int Reserved3 = 104;
        /// <summary>Byte offset of the <see cref="FileHeader.Reserved4"/> field.</summary>
        public const int Reserved4 = 112;
        /// <summary>Byte offset of the <see cref="FileHeader.Reserved5"/> field.</summary>
        public const int Reserved5 = 120;
    }
}

/// <summary>A 40-byte section directory entry (FORMAT.md §4).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct SectionEntry
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 40;
    /// <summary>0: <see cref="SectionKind"/>; each kind at most once [SEC-4].</summary>
    [FieldOffset(At.Kind)] public uint Kind;
    /// <summary>4: <see cref="SectionFlags"/> [SEC-5] [SEC-6].</summary>
    [FieldOffset(At.Flags)] public uint Flags;
    /// <summary>8: byte offset in the file, a multiple of <see cref="Alignment"/> [SEC-1] [SEC-2].</summary>
    [FieldOffset(At.Offset)] public ulong Offset;
    /// <summary>16: byte length; a table's is a multiple of its record size [SEC-7].</summary>
    [FieldOffset(At.Size)] public ulong Size;
    /// <summary>24: power of two from 8 to 4096 [SEC-1].</summary>
    [FieldOffset(At.Alignment)] public uint Alignment;
    /// <summary>28: reserved, zero.</summary>
    [FieldOffset(At.Reserved)] public uint Reserved;
    /// <summary>32: XxHash3-64 (seed 0) of the section's bytes [INT-2].</summary>
    [FieldOffset(At.Checksum)] public ulong Checksum;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="SectionEntry.Kind"/> field.</summary>
        public const int Kind = 0;
        /// <summary>Byte offset of the <see cref="SectionEntry.Flags"/> field.</summary>
        public const int Flags = 4;
        /// <summary>Byte offset of the <see cref="SectionEntry.Offset"/> field.</summary>
        public const int Offset = 8;
        /// <summary>Byte offset of the <see cref="SectionEntry.Size"/> field.</summary>
        public const int Size = 16;
        /// <summary>Byte offset of the <see cref="SectionEntry.Alignment"/> field.</summary>
        public const int Alignment = 24;
        /// <summary>Byte offset of the <see cref="SectionEntry.Reserved"/> field.</summary>
        public const int Reserved = 28;
        /// <summary>Byte offset of the <see cref="SectionEntry.Checksum"/> field.</summary>
        public const int Checksum = 32;
    }
}

/// <summary>A 16-byte declaration: a function type (FORMAT.md §6).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public readonly struct DeclarationRecord(uint signatureOffset, uint signatureLength, ulong signatureHash)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 16;
    /// <summary>0: offset of the canonical encoding in the signatures section [SIG-3].</summary>
    [FieldOffset(At.SignatureOffset)] public readonly uint SignatureOffset = signatureOffset;
    /// <summary>4: length of the canonical encoding [SIG-1].</summary>
    [FieldOffset(At.SignatureLength)] public readonly uint SignatureLength = signatureLength;
    /// <summary>8: XxHash3-64 (seed 0) of the encoding [SIG-2].</summary>
    [FieldOffset(At.SignatureHash)] public readonly ulong SignatureHash = signatureHash;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="DeclarationRecord.SignatureOffset"/> field.</summary>
        public const int SignatureOffset = 0;
        /// <summary>Byte offset of the <see cref="DeclarationRecord.SignatureLength"/> field.</summary>
        public const int SignatureLength = 4;
        /// <summary>Byte offset of the <see cref="DeclarationRecord.SignatureHash"/> field.</summary>
        public const int SignatureHash = 8;
    }
}

/// <summary>A 24-byte symbol (FORMAT.md §7). The table is sorted by name bytes, names unique [SYM-2].</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public readonly struct SymbolRecord(StringRef name, SymbolKind kind, Linkage linkage, uint declaration, uint definition)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 24;
    /// <summary>0: the name, non-empty [STR-3].</summary>
    [FieldOffset(At.Name)] public readonly StringRef Name = name;
    /// <summary>8: <see cref="SymbolKind"/> [SYM-1].</summary>
    [FieldOffset(At.Kind)] public readonly SymbolKind Kind = kind;
    /// <summary>9: <see cref="Format.Linkage"/> [SYM-1].</summary>
    [FieldOffset(At.Linkage)] public readonly Linkage Linkage = linkage;
    /// <summary>10: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public readonly ushort Reserved0 = 0;
    /// <summary>12: declaration index for functions and imported functions, else <see cref="FormatConstants.NoIndex"/> [SYM-3].</summary>
    [FieldOffset(At.Declaration)] public readonly uint Declaration = declaration;
    /// <summary>16: function or data object index for defined symbols, else <see cref="FormatConstants.NoIndex"/> [SYM-4].</summary>
    [FieldOffset(At.Definition)] public readonly uint Definition = definition;
    /// <summary>20: reserved, zero.</summary>
    [FieldOffset(At.Reserved1)] public readonly uint Reserved1 = 0;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="SymbolRecord.Name"/> field.</summary>
        public const int Name = 0;
        /// <summary>Byte offset of the <see cref="SymbolRecord.Kind"/> field.</summary>
        public const int Kind = 8;
        /// <summary>Byte offset of the <see cref="SymbolRecord.Linkage"/> field.</summary>
        public const int Linkage = 9;
        /// <summary>Byte offset of the <see cref="SymbolRecord.Reserved0"/> field.</summary>
        public const int Reserved0 = 10;
        /// <summary>Byte offset of the <see cref="SymbolRecord.Declaration"/> field.</summary>
        public const int Declaration = 12;
        /// <summary>Byte offset of the <see cref="SymbolRecord.Definition"/> field.</summary>
        public const int Definition = 16;
        /// <summary>Byte offset of the <see cref="SymbolRecord.Reserved1"/> field.</summary>
        public const int Reserved1 = 20;
    }
}

/// <summary>A 48-byte function (FORMAT.md §8). The table is sorted by code offset [FUN-2].</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public readonly struct FunctionRecord(
    uint symbol, uint codeOffset, uint codeSize, uint alignment,
    uint firstRelocation, uint relocationCount, CpuFeatures requiredCpuFeatures, ContentHash contentHash)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 48;
    /// <summary>0: the symbol that names this function; that symbol's definition is this record [SYM-4].</summary>
    [FieldOffset(At.Symbol)] public readonly uint Symbol = symbol;
    /// <summary>4: offset of the first byte in the code section, a multiple of <see cref="Alignment"/> [FUN-1] [FUN-3].</summary>
    [FieldOffset(At.CodeOffset)] public readonly uint CodeOffset = codeOffset;
    /// <summary>8: number of code bytes, at least 1 [FUN-5].</summary>
    [FieldOffset(At.CodeSize)] public readonly uint CodeSize = codeSize;
    /// <summary>12: power of two from 1 to 4096 [FUN-3].</summary>
    [FieldOffset(At.Alignment)] public readonly uint Alignment = alignment;
    /// <summary>16: index of this function's first relocation [REL-2].</summary>
    [FieldOffset(At.FirstRelocation)] public readonly uint FirstRelocation = firstRelocation;
    /// <summary>20: number of relocations [REL-2].</summary>
    [FieldOffset(At.RelocationCount)] public readonly uint RelocationCount = relocationCount;
    /// <summary>24: <see cref="CpuFeatures"/> this function needs [FUN-6].</summary>
    [FieldOffset(At.RequiredCpuFeatures)] public readonly CpuFeatures RequiredCpuFeatures = requiredCpuFeatures;
    /// <summary>32: the front end's cache key for this function; zero when none.</summary>
    [FieldOffset(At.ContentHash)] public readonly ContentHash ContentHash = contentHash;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="FunctionRecord.Symbol"/> field.</summary>
        public const int Symbol = 0;
        /// <summary>Byte offset of the <see cref="FunctionRecord.CodeOffset"/> field.</summary>
        public const int CodeOffset = 4;
        /// <summary>Byte offset of the <see cref="FunctionRecord.CodeSize"/> field.</summary>
        public const int CodeSize = 8;
        /// <summary>Byte offset of the <see cref="FunctionRecord.Alignment"/> field.</summary>
        public const int Alignment = 12;
        /// <summary>Byte offset of the <see cref="FunctionRecord.FirstRelocation"/> field.</summary>
        public const int FirstRelocation = 16;
        /// <summary>Byte offset of the <see cref="FunctionRecord.RelocationCount"/> field.</summary>
        public const int RelocationCount = 20;
        /// <summary>Byte offset of the <see cref="FunctionRecord.RequiredCpuFeatures"/> field.</summary>
        public const int RequiredCpuFeatures = 24;
        /// <summary>Byte offset of the <see cref="FunctionRecord.ContentHash"/> field.</summary>
        public const int ContentHash = 32;
    }
}

/// <summary>A 48-byte data object (FORMAT.md §9).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public readonly struct DataObjectRecord(
    uint symbol, DataKind kind, uint offset, uint size, uint alignment,
    uint firstRelocation, uint relocationCount, ContentHash contentHash)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 48;
    /// <summary>0: the symbol that names this object [SYM-4].</summary>
    [FieldOffset(At.Symbol)] public readonly uint Symbol = symbol;
    /// <summary>4: <see cref="DataKind"/> [DAT-1].</summary>
    [FieldOffset(At.Kind)] public readonly DataKind Kind = kind;
    /// <summary>5..7: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public readonly byte Reserved0 = 0;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved1)] public readonly ushort Reserved1 = 0;
    /// <summary>8: offset in the data section, or in the zero-fill area for zero-filled objects [DAT-2].</summary>
    [FieldOffset(At.Offset)] public readonly uint Offset = offset;
    /// <summary>12: size in bytes, at least 1 [DAT-2].</summary>
    [FieldOffset(At.Size)] public readonly uint Size = size;
    /// <summary>16: power of two from 1 to 4096; <see cref="Offset"/> is a multiple of it [DAT-3].</summary>
    [FieldOffset(At.Alignment)] public readonly uint Alignment = alignment;
    /// <summary>20: index of the first relocation [REL-2].</summary>
    [FieldOffset(At.FirstRelocation)] public readonly uint FirstRelocation = firstRelocation;
    /// <summary>24: number of relocations; zero for zero-filled objects [DAT-1].</summary>
    [FieldOffset(At.RelocationCount)] public readonly uint RelocationCount = relocationCount;
    /// <summary>28: reserved, zero.</summary>
    [FieldOffset(At.Reserved2)] public readonly uint Reserved2 = 0;
    /// <summary>32: the front end's cache key for this object's content; zero when none.</summary>
    [FieldOffset(At.ContentHash)] public readonly ContentHash ContentHash = contentHash;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Symbol"/> field.</summary>
        public const int Symbol = 0;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Kind"/> field.</summary>
        public const int Kind = 4;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Reserved0"/> field.</summary>
        public const int Reserved0 = 5;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Reserved1"/> field.</summary>
        public const int Reserved1 = 6;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Offset"/> field.</summary>
        public const int Offset = 8;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Size"/> field.</summary>
        public const int Size = 12;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Alignment"/> field.</summary>
        public const int Alignment = 16;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.FirstRelocation"/> field.</summary>
        public const int FirstRelocation = 20;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.RelocationCount"/> field.</summary>
        public const int RelocationCount = 24;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.Reserved2"/> field.</summary>
        public const int Reserved2 = 28;
        /// <summary>Byte offset of the <see cref="DataObjectRecord.ContentHash"/> field.</summary>
        public const int ContentHash = 32;
    }
}

/// <summary>A 32-byte relocation (FORMAT.md §10).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public readonly struct RelocationRecord(uint offset, RelocationKind kind, uint target, long addend, ulong expectedSignatureHash)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 32;
    /// <summary>0: offset of the patch field from the start of its owner (function or data object) [REL-3].</summary>
    [FieldOffset(At.Offset)] public readonly uint Offset = offset;
    /// <summary>4: <see cref="RelocationKind"/> [REL-1].</summary>
    [FieldOffset(At.Kind)] public readonly RelocationKind Kind = kind;
    /// <summary>6: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public readonly ushort Reserved0 = 0;
    /// <summary>8: index of the target symbol [REL-5] [REL-6].</summary>
    [FieldOffset(At.Target)] public readonly uint Target = target;
    /// <summary>12: reserved, zero.</summary>
    [FieldOffset(At.Reserved1)] public readonly uint Reserved1 = 0;
    /// <summary>16: signed addend A; for 32-bit kinds within [−2^31, 2^31) [REL-7].</summary>
    [FieldOffset(At.Addend)] public readonly long Addend = addend;
    /// <summary>24: signature hash of the declaration the owner was compiled against, when the
    /// target is a function; 0 = not recorded. Must be 0 for data targets [REL-8].</summary>
    [FieldOffset(At.ExpectedSignatureHash)] public readonly ulong ExpectedSignatureHash = expectedSignatureHash;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="RelocationRecord.Offset"/> field.</summary>
        public const int Offset = 0;
        /// <summary>Byte offset of the <see cref="RelocationRecord.Kind"/> field.</summary>
        public const int Kind = 4;
        /// <summary>Byte offset of the <see cref="RelocationRecord.Reserved0"/> field.</summary>
        public const int Reserved0 = 6;
        /// <summary>Byte offset of the <see cref="RelocationRecord.Target"/> field.</summary>
        public const int Target = 8;
        /// <summary>Byte offset of the <see cref="RelocationRecord.Reserved1"/> field.</summary>
        public const int Reserved1 = 12;
        /// <summary>Byte offset of the <see cref="RelocationRecord.Addend"/> field.</summary>
        public const int Addend = 16;
        /// <summary>Byte offset of the <see cref="RelocationRecord.ExpectedSignatureHash"/> field.</summary>
        public const int ExpectedSignatureHash = 24;
    }
}

/// <summary>A 24-byte codegen fingerprint component (FORMAT.md §5). Sorted by key bytes, keys unique [FPR-1].</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public readonly struct FingerprintComponent(StringRef key, FingerprintValueKind valueKind, MatchRule match, ulong value)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 24;
    /// <summary>0: the component's name, non-empty.</summary>
    [FieldOffset(At.Key)] public readonly StringRef Key = key;
    /// <summary>8: <see cref="FingerprintValueKind"/>.</summary>
    [FieldOffset(At.ValueKind)] public readonly FingerprintValueKind ValueKind = valueKind;
    /// <summary>9: <see cref="MatchRule"/>; <see cref="MatchRule.Superset"/> only for feature sets.</summary>
    [FieldOffset(At.Match)] public readonly MatchRule Match = match;
    /// <summary>10..15: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public readonly ushort Reserved0 = 0;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved1)] public readonly uint Reserved1 = 0;
    /// <summary>16: the value; for strings a <see cref="StringRef"/> (offset in the low 32 bits, length in the high).</summary>
    [FieldOffset(At.Value)] public readonly ulong Value = value;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="FingerprintComponent.Key"/> field.</summary>
        public const int Key = 0;
        /// <summary>Byte offset of the <see cref="FingerprintComponent.ValueKind"/> field.</summary>
        public const int ValueKind = 8;
        /// <summary>Byte offset of the <see cref="FingerprintComponent.Match"/> field.</summary>
        public const int Match = 9;
        /// <summary>Byte offset of the <see cref="FingerprintComponent.Reserved0"/> field.</summary>
        public const int Reserved0 = 10;
        /// <summary>Byte offset of the <see cref="FingerprintComponent.Reserved1"/> field.</summary>
        public const int Reserved1 = 12;
        /// <summary>Byte offset of the <see cref="FingerprintComponent.Value"/> field.</summary>
        public const int Value = 16;
    }
}

/// <summary>A 32-byte dependency of a function on another symbol's content (FORMAT.md §11).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public readonly struct DependencyRecord(uint function, uint target, DependencyKind kind, ContentHash expectedContentHash)
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 32;
    /// <summary>0: index of the dependent function in the function table.</summary>
    [FieldOffset(At.Function)] public readonly uint Function = function;
    /// <summary>4: index of the symbol depended on.</summary>
    [FieldOffset(At.Target)] public readonly uint Target = target;
    /// <summary>8: <see cref="DependencyKind"/>.</summary>
    [FieldOffset(At.Kind)] public readonly DependencyKind Kind = kind;
    /// <summary>10..15: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public readonly ushort Reserved0 = 0;
    /// <summary>Reserved, zero [LIM-1].</summary>
    [FieldOffset(At.Reserved1)] public readonly uint Reserved1 = 0;
    /// <summary>16: content hash of the target that the function was compiled against.</summary>
    [FieldOffset(At.ExpectedContentHash)] public readonly ContentHash ExpectedContentHash = expectedContentHash;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="DependencyRecord.Function"/> field.</summary>
        public const int Function = 0;
        /// <summary>Byte offset of the <see cref="DependencyRecord.Target"/> field.</summary>
        public const int Target = 4;
        /// <summary>Byte offset of the <see cref="DependencyRecord.Kind"/> field.</summary>
        public const int Kind = 8;
        /// <summary>Byte offset of the <see cref="DependencyRecord.Reserved0"/> field.</summary>
        public const int Reserved0 = 10;
        /// <summary>Byte offset of the <see cref="DependencyRecord.Reserved1"/> field.</summary>
        public const int Reserved1 = 12;
        /// <summary>Byte offset of the <see cref="DependencyRecord.ExpectedContentHash"/> field.</summary>
        public const int ExpectedContentHash = 16;
    }
}

/// <summary>32 bytes inline (a key id).</summary>
[System.Runtime.CompilerServices.InlineArray(32)]
public struct Bytes32
{
    private byte _first;
}

/// <summary>64 bytes inline (a signature).</summary>
[System.Runtime.CompilerServices.InlineArray(64)]
public struct Bytes64
{
    private byte _first;
}

/// <summary>24 bytes inline (reserved).</summary>
[System.Runtime.CompilerServices.InlineArray(24)]
public struct Bytes24
{
    private byte _first;
}

/// <summary>
/// The 128-byte content of a signature section (FORMAT.md §13.3). The signed message is every byte of
/// the file before this section, with the file checksum field (header offset 24) and this section's
/// directory checksum field taken as zero [AUTH-2].
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct SignatureRecord
{
    /// <summary>Size of one record in bytes.</summary>
    public const int RecordSize = 128;
    /// <summary>Bytes of the signature field: the longest signature an algorithm may produce.</summary>
    public const int MaxSignatureLength = 64;
    /// <summary>0: <see cref="SignatureAlgorithm"/>.</summary>
    [FieldOffset(At.Algorithm)] public ushort Algorithm;
    /// <summary>2: reserved, zero.</summary>
    [FieldOffset(At.Reserved0)] public ushort Reserved0;
    /// <summary>4: number of meaningful bytes in <see cref="Signature"/>: 32 for HMAC-SHA256, 64 for ECDSA P-256.</summary>
    [FieldOffset(At.SignatureLength)] public uint SignatureLength;
    /// <summary>8: SHA-256 of the key's identity: of the SubjectPublicKeyInfo (ECDSA) or of the key's name (HMAC).</summary>
    [FieldOffset(At.KeyId)] public Bytes32 KeyId;
    /// <summary>40: the signature, zero-padded to 64 bytes.</summary>
    [FieldOffset(At.Signature)] public Bytes64 Signature;
    /// <summary>104..127: reserved, zero.</summary>
    [FieldOffset(At.Reserved1)] public Bytes24 Reserved1;

    /// <summary>Byte offset of each field inside the record: the one statement of the layout, used by the
    /// field attributes above and by readers that name a field's file offset in an error.</summary>
    public static class At
    {
        /// <summary>Byte offset of the <see cref="SignatureRecord.Algorithm"/> field.</summary>
        public const int Algorithm = 0;
        /// <summary>Byte offset of the <see cref="SignatureRecord.Reserved0"/> field.</summary>
        public const int Reserved0 = 2;
        /// <summary>Byte offset of the <see cref="SignatureRecord.SignatureLength"/> field.</summary>
        public const int SignatureLength = 4;
        /// <summary>Byte offset of the <see cref="SignatureRecord.KeyId"/> field.</summary>
        public const int KeyId = 8;
        /// <summary>Byte offset of the <see cref="SignatureRecord.Signature"/> field.</summary>
        public const int Signature = 40;
        /// <summary>Byte offset of the <see cref="SignatureRecord.Reserved1"/> field.</summary>
        public const int Reserved1 = 104;
    }
}
