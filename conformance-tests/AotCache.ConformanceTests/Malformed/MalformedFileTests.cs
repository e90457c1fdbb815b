using AotCache.Format;
using AotCache.Reader;
using static AotCache.Format.SectionKind;

namespace AotCache.ConformanceTests.Malformed;

/// <summary>
/// Hand-made malformed files, each broken in one way and resealed, with the error code and byte offset
/// the reader must report. Rich module layout: symbols a=0, c=1, counter=2, errno=3, print=4,
/// scratch=5, table=6; functions a=0 (32 bytes, relocations 0..4), c=1; data table=0 (RO, relocations
/// 5..6), counter=1 (RW), scratch=2 (zero-filled); declarations (i64)->i64=0, ()->void=1.
/// </summary>
public class MalformedFileTests
{
    private sealed record Case(Func<Vandal, byte[]> Make, ErrorCode Code, Func<Vandal, long>? Offset = null);

    private const int Sym = SymbolRecord.RecordSize, Fn = FunctionRecord.RecordSize, Dat = DataObjectRecord.RecordSize,
        Rel = RelocationRecord.RecordSize, Dcl = DeclarationRecord.RecordSize, Fp = FingerprintComponent.RecordSize, Dep = DependencyRecord.RecordSize;

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Header [HDR-*], [LIM-*]
        ["HDR-1 high bit stripped"] = new(v => v.U8(0, 0x09).Bytes, ErrorCode.BadMagic, _ => 0),
        ["HDR-1 CR LF became LF"] = new(v => v.Bytes.Take(4).Concat(v.Bytes.Skip(5)).ToArray(), ErrorCode.BadMagic, _ => 4),
        ["HDR-1 LF became CR LF"] = new(v => v.Bytes.Take(7).Append((byte)0x0D).Concat(v.Bytes.Skip(7)).ToArray(), ErrorCode.BadMagic, _ => 7),
        ["HDR-4 empty file"] = new(_ => [], ErrorCode.Truncated, _ => 0),
        ["HDR-4 shorter than the header"] = new(v => v.Bytes[..100], ErrorCode.Truncated, _ => 100),
        ["HDR-4 last byte cut"] = new(v => v.Bytes[..^1], ErrorCode.Truncated, _ => 16),
        ["HDR-4 byte appended"] = new(v => [.. v.Bytes, 0], ErrorCode.FileSizeMismatch, _ => 16),
        ["HDR-2 major version 2"] = new(v => v.U16(8, 2).Reseal(), ErrorCode.UnsupportedMajorVersion, _ => 8),
        ["HDR-3 header size 64"] = new(v => v.U32(12, 64).Reseal(), ErrorCode.BadHeaderSize, _ => 12),
        ["LIM-2 file size field beyond 2 GiB"] = new(v => v.U64(16, 1UL << 31).Reseal(fixFileSize: false), ErrorCode.FileTooLarge, _ => 16),
        ["INT-1 code byte flipped"] = new(v => v.U8(v.SectionOffset(Code) + 3, 0x90).Bytes, ErrorCode.FileChecksumMismatch, v => v.SectionOffset(Code)),
        ["INT-1 checksum field damaged"] = new(v => v.U8(24, (byte)(v.Bytes[24] ^ 1)).Bytes, ErrorCode.FileChecksumMismatch, _ => 24),
        ["INT-1 directory damaged"] = new(v => v.U8(FormatConstants.DirectoryOffset + 30, 1).Bytes, ErrorCode.FileChecksumMismatch, _ => 24),
        ["LIM-1 reserved header bytes"] = new(v => v.U8(100, 1).Reseal(), ErrorCode.ReservedNotZero, _ => 96),
        ["LIM-1 reserved header field 38"] = new(v => v.U16(38, 1).Reseal(), ErrorCode.ReservedNotZero, _ => 38),
        ["HDR-6 unknown required flag"] = new(v => v.U32(40, 4).Reseal(), ErrorCode.UnknownRequiredFlag, _ => 40),
        ["HDR-7 unknown architecture"] = new(v => v.U16(32, 9).Reseal(), ErrorCode.UnknownTarget, _ => 32),
        ["HDR-7 unknown ABI"] = new(v => v.U16(34, 0).Reseal(), ErrorCode.UnknownTarget, _ => 34),
        ["HDR-7 unknown OS"] = new(v => v.U16(36, 77).Reseal(), ErrorCode.UnknownTarget, _ => 36),
        ["FUN-6 unknown file CPU feature"] = new(v => v.U64(48, 1UL << 63).Reseal(), ErrorCode.UnknownCpuFeature, _ => 48),
        ["HDR-8 directory elsewhere"] = new(v => v.U32(84, 136).Reseal(), ErrorCode.BadDirectoryOffset, _ => 84),
        ["HDR-9 65 sections"] = new(v => v.U32(80, 65).Reseal(), ErrorCode.TooManySections, _ => 80),
        ["SEC-2 directory past the end"] = new(v => v.Resize(600).U32(80, 64).Reseal(), ErrorCode.SectionOutOfBounds, _ => 80),

