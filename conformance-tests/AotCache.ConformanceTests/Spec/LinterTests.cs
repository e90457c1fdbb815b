using AotCache.ConformanceTests.Malformed;
using AotCache.ConformanceTests.Vectors;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Spec;

/// <summary>
/// The SHOULD-level findings of <see cref="CacheLinter"/>, through <c>cachedump --verify --strict</c>: every vector
/// that states its <c>@findings</c> gets exactly those recommendation IDs, with exit 3 when there are any.
/// </summary>
public sealed class LinterTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("linter-tests-");

    public void Dispose() => _directory.Delete(recursive: true);

    public static TheoryData<string> VectorsWithFindings =>
        [.. VectorFile.All().Where(name => VectorFile.Load(name).Findings is not null)];

    [Theory]
    [MemberData(nameof(VectorsWithFindings))]
    public void Verify_strict_reports_exactly_the_findings_a_vector_states(string name)
    {
        VectorFile vector = VectorFile.Load(name);
        string path = Write(Path.GetFileNameWithoutExtension(name) + ".aotc", vector.Bytes);

        (int exit, string output, string errors) = Run(path, "--verify", "--strict");

        Assert.Equal("", errors);
        string[] lines = output.TrimEnd('\n').Split('\n');
        bool stale;
        using (CacheImage image = CacheImage.Read(vector.Bytes)) stale = StaleAnalysis.Find(image).Count > 0;
        // A stale file is valid but refused by the strict loader: STALE, its reasons, then the findings; exit 5 first.
        Assert.StartsWith($"{(stale ? "STALE" : "OK")}: {path} is a valid AotCache", lines[0]);
        var findings = lines.Skip(1).Where(l => l.StartsWith("REC-", StringComparison.Ordinal)).ToList();
        Assert.Equal(vector.Findings!, findings.Select(l => l.Split(' ')[0]).Order(StringComparer.Ordinal));
        foreach (string line in findings) Assert.Matches(@"^REC-\d+ at offset \d+ \(0x[0-9a-f]+\) in \S+: .+$", line);
        if (stale)
            Assert.Equal(CacheDumpCommand.ExitStale, exit);
        if (vector.Findings!.Count == 0)
        {
            if (!stale) Assert.Equal(CacheDumpCommand.ExitOk, exit);
            Assert.DoesNotContain(lines, l => l.Contains("SHOULD-level", StringComparison.Ordinal));
        }
        else
        {
            if (!stale) Assert.Equal(CacheDumpCommand.ExitStrictFindings, exit);
            Assert.Equal($"{findings.Count} SHOULD-level finding{(findings.Count == 1 ? "" : "s")} (--strict)", lines[^1]);
        }
    }

    [Fact]
    public void Verify_without_strict_is_silent_about_recommendations()
    {
        string path = Write("tiny.aotc", VectorFile.Load("valid/tiny.txt").Bytes);

        (int exit, string output, _) = Run(path, "--verify");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Single(output.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Strict_without_verify_is_a_usage_error()
    {
        string path = Write("tiny.aotc", VectorFile.Load("valid/tiny.txt").Bytes);

        (int exit, _, string errors) = Run(path, "--strict");

        Assert.Equal(CacheDumpCommand.ExitUnreadable, exit);
        Assert.Contains("--verify --strict", errors);
    }

    [Fact]
    public void Help_documents_the_exit_codes()
    {
        (int exit, string output, _) = Run("--help");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Contains("--strict", output);
        Assert.Contains("3 --verify --strict found SHOULD-level", output.ReplaceLineEndings(" "));
        Assert.Contains("4 the output could not be written", output.ReplaceLineEndings(" "));
    }

    [Fact]
    public void REC_10_a_later_minor_file_and_a_prelinked_1_2_file_are_no_finding_but_an_unsigned_1_1_file_is()
    {
        // The old linter flagged every minor above 0 without a signature section, wrong for minors it does not know.
        using var later = CacheImage.Read(VectorFile.Load("valid/later-minor-optional-section.txt").Bytes);
        Assert.Equal(7, later.Header.MinorVersion);
        Assert.DoesNotContain(CacheLinter.Lint(later), f => f.Recommendation == "REC-10");

        using var unsignedOneOne = CacheImage.Read(VectorFile.Load("strict/rec-10-minor-1-unsigned.txt").Bytes);
        LintFinding finding = Assert.Single(CacheLinter.Lint(unsignedOneOne), f => f.Recommendation == "REC-10");
        Assert.Equal(10, finding.Offset);

        // A prelinked file is a 1.2 file (FORMAT.md §12): 1.2 is the lowest minor that describes it.
        using var prelinked = CacheImage.Read(VectorFile.Load("valid/prelinked-all-kinds.txt").Bytes);
        Assert.True(prelinked.IsPrelinked);
        Assert.Equal(2, prelinked.Header.MinorVersion);
        Assert.DoesNotContain(CacheLinter.Lint(prelinked), f => f.Recommendation == "REC-10");
    }

    [Fact]
    public void REC_10_a_prelinked_file_that_claims_minor_0_is_still_checked_as_prelinked_and_is_a_finding()
    {
        byte[] file = VectorFile.Load("valid/prelinked-all-kinds.txt").Bytes;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(10), 0);
        file.AsSpan(24, 8).Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(24), System.IO.Hashing.XxHash3.HashToUInt64(file));
        using (var image = CacheImage.Read(file))
        {
            Assert.True(image.IsPrelinked);
            LintFinding finding = Assert.Single(CacheLinter.Lint(image), f => f.Recommendation == "REC-10");
            Assert.Equal(10, finding.Offset);
            Assert.Contains("minor version 0, but the file uses the prelinked flag", finding.Message);
        }

        // The flag is honoured whatever the minor: a field that disagrees is still refused [REL-10].
        byte[] broken = VectorFile.Load("malformed/rel-10-prelinked-field-off-by-one.txt").Bytes;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(broken.AsSpan(10), 0);
        broken.AsSpan(24, 8).Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(broken.AsSpan(24), System.IO.Hashing.XxHash3.HashToUInt64(broken));
        Assert.Equal(ErrorCode.PrelinkMismatch, Assert.Throws<AotCacheException>(() => CacheImage.Read(broken)).Code);
    }

    [Fact]
    public void REC_10_a_file_with_unwind_information_is_1_3_and_one_that_claims_1_2_is_a_finding_and_still_checked()
    {
        byte[] file = VectorFile.Load("valid/unwind.txt").Bytes;
        using (var image = CacheImage.Read(file))
        {
            Assert.Equal(3, image.Header.MinorVersion);
            Assert.DoesNotContain(CacheLinter.Lint(image), f => f.Recommendation == "REC-10");
        }
        static byte[] Claiming(byte[] bytes, ushort minor)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(10), minor);
            bytes.AsSpan(24, 8).Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), System.IO.Hashing.XxHash3.HashToUInt64(bytes));
            return bytes;
        }
        using (var image = CacheImage.Read(Claiming(file, 2)))
        {
            LintFinding finding = Assert.Single(CacheLinter.Lint(image), f => f.Recommendation == "REC-10");
            Assert.Equal(10, finding.Offset);
            Assert.Contains("minor version 2, but the file uses an Unwind section", finding.Message);
            Assert.Contains("write 1.3", finding.Message);
        }

        // Kind 13 is checked whatever the minor [UNW-4].
        byte[] broken = Claiming(VectorFile.Load("malformed/unw-4-pc-range-one-byte-short.txt").Bytes, 2);
        Assert.Equal(ErrorCode.UnwindCoverageMismatch, Assert.Throws<AotCacheException>(() => CacheImage.Read(broken)).Code);
    }

    [Fact]
    public void REC_7_REC_9_REC_8_findings_name_the_field_they_concern()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(Signature.SysV([], [ScalarType.I64]));
        var leaf = b.AddFunction("leaf", new FunctionBody([0xB8, 7, 0, 0, 0, 0xC3], sig.Signature) { ContentHash = new ContentHash(1, 1) });
        b.AddFunction("caller", new FunctionBody([0xE8, 0, 0, 0, 0, 0xC3], sig.Signature, [new Relocation(1, RelocationKind.FunctionPcRel32, leaf.Name, -4, ExpectedSignatureHash: 0)]));
        var vandal = new Vandal(b.ToArray());
        // Non-int3 padding between the functions (the second starts at 16).
        byte[] repadded = vandal.U8(vandal.SectionOffset(SectionKind.Code) + 8, 0x90).Reseal();
        string path = Write("lint.aotc", repadded);

        (int exit, string output, _) = Run(path, "--verify", "--strict");

        Assert.Equal(CacheDumpCommand.ExitStrictFindings, exit);
        Assert.Contains($"REC-8 at offset {vandal.SectionOffset(SectionKind.Code) + 8} ", output);
        Assert.Matches(@"REC-9 at offset \d+ \(0x[0-9a-f]+\) in Relocations\[0\]\.expected_signature_hash: relocation 0 to 'leaf' does not record", output);
        Assert.Matches(@"REC-7 at offset \d+ \(0x[0-9a-f]+\) in Functions\[1\]\.content_hash: function 'caller' has no content hash", output);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString().ReplaceLineEndings("\n"), errors.ToString());
    }
}
