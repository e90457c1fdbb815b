using AotCache.ConformanceTests.Malformed;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Writer;
using ValueType = AotCache.Format.ValueType;

namespace AotCache.ConformanceTests.Spec;

/// <summary>The SHOULD-level findings of <see cref="CacheLinter"/> (cachedump --verify --strict).</summary>
public class LinterTests
{
    [Fact]
    public void A_careful_writers_file_has_no_findings_except_missing_content_hashes()
    {
        using var image = CacheImage.Read(SpecExample.Build());
        var findings = CacheLinter.Lint(image);
        Assert.All(findings, f => Assert.Equal("§8", f.Rule));
        Assert.Single(findings); // answer has no content hash; main has one
        Assert.Contains("'answer' has no content hash", findings[0].Message);
    }

    [Fact]
    public void Unrecorded_signatures_and_bad_padding_are_reported_with_offsets()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(Signature.SysV([], [ValueType.I64]));
        var leaf = b.AddFunction("leaf", sig, [0xB8, 7, 0, 0, 0, 0xC3], options: new FunctionOptions { ContentHash = new ContentHash(1, 1) });
        b.AddFunction("caller", sig, [0xE8, 0, 0, 0, 0, 0xC3], [new Relocation(1, RelocationKind.FunctionPcRel32, leaf, -4, ExpectedSignatureHash: 0)],
            new FunctionOptions { ContentHash = new ContentHash(2, 2) });
        byte[] file = b.ToArray();
        var vandal = new Vandal(file);
        // Non-int3 padding between the functions (the second starts at 16).
        byte[] repadded = vandal.U8(vandal.SectionOffset(SectionKind.Code) + 8, 0x90).Reseal();
        using var image = CacheImage.Read(repadded);
        var findings = CacheLinter.Lint(image);
        Assert.Contains(findings, f => f.Rule == "§10" && f.Message.Contains("does not record the signature"));
        Assert.Contains(findings, f => f.Rule == "§8" && f.Message.Contains("not int3") && f.Offset == vandal.SectionOffset(SectionKind.Code) + 6);
    }
}
