using System.Text.RegularExpressions;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.ConformanceTests.Spec;

/// <summary>FORMAT.md's machine-checkable parts are checked against the code: the annotated example, the
/// signature-hash vectors, the error-code table and the requirement IDs.</summary>
public partial class SpecDocumentTests
{
    private static string FormatMd => File.ReadAllText(Path.Combine(GoldenFile.RepositoryRoot(), "spec", "FORMAT.md"));

    private static string Block(string text, string language)
    {
        Match m = Regex.Match(text, "```" + language + @"\n(.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, $"FORMAT.md has no ```{language} block");
        return m.Groups[1].Value;
    }

    [Fact]
    public void HDR_1_INT_1_the_annotated_example_in_FORMAT_md_is_exactly_what_the_writer_produces()
    {
        byte[] expected = SpecExample.Build();
        string dump = AnnotatedHexDump.Render(expected);
        // The appendix is generated: AOTCACHE_ACCEPT=1 rewrites it from the writer's output.
        if (Environment.GetEnvironmentVariable("AOTCACHE_ACCEPT") == "1")
        {
            string path = Path.Combine(GoldenFile.RepositoryRoot(), "spec", "FORMAT.md");
            string text = File.ReadAllText(path);
            File.WriteAllText(path, Regex.Replace(text, @"```hexdump\n.*?```", "```hexdump\n" + dump + "```", RegexOptions.Singleline));
        }
        string block = Block(FormatMd, "hexdump");
        Assert.Equal(expected, AnnotatedHexDump.Parse(block));
        Assert.Equal(dump, block);
        using var image = CacheImage.Read(expected, ReadOptions.Full);
        Assert.Equal(2, image.Functions.Length);
    }

    /// <summary>One vector: <c>| `text` | `encoding hex` | `hash` |</c>.</summary>
    [GeneratedRegex(@"^\| `(?<text>[^`]+)` \| `(?<encoding>[0-9A-F ]+)` \| `0x(?<hash>[0-9a-f]{16})` \|$", RegexOptions.Multiline)]
    private static partial Regex VectorRow();

    [Fact]
    public void SIG_1_SIG_2_the_signature_hash_vectors_in_FORMAT_md_hold()
    {
        var rows = VectorRow().Matches(FormatMd);
        Assert.True(rows.Count >= 6, $"only {rows.Count} signature vectors in FORMAT.md");
        foreach (Match row in rows)
        {
            byte[] encoding = Convert.FromHexString(row.Groups["encoding"].Value.Replace(" ", ""));
            Signature? s = Signature.TryDecode(encoding, out string? error, out _);
            Assert.True(s is not null, error);
            Assert.Equal(row.Groups["text"].Value, s.ToString());
            Assert.Equal(Convert.ToUInt64(row.Groups["hash"].Value, 16), Signature.HashEncoding(encoding));
            Assert.Equal(encoding, s.Encoding.ToArray());
        }
    }

    /// <summary>The vectors' rows, as FORMAT.md lists them; used to write the appendix.</summary>
    public static IEnumerable<Signature> VectorSignatures() =>
    [
        Signature.SysV([], []),
        Signature.SysV([], [ScalarType.I64]),
        Signature.SysV([ScalarType.I64], [ScalarType.I64]),
        Signature.SysV([ScalarType.I64], []),
        Signature.SysV([ScalarType.F64, ScalarType.F64], [ScalarType.F64]),
        Signature.SysV([ScalarType.I32, ScalarType.Ptr, ScalarType.F32], [ScalarType.I32]),
        new Signature(CallingConvention.Win64, [ScalarType.I64], [ScalarType.I64]),
    ];

    [Fact]
    public void The_error_code_table_lists_every_code_with_its_number_and_requirement()
    {
        string text = FormatMd;
        foreach (ErrorCode code in Enum.GetValues<ErrorCode>())
            Assert.Matches($@"\| `{code}` \| {(int)code} \| {ErrorCodes.Requirement(code)} \|", text);
    }

    /// <summary>The prose sentences and table cells of a markdown text, with wrapped lines joined.</summary>
    public static IEnumerable<string> Sentences(string markdown)
    {
        var paragraph = new System.Text.StringBuilder();
        IEnumerable<string> Flush()
        {
            string p = paragraph.ToString().Trim();
            paragraph.Clear();
            return p.Length == 0 ? [] : SentenceEnd().Split(p);
        }
        bool code = false;
        foreach (string raw in markdown.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal)) { code = !code; foreach (string x in Flush()) yield return x; continue; }
            if (code) continue;
            if (line.StartsWith('|'))
            {
                foreach (string x in Flush()) yield return x;
                foreach (string cell in line.Split('|')) foreach (string x in SentenceEnd().Split(cell.Trim())) yield return x;
                continue;
            }
            if (line.Length == 0 || line.StartsWith("- ", StringComparison.Ordinal) || line.StartsWith('#') || Regex.IsMatch(line, @"^\d+\. "))
                foreach (string x in Flush()) yield return x;
            paragraph.Append(line).Append(' ');
        }
        foreach (string x in Flush()) yield return x;
    }

    [GeneratedRegex(@"(?<=\.)\s+(?=[A-Z*`(])")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\[(?<id>[A-Z]+-\d+)\]")]
    private static partial Regex RequirementId();

    [Fact]
    public void Every_MUST_carries_a_requirement_ID_and_every_error_code_requirement_is_defined()
    {
        string text = FormatMd;
        foreach (string sentence in Sentences(text))
            if (sentence.Contains("MUST", StringComparison.Ordinal) && !sentence.Contains("RFC 2119", StringComparison.Ordinal))
                Assert.True(RequirementId().IsMatch(sentence), $"a MUST without a requirement ID: {sentence}");
        var defined = RequirementId().Matches(text).Select(m => m.Groups["id"].Value).ToHashSet();
        foreach (ErrorCode code in Enum.GetValues<ErrorCode>())
            Assert.Contains(ErrorCodes.Requirement(code), defined);
    }
}
