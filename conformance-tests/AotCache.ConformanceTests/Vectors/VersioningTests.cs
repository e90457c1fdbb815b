using System.Buffers.Binary;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;

namespace AotCache.ConformanceTests.Vectors;

/// <summary>
/// FORMAT.md §12 on genuine files of other versions (spec vectors written by the second writer, not 1.0 files
/// relabelled): a 1.7 file with a section kind this reader does not know, the same with the required flag,
/// and a major version 2 file.
/// </summary>
public class VersioningTests
{
    private const uint LaterKind = 0x7FFF_FFFF; // the last kind reserved for later versions (13 is Unwind since 1.3)

    private static byte[] LaterMinor() => VectorFile.Load("valid/later-minor-optional-section.txt").Bytes;

    private static int EntryOf(byte[] file, uint kind)
    {
        using CacheImage image = CacheImage.Read(file);
        int i = image.Directory.ToArray().ToList().FindIndex(e => e.Kind == kind);
        Assert.True(i >= 0, $"no section of kind {kind}");
        return FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
    }

    [Fact]
    public void SEC_5_a_1_7_file_with_an_unknown_optional_section_is_read_loaded_and_run()
    {
        byte[] file = LaterMinor();

        using CacheImage image = CacheImage.Read(file, ReadOptions.Full);
        SectionEntry later = image.Directory.ToArray().Single(e => e.Kind == LaterKind);
        Assert.Equal(7, image.Header.MinorVersion);
        Assert.Equal(0u, later.Flags & (uint)SectionFlags.Required);
        Assert.Equal(0x8000_0000u, image.Header.OptionalFlags); // a flag of a later minor (bit 31, undefined): ignored
        Assert.Equal("f", image.SymbolName(0));
        using LoadedModule module = LoadedModule.Load(image);
        Assert.Equal(0, module.Invoke("f").AsI64); // xor eax, eax; ret
        Assert.Equal(Signature.SysV([], [ScalarType.I64]), module.GetSignature("f"));
    }

    [Fact]
    public void SEC_5_a_skipped_section_is_still_checksum_checked()
    {
        byte[] file = LaterMinor();
        int entry = EntryOf(file, LaterKind);
        int section = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(entry + 8));
        file[section] ^= 0x20;

        // The file checksum catches it first, naming the damaged section ...
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(file));
        Assert.Equal(ErrorCode.FileChecksumMismatch, e.Code);
        Assert.Contains("kind 2147483647", e.Message);
        // ... and with the file checksum made right, full validation still checks the section's own.
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(file));
        e = Assert.Throws<AotCacheException>(() => CacheImage.Read(file, ReadOptions.Full));
        Assert.Equal(ErrorCode.SectionChecksumMismatch, e.Code);
        Assert.Equal(entry + 32, e.Offset);
    }

    [Fact]
    public void SEC_5_a_skipped_section_is_still_bounds_and_padding_checked()
    {
        byte[] outOfBounds = LaterMinor();
        int entry = EntryOf(outOfBounds, LaterKind);
        BinaryPrimitives.WriteUInt64LittleEndian(outOfBounds.AsSpan(entry + 16), (ulong)outOfBounds.Length);
        Reseal(outOfBounds);
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(outOfBounds));
        Assert.Equal(ErrorCode.SectionOutOfBounds, e.Code);
        Assert.Equal(entry + 8, e.Offset);

        byte[] padded = LaterMinor();
        int end = (int)(BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(entry + 8)) + BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(entry + 16)));
        BinaryPrimitives.WriteUInt64LittleEndian(padded.AsSpan(entry + 16), BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(entry + 16)) - 1);
        padded[end - 1] = 0xEE; // now a padding byte after the shortened section
        Reseal(padded);
        e = Assert.Throws<AotCacheException>(() => CacheImage.Read(padded));
        Assert.Equal(ErrorCode.NonZeroPadding, e.Code);
        Assert.Equal(end - 1, e.Offset);
    }

    [Fact]
    public void SEC_5_an_unknown_required_section_in_a_1_7_file_is_refused_naming_its_kind()
    {
        VectorFile vector = VectorFile.Load("malformed/sec-5-unknown-required-section.txt");

        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(vector.Bytes));

        Assert.Equal(ErrorCode.UnknownRequiredSection, e.Code);
        Assert.Equal(vector.ErrorOffset, e.Offset);
        Assert.Contains("kind 2147483647", e.Message);
        Assert.Contains("required", e.Message);
    }

    [Fact]
    public void HDR_2_a_major_version_2_file_is_refused_saying_which_versions_this_reader_reads()
    {
        VectorFile vector = VectorFile.Load("malformed/hdr-2-major-version-2.txt");

        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(vector.Bytes));

        Assert.Equal(ErrorCode.UnsupportedMajorVersion, e.Code);
        Assert.Equal(8, e.Offset);
        Assert.Contains("version 2.0", e.Message);
        Assert.Contains("1.x", e.Message);
    }

    /// <summary>Section checksums of in-bounds sections, then the file checksum, as the vectors' @fixup does.</summary>
    private static void Reseal(byte[] b)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(80));
        for (int i = 0; i < count; i++)
        {
            int at = FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at + 8)), size = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at + 16));
            if (offset + size <= (ulong)b.Length)
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at + 32), Checksums.SectionChecksum(b.AsSpan((int)offset, (int)size)));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(b));
    }
}