        // Directory [SEC-*]
        ["SEC-1 alignment 3"] = new(v => v.U32(v.DirectoryEntry(Strings) + 24, 3).Reseal(), ErrorCode.BadSectionAlignment, v => v.DirectoryEntry(Strings) + 24),
        ["SEC-1 offset not aligned"] = new(v => v.U64(v.DirectoryEntry(Code) + 8, (ulong)v.SectionOffset(Code) + 8).Reseal(), ErrorCode.BadSectionAlignment, v => v.DirectoryEntry(Code) + 8),
        ["SEC-2 size past the end"] = new(v => v.U64(v.DirectoryEntry(Data) + 16, 1UL << 40).Reseal(), ErrorCode.SectionOutOfBounds, v => v.DirectoryEntry(Data) + 8),
        ["SEC-2 offset plus size overflows"] = new(v => v.U64(v.DirectoryEntry(Data) + 16, ulong.MaxValue - 7).Reseal(), ErrorCode.SectionOutOfBounds, v => v.DirectoryEntry(Data) + 8),
        ["SEC-2 first section over the directory"] = new(v => v.U64(v.DirectoryEntry(Strings) + 8, 136).Reseal(), ErrorCode.SectionOutOfBounds, v => v.DirectoryEntry(Strings) + 8),
        ["SEC-3 sections overlap"] = new(v => v.U64(v.DirectoryEntry(Signatures) + 8, (ulong)v.SectionOffset(Strings)).Reseal(), ErrorCode.SectionOverlap, v => v.DirectoryEntry(Signatures) + 8),
        ["SEC-4 two fingerprint sections"] = new(v => v.U32(v.DirectoryEntry(Dependencies), (uint)Fingerprint).Reseal(), ErrorCode.DuplicateSection, v => v.DirectoryEntry(Dependencies)),
        ["SEC-5 unknown required section"] = new(v => v.U32(v.DirectoryEntry(Dependencies), 99).Reseal(), ErrorCode.UnknownRequiredSection, v => v.DirectoryEntry(Dependencies)),
        ["SEC-6 known section not marked required"] = new(v => v.U32(v.DirectoryEntry(Symbols) + 4, 0).Reseal(), ErrorCode.SectionFlagMismatch, v => v.DirectoryEntry(Symbols) + 4),
        ["LIM-1 unknown section flag"] = new(v => v.U32(v.DirectoryEntry(Symbols) + 4, 3).Reseal(), ErrorCode.ReservedNotZero, v => v.DirectoryEntry(Symbols) + 4),
        ["LIM-1 directory reserved field"] = new(v => v.U32(v.DirectoryEntry(Symbols) + 28, 1).Reseal(), ErrorCode.ReservedNotZero, v => v.DirectoryEntry(Symbols) + 28),
        ["SEC-7 symbol table not whole records"] = new(v => v.U64(v.DirectoryEntry(Symbols) + 16, (ulong)(7 * Sym - 1)).Reseal(), ErrorCode.BadTableSize, v => v.DirectoryEntry(Symbols) + 16),
        ["SEC-8 padding before code"] = new(v => v.U8(v.SectionOffset(Code) - 1, 0xCC).Reseal(), ErrorCode.NonZeroPadding, v => v.SectionOffset(Code) - 1),
        ["SEC-8 trailing bytes"] = new(v => v.Resize(v.Bytes.Length + 8).Edit(b => b[^1] = 1).Reseal(), ErrorCode.NonZeroPadding, v => v.Bytes.Length - 1),

