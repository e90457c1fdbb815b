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
    [FieldOffset(0)] public ulong Magic;
    /// <summary>8: must be a major version the reader supports [HDR-2].</summary>
    [FieldOffset(8)] public ushort MajorVersion;
    /// <summary>10: any value; a newer minor only adds optional things [HDR-2].</summary>
    [FieldOffset(10)] public ushort MinorVersion;
    /// <summary>12: must be 128 [HDR-3].</summary>
    [FieldOffset(12)] public uint HeaderSize;
    /// <summary>16: must equal the file's length in bytes [HDR-4], at most 2^31 − 1 [LIM-2].</summary>
    [FieldOffset(16)] public ulong FileSize;
    /// <summary>24: XxHash3-64 (seed 0) of the whole file with these 8 bytes taken as zero [INT-1].</summary>
    [FieldOffset(24)] public ulong FileChecksum;
    /// <summary>32: <see cref="Format.Architecture"/> [HDR-7].</summary>
    [FieldOffset(32)] public ushort Architecture;
    /// <summary>34: <see cref="Format.Abi"/> [HDR-7].</summary>
    [FieldOffset(34)] public ushort Abi;
    /// <summary>36: <see cref="TargetOs"/> [HDR-7].</summary>
    [FieldOffset(36)] public ushort Os;
    /// <summary>38: reserved, zero.</summary>
    [FieldOffset(38)] public ushort Reserved0;
    /// <summary>40: <see cref="Format.RequiredFlags"/>; unknown bits refuse the file [HDR-6].</summary>
    [FieldOffset(40)] public uint RequiredFlags;
    /// <summary>44: <see cref="Format.OptionalFlags"/>; unknown bits are ignored.</summary>
    [FieldOffset(44)] public uint OptionalFlags;
    /// <summary>48: <see cref="CpuFeatures"/> every function of the file needs [FUN-6].</summary>
    [FieldOffset(48)] public ulong RequiredCpuFeatures;
    /// <summary>56: XxHash3-64 (seed 0) of the fingerprint section's bytes, 0 when there is none [FPR-2].</summary>
    [FieldOffset(56)] public ulong CodegenFingerprint;
    /// <summary>64: name and version of the program that wrote the file.</summary>
    [FieldOffset(64)] public StringRef Producer;
    /// <summary>72: name of the module, for tools and diagnostics.</summary>
    [FieldOffset(72)] public StringRef ModuleName;
    /// <summary>80: number of 40-byte directory entries, at most 64 [HDR-9].</summary>
    [FieldOffset(80)] public uint SectionCount;
    /// <summary>84: must be 128: the directory follows the header [HDR-8].</summary>
    [FieldOffset(84)] public uint DirectoryOffset;
    /// <summary>88..127: reserved, zero.</summary>
    [FieldOffset(88)] public ulong Reserved1;
    [FieldOffset(96)] public ulong Reserved2;
    [FieldOffset(104)] public ulong Reserved3;
    [FieldOffset(112)] public ulong Reserved4;
    [FieldOffset(120)] public ulong Reserved5;
}

/// <summary>A 40-byte section directory entry (FORMAT.md §4).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 40)]
public struct SectionEntry
{
    public const int RecordSize = 40;
    /// <summary>0: <see cref="SectionKind"/>; each kind at most once [SEC-4].</summary>
    public uint Kind;
    /// <summary>4: <see cref="SectionFlags"/> [SEC-5] [SEC-6].</summary>
    public uint Flags;
    /// <summary>8: byte offset in the file, a multiple of <see cref="Alignment"/> [SEC-1] [SEC-2].</summary>
    public ulong Offset;
    /// <summary>16: byte length; a table's is a multiple of its record size [SEC-7].</summary>
    public ulong Size;
    /// <summary>24: power of two from 8 to 4096 [SEC-1].</summary>
    public uint Alignment;
    /// <summary>28: reserved, zero.</summary>
    public uint Reserved;
    /// <summary>32: XxHash3-64 (seed 0) of the section's bytes [INT-2].</summary>
    public ulong Checksum;
}

/// <summary>A 16-byte declaration: a function type (FORMAT.md §6).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 16)]
public readonly struct DeclarationRecord(uint signatureOffset, uint signatureLength, ulong signatureHash)
{
    public const int RecordSize = 16;
    /// <summary>0: offset of the canonical encoding in the signatures section [SIG-3].</summary>
    public readonly uint SignatureOffset = signatureOffset;
    /// <summary>4: length of the canonical encoding [SIG-1].</summary>
    public readonly uint SignatureLength = signatureLength;
    /// <summary>8: XxHash3-64 (seed 0) of the encoding [SIG-2].</summary>
    public readonly ulong SignatureHash = signatureHash;
}

