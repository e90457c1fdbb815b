using AotCache.Format;

namespace AotCache.Reader;

/// <summary>A SHOULD-level observation about a valid file: legal, but not what a careful writer produces.</summary>
/// <param name="Recommendation">The FORMAT.md recommendation it concerns, e.g. <c>REC-4</c>.</param>
/// <param name="Offset">File offset of the field or bytes concerned.</param>
public sealed record LintFinding(string Recommendation, long Offset, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"[{Recommendation}] at offset {Offset} (0x{Offset:x}): {Message}";
}

/// <summary>
/// The SHOULD rules of FORMAT.md ([REC-n]), checked on an image the validator already accepted (what
/// <c>cachedump --verify --strict</c> reports). Nothing here makes a file invalid. Not checked, because no
/// reader can tell: [REC-6] (how the front end computes content hashes).
/// </summary>
public static class CacheLinter
{
    /// <summary>[REC-1]: the known kinds in the recommended order; kinds of later versions go before Signature.</summary>
    private static readonly SectionKind[] RecommendedOrder =
    [
        SectionKind.Strings, SectionKind.Signatures, SectionKind.Declarations, SectionKind.Symbols, SectionKind.Functions,
        SectionKind.DataObjects, SectionKind.Relocations, SectionKind.Fingerprint, SectionKind.Dependencies,
        SectionKind.Code, SectionKind.Data,
    ];

    /// <summary>The SHOULD-level findings for a file the validator accepted, in file order; empty when there are none.</summary>
    public static List<LintFinding> Lint(CacheImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var findings = new List<LintFinding>();
        Sections(image, findings);
        Strings(image, findings);
        Declarations(image, findings);
        Functions(image, findings);
        DataObjects(image, findings);
        Relocations(image, findings);
        Version(image, findings);
        return findings;
    }

    private static int Rank(uint kind)
    {
        int known = Array.IndexOf(RecommendedOrder, (SectionKind)kind);
        if (known >= 0) return known;
        return kind == (uint)SectionKind.Signature ? RecommendedOrder.Length + 1 : RecommendedOrder.Length; // later versions' kinds
    }

    private static void Sections(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<SectionEntry> dir = image.Directory;
        long end = FormatConstants.DirectoryOffset + (long)dir.Length * SectionEntry.RecordSize;
        int lastRank = -1;
        bool misordered = false;
        for (int i = 0; i < dir.Length; i++)
        {
            SectionEntry e = dir[i];
            long at = FormatConstants.DirectoryOffset + (long)i * SectionEntry.RecordSize;
            string name = $"section {i} ({CacheImage.KindName(e.Kind)})";
            if (e.Size == 0) findings.Add(new LintFinding("REC-2", at + 16, $"{name} is empty; omit it"));
            long needed = (end + e.Alignment - 1) / e.Alignment * e.Alignment;
            if ((long)e.Offset > needed)
                findings.Add(new LintFinding("REC-3", needed, $"{(long)e.Offset - needed} bytes of padding before {name} beyond what its alignment {e.Alignment} needs"));
            int rank = Rank(e.Kind);
            if (rank < lastRank && !misordered)
            {
                // One finding for the directory, at its first section out of place: each later one would only repeat it.
                misordered = true;
                findings.Add(new LintFinding("REC-1", at, $"{name} comes after a section the recommended order puts later " +
                    $"(Strings, Signatures, Declarations, Symbols, Functions, DataObjects, Relocations, Fingerprint, Dependencies, Code, Data, Signature)"));
            }
            lastRank = Math.Max(lastRank, rank);
            end = (long)(e.Offset + e.Size);
        }
        if (image.File.Length > end)
            findings.Add(new LintFinding("REC-3", end, $"{image.File.Length - end} bytes of padding after the last section"));
    }

    /// <summary>[REC-4]: every string the file refers to, by text; a second reference to the same text at another place is a duplicate.</summary>
    private static void Strings(CacheImage image, List<LintFinding> findings)
    {
        var seen = new Dictionary<string, StringRef>(StringComparer.Ordinal);
        void Use(StringRef s, long at)
        {
            if (s.Length == 0) return;
            string text = image.GetString(s);
            if (seen.TryGetValue(text, out StringRef first) && first != s)
                findings.Add(new LintFinding("REC-4", at, $"\"{Names.Escape(text)}\" is stored twice in the string table (at {first.Offset} and {s.Offset})"));
            else seen.TryAdd(text, s);
        }
        Use(image.Header.Producer, 64);
        Use(image.Header.ModuleName, 72);
        long symbolsAt = image.SectionOffset(SectionKind.Symbols);
        for (int i = 0; i < image.Symbols.Length; i++)
            Use(image.Symbols[i].Name, symbolsAt + (long)i * SymbolRecord.RecordSize);
        long fingerprintAt = image.SectionOffset(SectionKind.Fingerprint);
        for (int i = 0; i < image.Fingerprint.Length; i++)
        {
            FingerprintComponent c = image.Fingerprint[i];
            long at = fingerprintAt + (long)i * FingerprintComponent.RecordSize;
            Use(c.Key, at);
            if (c.ValueKind == FingerprintValueKind.String) Use(new StringRef((uint)c.Value, (uint)(c.Value >> 32)), at + 16);
        }
    }