        // Strings [STR-*]
        ["STR-1 invalid UTF-8"] = new(v => v.U8(v.SectionOffset(Strings) + 2, 0xFF).Reseal(), ErrorCode.BadUtf8, v => v.SectionOffset(Strings) + 2),
        ["STR-2 name past the table"] = new(v => v.U32(v.Record(Symbols, 0, Sym) + 4, 100000).Reseal(), ErrorCode.BadStringRef, v => v.Record(Symbols, 0, Sym)),
        ["STR-2 string ends inside a character"] = new(v => v.U32(76, v.Original.Header.ModuleName.Length - 1).Reseal(), ErrorCode.BadStringRef, _ => 76),
        ["STR-2 string starts inside a character"] = new(v => v.U32(72, v.Original.Header.ModuleName.Offset + v.Original.Header.ModuleName.Length - 1).U32(76, 1).Reseal(), ErrorCode.BadStringRef, _ => 72),
        ["STR-3 empty symbol name"] = new(v => v.U32(v.Record(Symbols, 0, Sym) + 4, 0).Reseal(), ErrorCode.EmptyName, v => v.Record(Symbols, 0, Sym) + 4),

        // Fingerprint [FPR-*]
        ["FPR-1 unknown value kind"] = new(v => v.U8(v.Record(Fingerprint, 0, Fp) + 8, 9).Reseal(), ErrorCode.BadFingerprint, v => v.Record(Fingerprint, 0, Fp) + 8),
        ["FPR-1 superset of a string"] = new(v => v.U8(v.Record(Fingerprint, 0, Fp) + 9, (byte)MatchRule.Superset).Reseal(), ErrorCode.BadFingerprint, v => v.Record(Fingerprint, 0, Fp) + 9),
        ["FPR-1 keys out of order"] = new(v => v.Edit(b => Swap(b, v.Record(Fingerprint, 0, Fp), v.Record(Fingerprint, 1, Fp), Fp)).Reseal(), ErrorCode.BadFingerprint, v => v.Record(Fingerprint, 1, Fp)),
        ["FPR-2 fingerprint hash wrong"] = new(v => { v.Reseal(); return v.U64(56, 12345).ResealFileOnly(); }, ErrorCode.FingerprintHashMismatch, _ => 56),

        // Declarations [SIG-*]
        ["SIG-3 signature past its section"] = new(v => v.U32(v.Record(Declarations, 0, Dcl) + 4, 1000).Reseal(), ErrorCode.BadSignatureRef, v => v.Record(Declarations, 0, Dcl)),
        ["SIG-1 unknown calling convention"] = new(v => v.U8(v.SectionOffset(Signatures), 9).Reseal(), ErrorCode.BadSignature, v => v.SectionOffset(Signatures)),
        ["SIG-1 unknown value type"] = new(v => v.U8(v.SectionOffset(Signatures) + 2, 0).Reseal(), ErrorCode.BadSignature, v => v.SectionOffset(Signatures) + 2),
        ["SIG-1 two results"] = new(v => v.U8(v.SectionOffset(Signatures) + 3, 2).Reseal(), ErrorCode.BadSignature, v => v.SectionOffset(Signatures) + 3),
        ["SIG-2 signature hash wrong"] = new(v => v.U64(v.Record(Declarations, 0, Dcl) + 8, 7).Reseal(), ErrorCode.SignatureHashMismatch, v => v.Record(Declarations, 0, Dcl) + 8),