/// <summary>A 24-byte symbol (FORMAT.md §7). The table is sorted by name bytes, names unique [SYM-2].</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4, Size = 24)]
public readonly struct SymbolRecord(StringRef name, SymbolKind kind, Linkage linkage, uint declaration, uint definition)
{
    public const int RecordSize = 24;
    /// <summary>0: the name, non-empty [STR-3].</summary>
    public readonly StringRef Name = name;
    /// <summary>8: <see cref="SymbolKind"/> [SYM-1].</summary>
    public readonly SymbolKind Kind = kind;
    /// <summary>9: <see cref="Format.Linkage"/> [SYM-1].</summary>
    public readonly Linkage Linkage = linkage;
    /// <summary>10: reserved, zero.</summary>
    public readonly ushort Reserved0 = 0;
    /// <summary>12: declaration index for functions and imported functions, else <see cref="FormatConstants.NoIndex"/> [SYM-3].</summary>
    public readonly uint Declaration = declaration;
    /// <summary>16: function or data object index for defined symbols, else <see cref="FormatConstants.NoIndex"/> [SYM-4].</summary>
    public readonly uint Definition = definition;
    /// <summary>20: reserved, zero.</summary>
    public readonly uint Reserved1 = 0;
}

/// <summary>A 48-byte function (FORMAT.md §8). The table is sorted by code offset [FUN-2].</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 48)]
public readonly struct FunctionRecord(
    uint symbol, uint codeOffset, uint codeSize, uint alignment,
    uint firstRelocation, uint relocationCount, CpuFeatures requiredCpuFeatures, ContentHash contentHash)
{
    public const int RecordSize = 48;
    /// <summary>0: the symbol that names this function; that symbol's definition is this record [SYM-4].</summary>
    public readonly uint Symbol = symbol;
    /// <summary>4: offset of the first byte in the code section, a multiple of <see cref="Alignment"/> [FUN-1] [FUN-3].</summary>
    public readonly uint CodeOffset = codeOffset;
    /// <summary>8: number of code bytes, at least 1 [FUN-5].</summary>
    public readonly uint CodeSize = codeSize;
    /// <summary>12: power of two from 1 to 4096 [FUN-3].</summary>
    public readonly uint Alignment = alignment;
    /// <summary>16: index of this function's first relocation [REL-2].</summary>
    public readonly uint FirstRelocation = firstRelocation;
    /// <summary>20: number of relocations [REL-2].</summary>
    public readonly uint RelocationCount = relocationCount;
    /// <summary>24: <see cref="CpuFeatures"/> this function needs [FUN-6].</summary>
    public readonly CpuFeatures RequiredCpuFeatures = requiredCpuFeatures;
    /// <summary>32: the front end's cache key for this function; zero when none.</summary>
    public readonly ContentHash ContentHash = contentHash;
}

/// <summary>A 48-byte data object (FORMAT.md §9).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 48)]
public readonly struct DataObjectRecord(
    uint symbol, DataKind kind, uint offset, uint size, uint alignment,
    uint firstRelocation, uint relocationCount, ContentHash contentHash)
{
    public const int RecordSize = 48;
    /// <summary>0: the symbol that names this object [SYM-4].</summary>
    public readonly uint Symbol = symbol;
    /// <summary>4: <see cref="DataKind"/> [DAT-1].</summary>
    public readonly DataKind Kind = kind;
    /// <summary>5..7: reserved, zero.</summary>
    public readonly byte Reserved0 = 0;
    public readonly ushort Reserved1 = 0;
    /// <summary>8: offset in the data section, or in the zero-fill area for zero-filled objects [DAT-2].</summary>
    public readonly uint Offset = offset;
    /// <summary>12: size in bytes, at least 1 [DAT-2].</summary>
    public readonly uint Size = size;
    /// <summary>16: power of two from 1 to 4096; <see cref="Offset"/> is a multiple of it [DAT-3].</summary>
    public readonly uint Alignment = alignment;
    /// <summary>20: index of the first relocation [REL-2].</summary>
    public readonly uint FirstRelocation = firstRelocation;
    /// <summary>24: number of relocations; zero for zero-filled objects [DAT-1].</summary>
    public readonly uint RelocationCount = relocationCount;
    /// <summary>28: reserved, zero.</summary>
    public readonly uint Reserved2 = 0;
    /// <summary>32: the front end's cache key for this object's content; zero when none.</summary>
    public readonly ContentHash ContentHash = contentHash;
}