    /// <summary>[REC-5]: two declarations with the same encoding (compared as bytes, not by hash).</summary>
    private static void Declarations(CacheImage image, List<LintFinding> findings)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < image.Declarations.Length; i++)
        {
            string encoding = Convert.ToHexString(image.GetSignatureEncoding(i));
            if (!seen.TryAdd(encoding, i))
                findings.Add(new LintFinding("REC-5", image.SectionOffset(SectionKind.Declarations) + (long)i * DeclarationRecord.RecordSize,
                    $"declaration {i} repeats declaration {seen[encoding]} ({image.GetSignature(i)})"));
        }
    }

    private static void Functions(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        long tableAt = image.SectionOffset(SectionKind.Functions);
        long previousEnd = 0;
        for (int f = 0; f < functions.Length; f++)
        {
            long at = tableAt + (long)f * FunctionRecord.RecordSize;
            string name = image.SymbolName((int)functions[f].Symbol);
            if (functions[f].ContentHash.IsNone)
                findings.Add(new LintFinding("REC-7", at + 32, $"function {Names.Quote(name)} has no content hash: a front end cannot tell whether it is current"));
            ReadOnlySpan<byte> padding = image.Code[(int)previousEnd..(int)functions[f].CodeOffset];
            int bad = padding.IndexOfAnyExcept(FormatConstants.CodePadding);
            if (bad >= 0)
                findings.Add(new LintFinding("REC-8", image.SectionOffset(SectionKind.Code) + previousEnd + bad, $"padding before function {Names.Quote(name)} is not int3 (CC)"));
            previousEnd = functions[f].CodeOffset + functions[f].CodeSize;
        }
    }

    private static void DataObjects(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        long tableAt = image.SectionOffset(SectionKind.DataObjects);
        for (int d = 0; d < data.Length; d++)
            if (data[d].ContentHash.IsNone)
                findings.Add(new LintFinding("REC-7", tableAt + (long)d * DataObjectRecord.RecordSize + 32,
                    $"data object {Names.Quote(image.SymbolName((int)data[d].Symbol))} has no content hash: a dependency on it cannot be checked"));
    }

    private static void Relocations(CacheImage image, List<LintFinding> findings)
    {
        ReadOnlySpan<RelocationRecord> relocations = image.Relocations;
        long tableAt = image.SectionOffset(SectionKind.Relocations);
        for (int k = 0; k < relocations.Length; k++)
        {
            SymbolKind target = image.Symbols[(int)relocations[k].Target].Kind;
            if (relocations[k].ExpectedSignatureHash == 0 && target is SymbolKind.Function or SymbolKind.ImportFunction)
                findings.Add(new LintFinding("REC-9", tableAt + (long)k * RelocationRecord.RecordSize + 24,
                    $"relocation {k} to {Names.Quote(image.SymbolName((int)relocations[k].Target))} does not record the signature it was compiled against: a signature change cannot be caught"));
        }
    }

    /// <summary>
    /// [REC-10]: only judged for minors this reader knows, in a file with no section of a later version: a file of a
    /// later minor may use features this reader cannot see, so its version is never a finding.
    /// </summary>
    private static void Version(CacheImage image, List<LintFinding> findings)
    {
        int minor = image.Header.MinorVersion;
        if (minor > FormatConstants.MinorVersion) return;
        foreach (SectionEntry e in image.Directory)
            if (!Enum.IsDefined((SectionKind)e.Kind)) return;
        // 1.1 added the Signature section, 1.2 the prelinked flag, 1.3 the Unwind section (FORMAT.md §12).
        int lowest = image.HasSection(SectionKind.Unwind) ? 3 : image.IsPrelinked ? 2 : image.HasSection(SectionKind.Signature) ? 1 : 0;
        if (minor > lowest)
            findings.Add(new LintFinding("REC-10", 10, $"minor version {minor}, but the file uses no feature after 1.{lowest}; write the lowest version that describes it (1.{lowest})"));
        else if (minor < lowest)
            findings.Add(new LintFinding("REC-10", 10, $"minor version {minor}, but the file uses {(lowest == 3 ? "an Unwind section" : lowest == 2 ? "the prelinked flag" : "a Signature section")}, " +
                $"a 1.{lowest} feature; readers that know it honour it in any minor (FORMAT.md §12), older ones ignore it: write 1.{lowest}"));
    }
}