        // Symbols [SYM-*]
        ["SYM-1 unknown symbol kind"] = new(v => v.U8(v.Record(Symbols, 0, Sym) + 8, 9).Reseal(), ErrorCode.BadSymbolKind, v => v.Record(Symbols, 0, Sym) + 8),
        ["SYM-1 exported import"] = new(v => v.U8(v.Record(Symbols, 4, Sym) + 9, (byte)Format.Linkage.Export).Reseal(), ErrorCode.BadSymbolKind, v => v.Record(Symbols, 4, Sym) + 9),
        ["SYM-1 defined symbol with import linkage"] = new(v => v.U8(v.Record(Symbols, 0, Sym) + 9, (byte)Format.Linkage.Import).Reseal(), ErrorCode.BadSymbolKind, v => v.Record(Symbols, 0, Sym) + 9),
        ["LIM-1 symbol reserved field"] = new(v => v.U32(v.Record(Symbols, 2, Sym) + 20, 1).Reseal(), ErrorCode.ReservedNotZero, v => v.Record(Symbols, 2, Sym) + 20),
        ["SYM-2 symbols out of order"] = new(v => v.Edit(b => Swap(b, v.Record(Symbols, 0, Sym), v.Record(Symbols, 1, Sym), 8)).Reseal(), ErrorCode.SymbolsNotSorted, v => v.Record(Symbols, 1, Sym)),
        ["SYM-2 duplicate names"] = new(v => v.Edit(b => b.AsSpan(v.Record(Symbols, 0, Sym), 8).CopyTo(b.AsSpan(v.Record(Symbols, 1, Sym)))).Reseal(), ErrorCode.DuplicateSymbolName, v => v.Record(Symbols, 1, Sym)),
        ["SYM-3 declaration out of range"] = new(v => v.U32(v.Record(Symbols, 0, Sym) + 12, 7).Reseal(), ErrorCode.BadDeclarationIndex, v => v.Record(Symbols, 0, Sym) + 12),
        ["SYM-3 data symbol with a declaration"] = new(v => v.U32(v.Record(Symbols, 2, Sym) + 12, 0).Reseal(), ErrorCode.BadDeclarationIndex, v => v.Record(Symbols, 2, Sym) + 12),
        ["SYM-4 definition names another function"] = new(v => v.U32(v.Record(Symbols, 0, Sym) + 16, 1).Reseal(), ErrorCode.BadDefinitionIndex, v => v.Record(Symbols, 0, Sym) + 16),
        ["SYM-4 definition out of range"] = new(v => v.U32(v.Record(Symbols, 2, Sym) + 16, 0xFFFF_FFF0).Reseal(), ErrorCode.BadDefinitionIndex, v => v.Record(Symbols, 2, Sym) + 16),
        ["SYM-4 import with a definition"] = new(v => v.U32(v.Record(Symbols, 4, Sym) + 16, 0).Reseal(), ErrorCode.BadDefinitionIndex, v => v.Record(Symbols, 4, Sym) + 16),

        // Functions [FUN-*]
        ["FUN-4 function record without its symbol"] = new(v => v.U8(v.Record(Symbols, 1, Sym) + 8, (byte)SymbolKind.ImportFunction)
            .U8(v.Record(Symbols, 1, Sym) + 9, (byte)Format.Linkage.Import).U32(v.Record(Symbols, 1, Sym) + 16, FormatConstants.NoIndex).Reseal(),
            ErrorCode.BadFunctionSymbol, v => v.Record(Functions, 1, Fn)),
        ["FUN-1 code past the section"] = new(v => v.U32(v.Record(Functions, 1, Fn) + 8, 100000).Reseal(), ErrorCode.FunctionOutOfBounds, v => v.Record(Functions, 1, Fn) + 4),
        ["FUN-1 code offset overflow"] = new(v => v.U32(v.Record(Functions, 1, Fn) + 4, 0xFFFF_FFF0).U32(v.Record(Functions, 1, Fn) + 8, 0x20).Reseal(), ErrorCode.FunctionOutOfBounds, v => v.Record(Functions, 1, Fn) + 4),
        ["FUN-5 empty function"] = new(v => v.U32(v.Record(Functions, 1, Fn) + 8, 0).Reseal(), ErrorCode.EmptyFunction, v => v.Record(Functions, 1, Fn) + 8),
        ["FUN-3 alignment 3"] = new(v => v.U32(v.Record(Functions, 1, Fn) + 12, 3).Reseal(), ErrorCode.BadFunctionAlignment, v => v.Record(Functions, 1, Fn) + 12),
        ["FUN-3 misaligned code"] = new(v => v.U32(v.Record(Functions, 1, Fn) + 4, 17).Reseal(), ErrorCode.BadFunctionAlignment, v => v.Record(Functions, 1, Fn) + 4),
        ["FUN-2 functions overlap"] = new(v => v.U32(v.Record(Functions, 1, Fn) + 4, 16).Reseal(), ErrorCode.FunctionOverlap, v => v.Record(Functions, 1, Fn) + 4),
        ["FUN-6 unknown function CPU feature"] = new(v => v.U64(v.Record(Functions, 0, Fn) + 24, 1UL << 40).Reseal(), ErrorCode.UnknownCpuFeature, v => v.Record(Functions, 0, Fn) + 24),