/// <summary>A 32-byte relocation (FORMAT.md §10).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 32)]
public readonly struct RelocationRecord(uint offset, RelocationKind kind, uint target, long addend, ulong expectedSignatureHash)
{
    public const int RecordSize = 32;
    /// <summary>0: offset of the patch field from the start of its owner (function or data object) [REL-3].</summary>
    public readonly uint Offset = offset;
    /// <summary>4: <see cref="RelocationKind"/> [REL-1].</summary>
    public readonly RelocationKind Kind = kind;
    /// <summary>6: reserved, zero.</summary>
    public readonly ushort Reserved0 = 0;
    /// <summary>8: index of the target symbol [REL-5] [REL-6].</summary>
    public readonly uint Target = target;
    /// <summary>12: reserved, zero.</summary>
    public readonly uint Reserved1 = 0;
    /// <summary>16: signed addend A; for 32-bit kinds within [−2^31, 2^31) [REL-7].</summary>
    public readonly long Addend = addend;
    /// <summary>24: signature hash of the declaration the owner was compiled against, when the
    /// target is a function; 0 = not recorded. Must be 0 for data targets [REL-8].</summary>
    public readonly ulong ExpectedSignatureHash = expectedSignatureHash;
}

/// <summary>A 24-byte codegen fingerprint component (FORMAT.md §5). Sorted by key bytes, keys unique [FPR-1].</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 24)]
public readonly struct FingerprintComponent(StringRef key, FingerprintValueKind valueKind, MatchRule match, ulong value)
{
    public const int RecordSize = 24;
    /// <summary>0: the component's name, non-empty.</summary>
    public readonly StringRef Key = key;
    /// <summary>8: <see cref="FingerprintValueKind"/>.</summary>
    public readonly FingerprintValueKind ValueKind = valueKind;
    /// <summary>9: <see cref="MatchRule"/>; <see cref="MatchRule.Superset"/> only for feature sets.</summary>
    public readonly MatchRule Match = match;
    /// <summary>10..15: reserved, zero.</summary>
    public readonly ushort Reserved0 = 0;
    public readonly uint Reserved1 = 0;
    /// <summary>16: the value; for strings a <see cref="StringRef"/> (offset in the low 32 bits, length in the high).</summary>
    public readonly ulong Value = value;
}

/// <summary>A 32-byte dependency of a function on another symbol's content (FORMAT.md §11).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 32)]
public readonly struct DependencyRecord(uint function, uint target, DependencyKind kind, ContentHash expectedContentHash)
{
    public const int RecordSize = 32;
    /// <summary>0: index of the dependent function in the function table.</summary>
    public readonly uint Function = function;
    /// <summary>4: index of the symbol depended on.</summary>
    public readonly uint Target = target;
    /// <summary>8: <see cref="DependencyKind"/>.</summary>
    public readonly DependencyKind Kind = kind;
    /// <summary>10..15: reserved, zero.</summary>
    public readonly ushort Reserved0 = 0;
    public readonly uint Reserved1 = 0;
    /// <summary>16: content hash of the target that the function was compiled against.</summary>
    public readonly ContentHash ExpectedContentHash = expectedContentHash;
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
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 128)]
public struct SignatureRecord
{
    public const int RecordSize = 128;
    public const int MaxSignatureLength = 64;
    /// <summary>0: <see cref="SignatureAlgorithm"/>.</summary>
    public ushort Algorithm;
    /// <summary>2: reserved, zero.</summary>
    public ushort Reserved0;
    /// <summary>4: number of meaningful bytes in <see cref="Signature"/>: 32 for HMAC-SHA256, 64 for ECDSA P-256.</summary>
    public uint SignatureLength;
    /// <summary>8: SHA-256 of the key's identity: of the SubjectPublicKeyInfo (ECDSA) or of the key's name (HMAC).</summary>
    public Bytes32 KeyId;
    /// <summary>40: the signature, zero-padded to 64 bytes.</summary>
    public Bytes64 Signature;
    /// <summary>104..127: reserved, zero.</summary>
    public Bytes24 Reserved1;
}
