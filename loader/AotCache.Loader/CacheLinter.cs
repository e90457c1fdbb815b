using AotCache.Format;

namespace AotCache.Loader;

/// <summary>A SHOULD-level observation about a valid file: legal, but not what a careful writer produces.</summary>
/// <param name="Rule">The FORMAT.md section whose SHOULD it concerns, e.g. "§6.1".</param>
public sealed record LintFinding(string Rule, long Offset, string Message)
{
    public override string ToString() => $"{Rule} at offset {Offset} (0x{Offset:x}): {Message}";
}

/// <summary>
/// The SHOULD rules of FORMAT.md, checked on an image the validator already accepted (what
/// <c>cachedump --verify --strict</c> reports). Nothing here makes a file invalid.
/// </summary>
public static class CacheLinter
{
    private static readonly SectionKind[] RecommendedOrder =
    [
        SectionKind.Strings, SectionKind.Signatures, SectionKind.Declarations, SectionKind.Symbols, SectionKind.Functions,
        SectionKind.DataObjects, SectionKind.Relocations, SectionKind.Fingerprint, SectionKind.Dependencies,
        SectionKind.Code, SectionKind.Data, SectionKind.Signature,
    ];

    public static List<LintFinding> Lint(CacheImage image)
    {
        var findings = new List<LintFinding>();
        Sections(image, findings);
        Strings(image, findings);
        Declarations(image, findings);
        Functions(image, findings);
        Relocations(image, findings);
        if (image.Header.MinorVersion > 0 && !image.HasSection(SectionKind.Signature))
            findings.Add(new LintFinding("§12", 10, $"minor version {image.Header.MinorVersion} but no 1.1 feature is used; write the lowest version that describes the file (1.0)"));
        return findings;
    }

    private static void Sections(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<SectionEntry> dir = image.Directory;
        long end = FormatConstants.DirectoryOffset + (long)dir.Length * SectionEntry.RecordSize;
        int lastRank = -1;
        for (int i = 0; i < dir.Length; i++)
        {
            SectionEntry e = dir[i];
            long at = FormatConstants.DirectoryOffset + (long)i * SectionEntry.RecordSize;
            if (e.Size == 0) findings.Add(new LintFinding("§2", at, $"section {i} ({CacheImage.KindName(e.Kind)}) is empty; omit it"));
            long needed = (end + e.Alignment - 1) / e.Alignment * e.Alignment;
            if ((long)e.Offset > needed)
                findings.Add(new LintFinding("§2", (long)e.Offset, $"{(long)e.Offset - needed} bytes of padding before section {i} beyond what its alignment {e.Alignment} needs"));
            int rank = Array.IndexOf(RecommendedOrder, (SectionKind)e.Kind);
            if (rank >= 0 && rank < lastRank)
                findings.Add(new LintFinding("§2", at, $"section {i} ({CacheImage.KindName(e.Kind)}) is out of the recommended order"));
            lastRank = Math.Max(lastRank, rank);
            end = (long)(e.Offset + e.Size);
        }
    }

    private static void Strings(CacheImage image, List<LintFinding> findings)
    {
        var seen = new Dictionary<string, StringRef>(StringComparer.Ordinal);
        void Use(StringRef s, long at)
        {
            if (s.Length == 0) return;
            string text = image.GetString(s);
            if (seen.TryGetValue(text, out StringRef first) && first != s)
                findings.Add(new LintFinding("§6.1", at, $"\"{text}\" is stored twice in the string table (at {first.Offset} and {s.Offset})"));
            else seen[text] = s;
        }
        Use(image.Header.Producer, 64);
        Use(image.Header.ModuleName, 72);
        for (int i = 0; i < image.Symbols.Length; i++)
            Use(image.Symbols[i].Name, image.SectionOffset(SectionKind.Symbols) + (long)i * SymbolRecord.RecordSize);
    }

    private static void Declarations(CacheImage image, List<LintFinding> findings)
    {
        var seen = new Dictionary<ulong, int>();
        for (int i = 0; i < image.Declarations.Length; i++)
            if (!seen.TryAdd(image.Declarations[i].SignatureHash, i))
                findings.Add(new LintFinding("§6.3", image.SectionOffset(SectionKind.Declarations) + (long)i * DeclarationRecord.RecordSize,
                    $"declaration {i} repeats declaration {seen[image.Declarations[i].SignatureHash]} ({image.GetSignature(i)})"));
    }

    private static void Functions(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        long previousEnd = 0;
        for (int f = 0; f < functions.Length; f++)
        {
            long at = image.SectionOffset(SectionKind.Functions) + (long)f * FunctionRecord.RecordSize;
            if (functions[f].ContentHash.IsNone)
                findings.Add(new LintFinding("§8", at + 32, $"function '{image.SymbolName((int)functions[f].Symbol)}' has no content hash: a front end cannot tell whether it is current"));
            ReadOnlySpan<byte> padding = image.Code[(int)previousEnd..(int)functions[f].CodeOffset];
            if (padding.IndexOfAnyExcept(FormatConstants.CodePadding) >= 0)
                findings.Add(new LintFinding("§8", image.SectionOffset(SectionKind.Code) + previousEnd, $"padding before function '{image.SymbolName((int)functions[f].Symbol)}' is not int3 (CC)"));
            previousEnd = functions[f].CodeOffset + functions[f].CodeSize;
        }
    }

    private static void Relocations(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<RelocationRecord> relocations = image.Relocations;
        for (int k = 0; k < relocations.Length; k++)
        {
            SymbolKind target = image.Symbols[(int)relocations[k].Target].Kind;
            if (relocations[k].ExpectedSignatureHash == 0 && target is SymbolKind.Function or SymbolKind.ImportFunction)
                findings.Add(new LintFinding("§10", image.SectionOffset(SectionKind.Relocations) + (long)k * RelocationRecord.RecordSize + 24,
                    $"relocation {k} to '{image.SymbolName((int)relocations[k].Target)}' does not record the signature it was compiled against: a signature change cannot be caught"));
        }
    }
}