        // Data objects [DAT-*]
        ["DAT-1 unknown data kind"] = new(v => v.U8(v.Record(DataObjects, 0, Dat) + 4, 7).Reseal(), ErrorCode.BadDataKind, v => v.Record(DataObjects, 0, Dat) + 4),
        ["DAT-1 zero-filled with relocations"] = new(v => v.U32(v.Record(DataObjects, 2, Dat) + 24, 1).Reseal(), ErrorCode.BadDataKind, v => v.Record(DataObjects, 2, Dat) + 24),
        ["DAT-2 read-only after writable"] = new(v => v.U8(v.Record(DataObjects, 0, Dat) + 4, (byte)DataKind.Writable).U8(v.Record(DataObjects, 1, Dat) + 4, (byte)DataKind.ReadOnly).Reseal(),
            ErrorCode.DataOrder, v => v.Record(DataObjects, 1, Dat) + 4),
        ["DAT-2 bytes past the data section"] = new(v => v.U32(v.Record(DataObjects, 0, Dat) + 12, 100000).Reseal(), ErrorCode.DataOutOfBounds, v => v.Record(DataObjects, 0, Dat) + 8),
        ["DAT-2 zero size"] = new(v => v.U32(v.Record(DataObjects, 1, Dat) + 12, 0).Reseal(), ErrorCode.DataOutOfBounds, v => v.Record(DataObjects, 1, Dat) + 12),
        ["DAT-2 objects overlap"] = new(v => v.U32(v.Record(DataObjects, 1, Dat) + 8, 8).Reseal(), ErrorCode.DataOrder, v => v.Record(DataObjects, 1, Dat) + 8),
        ["DAT-3 alignment 6"] = new(v => v.U32(v.Record(DataObjects, 0, Dat) + 16, 6).Reseal(), ErrorCode.BadDataAlignment, v => v.Record(DataObjects, 0, Dat) + 16),
        ["DAT-4 data record without its symbol"] = new(v => v.U8(v.Record(Symbols, 6, Sym) + 8, (byte)SymbolKind.ImportData)
            .U8(v.Record(Symbols, 6, Sym) + 9, (byte)Format.Linkage.Import).U32(v.Record(Symbols, 6, Sym) + 16, FormatConstants.NoIndex).Reseal(),
            ErrorCode.BadDataSymbol, v => v.Record(DataObjects, 0, Dat)),
        ["LIM-1 data reserved bytes"] = new(v => v.U8(v.Record(DataObjects, 0, Dat) + 5, 1).Reseal(), ErrorCode.ReservedNotZero, v => v.Record(DataObjects, 0, Dat) + 5),

