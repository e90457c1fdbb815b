using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.ConformanceTests;

/// <summary>The C# records have exactly the sizes and field offsets FORMAT.md gives.</summary>
public class RecordLayoutTests
{
    [Theory]
    [InlineData(typeof(FileHeader), 128)]
    [InlineData(typeof(SectionEntry), 40)]
    [InlineData(typeof(DeclarationRecord), 16)]
    [InlineData(typeof(SymbolRecord), 24)]
    [InlineData(typeof(FunctionRecord), 48)]
    [InlineData(typeof(DataObjectRecord), 48)]
    [InlineData(typeof(RelocationRecord), 32)]
    [InlineData(typeof(FingerprintComponent), 24)]
    [InlineData(typeof(DependencyRecord), 32)]
    [InlineData(typeof(StringRef), 8)]
    [InlineData(typeof(ContentHash), 16)]
    public void Record_sizes_match_the_spec(Type record, int size)
    {
        int actual = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(record).Invoke(null, null)!;
        Assert.Equal(size, actual);
    }

    [Theory]
    [InlineData(typeof(RelocationRecord), "Offset", 0)]
    [InlineData(typeof(RelocationRecord), "Kind", 4)]
    [InlineData(typeof(RelocationRecord), "Target", 8)]
    [InlineData(typeof(RelocationRecord), "Addend", 16)]
    [InlineData(typeof(RelocationRecord), "ExpectedSignatureHash", 24)]
    [InlineData(typeof(SymbolRecord), "Kind", 8)]
    [InlineData(typeof(SymbolRecord), "Linkage", 9)]
    [InlineData(typeof(SymbolRecord), "Declaration", 12)]
    [InlineData(typeof(SymbolRecord), "Definition", 16)]
    [InlineData(typeof(FunctionRecord), "RequiredCpuFeatures", 24)]
    [InlineData(typeof(FunctionRecord), "ContentHash", 32)]
    [InlineData(typeof(DataObjectRecord), "Offset", 8)]
    [InlineData(typeof(DataObjectRecord), "ContentHash", 32)]
    [InlineData(typeof(SectionEntry), "Checksum", 32)]
    [InlineData(typeof(FingerprintComponent), "Value", 16)]
    [InlineData(typeof(DependencyRecord), "ExpectedContentHash", 16)]
    [InlineData(typeof(FileHeader), "FileChecksum", 24)]
    [InlineData(typeof(FileHeader), "SectionCount", 80)]
    public void Field_offsets_match_the_spec(Type record, string field, int offset)
    {
        Assert.Equal(offset, (int)Marshal.OffsetOf(record, field));
    }
}
