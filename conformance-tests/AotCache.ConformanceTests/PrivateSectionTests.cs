using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests;

/// <summary>Producer-private sections (FORMAT.md §4): written optional, skipped by readers, found by their producer.</summary>
public sealed class PrivateSectionTests
{
    private const uint Kind = 0x8000_1234;

    private static byte[] Write(byte[] privateBytes)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        b.AddFunction("f", new FunctionBody([0xC3], b.AddDeclaration(Signature.SysV([], [])).Signature));
        b.AddPrivateSection(Kind, privateBytes);
        return b.ToArray();
    }

    [Fact]
    public void REC_11_a_private_section_is_written_with_the_required_flag_clear_and_its_producer_finds_it()
    {
        byte[] file = Write([1, 2, 3, 4, 5]);
        using CacheImage image = CacheImage.Read(file, ReadOptions.Full);
        SectionEntry entry = image.Directory.ToArray().Single(e => e.Kind == Kind);
        Assert.Equal((uint)SectionFlags.None, entry.Flags);
        Assert.True(image.TryGetSection(Kind, out ReadOnlySpan<byte> bytes));
        Assert.Equal([1, 2, 3, 4, 5], bytes.ToArray());
        Assert.False(image.TryGetSection(Kind + 1, out _));
    }

    [Fact]
    public void SEC_5_a_private_section_marked_required_makes_every_reader_refuse_the_file()
    {
        byte[] file = Write([9]);
        using (CacheImage image = CacheImage.Read(file))
        {
            int index = image.Directory.ToArray().ToList().FindIndex(e => e.Kind == Kind);
            int flags = FormatConstants.DirectoryOffset + index * SectionEntry.RecordSize + 4;
            file[flags] = (byte)SectionFlags.Required;
        }
        BitConverter.TryWriteBytes(file.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(file));
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(file));
        Assert.Equal(ErrorCode.UnknownRequiredSection, e.Code);
    }

    [Fact]
    public void The_writer_refuses_a_kind_outside_the_private_range_or_added_twice()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.AddPrivateSection((uint)SectionKind.Code, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.AddPrivateSection(CacheBuilder.FirstPrivateSectionKind - 1, [1]));
        b.AddPrivateSection(Kind, [1]);
        Assert.Throws<ArgumentException>(() => b.AddPrivateSection(Kind, [2]));
    }
}