        // Relocations [REL-*]
        ["REL-1 unknown relocation kind"] = new(v => v.U16(v.Record(Relocations, 0, Rel) + 4, 77).Reseal(), ErrorCode.UnknownRelocationKind, v => v.Record(Relocations, 0, Rel) + 4),
        ["REL-2 range does not start at the cursor"] = new(v => v.U32(v.Record(Functions, 0, Fn) + 16, 1).Reseal(), ErrorCode.BadRelocationRange, v => v.Record(Functions, 0, Fn) + 16),
        ["REL-2 next owner does not continue the tiling"] = new(v => v.U32(v.Record(DataObjects, 0, Dat) + 24, 1).Reseal(), ErrorCode.BadRelocationRange, v => v.Record(DataObjects, 1, Dat) + 20),
        ["REL-2 forged relocation count"] = new(v => v.U32(v.Record(Functions, 0, Fn) + 20, uint.MaxValue).Reseal(), ErrorCode.BadRelocationRange, v => v.Record(Functions, 0, Fn) + 20),
        ["REL-2 relocations owned by nobody"] = new(v => v.U32(v.Record(DataObjects, 0, Dat) + 24, 1).U32(v.Record(DataObjects, 1, Dat) + 20, 6).U32(v.Record(DataObjects, 2, Dat) + 20, 6).Reseal(), ErrorCode.BadRelocationRange, v => v.Record(Relocations, 6, Rel)),
        ["REL-3 field past the function end"] = new(v => v.U32(v.Record(Relocations, 0, Rel), 30).Reseal(), ErrorCode.RelocationOutOfBounds, v => v.Record(Relocations, 0, Rel)),
        ["REL-3 offset near 2^32"] = new(v => v.U32(v.Record(Relocations, 0, Rel), 0xFFFF_FFFE).Reseal(), ErrorCode.RelocationOutOfBounds, v => v.Record(Relocations, 0, Rel)),
        ["REL-3 abs64 past a data object"] = new(v => v.U32(v.Record(Relocations, 6, Rel), 12).Reseal(), ErrorCode.RelocationOutOfBounds, v => v.Record(Relocations, 6, Rel)),
        ["REL-4 relocations overlap"] = new(v => v.U32(v.Record(Relocations, 1, Rel), 3).Reseal(), ErrorCode.RelocationOverlap, v => v.Record(Relocations, 1, Rel)),
        ["REL-4 relocations out of order"] = new(v => v.U32(v.Record(Relocations, 1, Rel), 0).Reseal(), ErrorCode.RelocationOverlap, v => v.Record(Relocations, 1, Rel)),
        ["REL-5 target out of range"] = new(v => v.U32(v.Record(Relocations, 0, Rel) + 8, 99).Reseal(), ErrorCode.BadRelocationTarget, v => v.Record(Relocations, 0, Rel) + 8),
        ["REL-6 call to data"] = new(v => v.U32(v.Record(Relocations, 0, Rel) + 8, 2).Reseal(), ErrorCode.RelocationTargetKindMismatch, v => v.Record(Relocations, 0, Rel) + 8),
        ["REL-6 thunk to imported data"] = new(v => v.U32(v.Record(Relocations, 2, Rel) + 8, 3).U64(v.Record(Relocations, 2, Rel) + 24, 0).Reseal(), ErrorCode.RelocationTargetKindMismatch, v => v.Record(Relocations, 2, Rel) + 8),
        ["REL-7 addend beyond 32 bits"] = new(v => v.I64(v.Record(Relocations, 0, Rel) + 16, 1L << 40).Reseal(), ErrorCode.AddendOutOfRange, v => v.Record(Relocations, 0, Rel) + 16),
        ["REL-8 signature hash on a data relocation"] = new(v => v.U64(v.Record(Relocations, 1, Rel) + 24, 5).Reseal(), ErrorCode.UnexpectedSignatureHash, v => v.Record(Relocations, 1, Rel) + 24),
        ["LIM-1 relocation reserved field"] = new(v => v.U32(v.Record(Relocations, 0, Rel) + 12, 1).Reseal(), ErrorCode.ReservedNotZero, v => v.Record(Relocations, 0, Rel) + 12),

        // Dependencies [DEP-1]
        ["DEP-1 function out of range"] = new(v => v.U32(v.Record(Dependencies, 0, Dep), 5).Reseal(), ErrorCode.BadDependency, v => v.Record(Dependencies, 0, Dep)),
        ["DEP-1 target out of range"] = new(v => v.U32(v.Record(Dependencies, 0, Dep) + 4, 99).Reseal(), ErrorCode.BadDependency, v => v.Record(Dependencies, 0, Dep) + 4),
        ["DEP-1 function content of a data object"] = new(v => v.U16(v.Record(Dependencies, 1, Dep) + 8, (ushort)DependencyKind.FunctionContent).Reseal(), ErrorCode.BadDependency, v => v.Record(Dependencies, 1, Dep) + 8),
        ["DEP-1 not sorted"] = new(v => v.Edit(b => Swap(b, v.Record(Dependencies, 0, Dep), v.Record(Dependencies, 1, Dep), Dep)).Reseal(), ErrorCode.BadDependency, v => v.Record(Dependencies, 1, Dep)),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_file_is_refused_with_its_code_and_offset(string name)
    {
        Case c = Cases[name];
        var vandal = new Vandal(Vandal.RichModule());
        byte[] bytes = c.Make(vandal);
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(bytes, ReadOptions.Full));
        Assert.Equal(c.Code, e.Code);
        if (c.Offset is not null) Assert.Equal(c.Offset(vandal), e.Offset);
        Assert.Equal(ErrorCodes.Requirement(c.Code), e.Requirement);
        Assert.StartsWith(e.Requirement + " ", name);
        Assert.Contains($"[{e.Requirement}]", e.Message);
    }

    [Fact]
    public void LIM_2_no_hostile_file_makes_the_reader_allocate_more_than_its_size_justifies()
    {
        // Counts derive from section sizes, which the file size bounds: reading any of the hostile files may
        // allocate a small constant (the exception and its message) plus at most the file's own size.
        long worst = 0;
        string worstCase = "";
        foreach (var (name, c) in Cases)
        {
            byte[] bytes = c.Make(new Vandal(Vandal.RichModule()));
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { CacheImage.Read(bytes, ReadOptions.Full).Dispose(); } catch (AotCacheException) { }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated - bytes.Length > worst) (worst, worstCase) = (allocated - bytes.Length, name);
            Assert.True(allocated <= 2L * bytes.Length + 16 * 1024, $"{name}: {allocated} bytes allocated reading a {bytes.Length}-byte file");
        }
        Assert.True(worst < 16 * 1024, $"worst case '{worstCase}' allocated {worst} bytes beyond the file size");
    }

    [Fact]
    public void The_case_names_state_the_requirement_each_case_breaks()
    {
        foreach (var (name, c) in Cases)
            Assert.True(name.StartsWith(ErrorCodes.Requirement(c.Code) + " ", StringComparison.Ordinal), $"case '{name}' reports {c.Code} = {ErrorCodes.Requirement(c.Code)}");
    }

    [Fact]
    public void The_rich_module_itself_is_valid() => Assert.Equal(2, CacheImage.Read(Vandal.RichModule(), ReadOptions.Full).Functions.Length);

    [Fact]
    public void HDR_2_a_later_minor_version_is_read()
    {
        var image = CacheImage.Read(new Vandal(Vandal.RichModule()).U16(10, 7).Reseal());
        Assert.Equal(7, image.Header.MinorVersion);
    }

    [Fact]
    public void HDR_2_the_major_version_message_says_which_versions_are_read()
    {
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(new Vandal(Vandal.RichModule()).U16(8, 3).Reseal()));
        Assert.Contains("reads version 1.x", e.Message);
    }

    [Fact]
    public void Unknown_optional_flags_are_ignored()
    {
        var image = CacheImage.Read(new Vandal(Vandal.RichModule()).U32(44, 0x8000_0000).Reseal());
        Assert.Equal(0x8000_0000u, image.Header.OptionalFlags);
    }

    [Fact]
    public void SEC_5_an_unknown_optional_section_is_skipped()
    {
        var v = new Vandal(Vandal.RichModule());
        int entry = v.DirectoryEntry(Dependencies);
        var image = CacheImage.Read(v.U32(entry, 99).U32(entry + 4, 0).Reseal(), ReadOptions.Full);
        Assert.False(image.HasSection(Dependencies));
        Assert.Equal(0, image.Dependencies.Length);
        Assert.Equal(2, image.Functions.Length);
    }

    [Fact]
    public void INT_2_a_section_checksum_is_checked_by_full_validation_only()
    {
        var v = new Vandal(Vandal.RichModule());
        int entry = v.DirectoryEntry(Code);
        byte[] bytes = v.U64(entry + 32, 42).ResealFileOnly();
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(bytes, ReadOptions.Full));
        Assert.Equal(ErrorCode.SectionChecksumMismatch, e.Code);
        Assert.Equal(entry + 32, e.Offset);
        // A loader relies on the whole-file checksum alone [INT-1]: one pass over the bytes.
        Assert.Equal(2, CacheImage.Read(bytes, ReadOptions.Default).Functions.Length);
    }

    [Fact]
    public void HDR_5_damage_to_a_section_is_reported_by_the_file_checksum_before_any_structural_check()
    {
        var v = new Vandal(Vandal.RichModule());
        // A forged symbol kind that the structural check would name, left unsealed: INT-1 comes first.
        byte[] bytes = v.U8(v.Record(Symbols, 0, Sym) + 8, 9).Bytes;
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(bytes));
        Assert.Equal(ErrorCode.FileChecksumMismatch, e.Code);
        Assert.Equal(v.SectionOffset(Symbols), e.Offset);
        Assert.Contains("section Symbols", e.Message);
    }

    private static void Swap(byte[] b, int x, int y, int length)
    {
        byte[] t = b.AsSpan(x, length).ToArray();
        b.AsSpan(y, length).CopyTo(b.AsSpan(x));
        t.CopyTo(b.AsSpan(y));
    }
}
