using System.Text.Json;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Tools.CacheDump;

/// <summary>One difference between two files: where (<paramref name="Part"/>: header, section, symbol, function,
/// data, signature), what it is about, the change (<c>added</c>, <c>removed</c>, <c>changed</c>), and details.</summary>
internal sealed record Difference(string Part, string Name, string Change, IReadOnlyList<string> Details);

/// <summary>
/// <c>cachedump diff A B</c>: what changed from file A to file B. Everything is matched by name (sections by kind,
/// symbols, functions and data objects by symbol name), never by index, so that an edit that shifts the tables reads
/// as the edit. Code is compared with its relocation fields masked and the relocations compared as records (offset,
/// kind, target name, addend, expected signature): a prelinked field [REL-10] holds a layout-dependent value, so a
/// function that only moved is not reported. A signature change names the callers in B that it leaves stale, as the
/// loader's <see cref="StaleAnalysis"/> finds them, and those compiled against the new signature.
/// </summary>
internal static class CacheDiff
{
    public static List<Difference> Compare(CacheImage a, CacheImage b)
    {
        var result = new List<Difference>();
        Header(a, b, result);
        Sections(a, b, result);
        Symbols(a, b, result);
        Functions(a, b, result);
        DataObjects(a, b, result);
        SignatureChanges(a, b, result);
        return result;
    }

    private static void Header(CacheImage a, CacheImage b, List<Difference> result)
    {
        void Field(string name, string x, string y)
        {
            if (x != y) result.Add(new Difference("header", name, "changed", [$"{x} -> {y}"]));
        }
        Field("version", $"{a.Header.MajorVersion}.{a.Header.MinorVersion}", $"{b.Header.MajorVersion}.{b.Header.MinorVersion}");
        Field("module name", Quote(a.ModuleName), Quote(b.ModuleName));
        Field("producer", Quote(a.Producer), Quote(b.Producer));
        Field("optional flags", $"0x{a.Header.OptionalFlags:x8}", $"0x{b.Header.OptionalFlags:x8}");
        Field("cpu features", $"0x{(ulong)a.RequiredCpuFeatures:x16}", $"0x{(ulong)b.RequiredCpuFeatures:x16}");
        Field("codegen fingerprint", ImageFacts.Hex64(a.Header.CodegenFingerprint), ImageFacts.Hex64(b.Header.CodegenFingerprint));
    }

    private static void Sections(CacheImage a, CacheImage b, List<Difference> result)
    {
        var before = a.Directory.ToArray().ToDictionary(e => e.Kind);
        var after = b.Directory.ToArray().ToDictionary(e => e.Kind);
        foreach (uint kind in before.Keys.Union(after.Keys).Order())
        {
            string name = SectionKinds.Name(kind);
            if (!after.TryGetValue(kind, out SectionEntry y)) result.Add(new Difference("section", name, "removed", [$"{before[kind].Size} bytes"]));
            else if (!before.TryGetValue(kind, out SectionEntry x)) result.Add(new Difference("section", name, "added", [$"{y.Size} bytes"]));
            else if (x.Checksum != y.Checksum || x.Size != y.Size)
                result.Add(new Difference("section", name, "changed",
                    [x.Size == y.Size ? $"{y.Size} bytes, content differs" : $"{x.Size} -> {y.Size} bytes"]));
        }
    }

    private static void Symbols(CacheImage a, CacheImage b, List<Difference> result)
    {
        var before = Names(a);
        var after = Names(b);
        foreach (string name in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            if (!after.TryGetValue(name, out int y)) { result.Add(new Difference("symbol", name, "removed", [Describe(a, before[name])])); continue; }
            if (!before.TryGetValue(name, out int x)) { result.Add(new Difference("symbol", name, "added", [Describe(b, y)])); continue; }
            SymbolRecord sx = a.Symbols[x], sy = b.Symbols[y];
            var details = new List<string>();
            if (sx.Kind != sy.Kind) details.Add($"kind {ImageFacts.EnumName(sx.Kind)} -> {ImageFacts.EnumName(sy.Kind)}");
            if (sx.Linkage != sy.Linkage) details.Add($"linkage {ImageFacts.EnumName(sx.Linkage)} -> {ImageFacts.EnumName(sy.Linkage)}");
            if (details.Count > 0) result.Add(new Difference("symbol", name, "changed", details));
        }
    }

    private static void Functions(CacheImage a, CacheImage b, List<Difference> result)
    {
        for (int fy = 0; fy < b.Functions.Length; fy++)
        {
            string name = b.SymbolName((int)b.Functions[fy].Symbol);
            int fx = a.FindFunction(name);
            if (fx < 0) continue; // a new symbol: said above
            FunctionRecord x = a.Functions[fx], y = b.Functions[fy];
            var details = new List<string>();
            if (!MaskedCode(a.FunctionCode(x), a.RelocationsOf(x)).AsSpan().SequenceEqual(MaskedCode(b.FunctionCode(y), b.RelocationsOf(y))))
                details.Add(x.CodeSize == y.CodeSize ? $"code differs ({y.CodeSize} bytes)" : $"code differs ({x.CodeSize} -> {y.CodeSize} bytes)");
            RelocationDetails(a, a.RelocationsOf(x), b, b.RelocationsOf(y), details);
            if (x.Alignment != y.Alignment) details.Add($"alignment {x.Alignment} -> {y.Alignment}");
            if (x.RequiredCpuFeatures != y.RequiredCpuFeatures)
                details.Add($"cpu features {Features(x.RequiredCpuFeatures)} -> {Features(y.RequiredCpuFeatures)}");
            if (x.ContentHash != y.ContentHash) details.Add($"content hash {ImageFacts.ContentHashText(x.ContentHash)} -> {ImageFacts.ContentHashText(y.ContentHash)}");
            if (details.Count > 0) result.Add(new Difference("function", name, "changed", details));
        }
    }

    private static void DataObjects(CacheImage a, CacheImage b, List<Difference> result)
    {
        for (int dy = 0; dy < b.DataObjects.Length; dy++)
        {
            string name = b.SymbolName((int)b.DataObjects[dy].Symbol);
            int sx = a.FindSymbol(name);
            if (sx < 0 || a.Symbols[sx].Kind != SymbolKind.Data) continue;
            DataObjectRecord x = a.DataObjects[(int)a.Symbols[sx].Definition], y = b.DataObjects[dy];
            var details = new List<string>();
            if (x.Kind != y.Kind) details.Add($"kind {ImageFacts.EnumName(x.Kind)} -> {ImageFacts.EnumName(y.Kind)}");
            if (x.Size != y.Size) details.Add($"size {x.Size} -> {y.Size}");
            else if (!MaskedCode(a.DataBytes(x), a.RelocationsOf(x)).AsSpan().SequenceEqual(MaskedCode(b.DataBytes(y), b.RelocationsOf(y))))
                details.Add("initial bytes differ");
            RelocationDetails(a, a.RelocationsOf(x), b, b.RelocationsOf(y), details);
            if (details.Count > 0) result.Add(new Difference("data", name, "changed", details));
        }
    }

    /// <summary>Functions and imports in both files whose declared signature changed, each with the callers in B that
    /// still expect the old one (stale, refused by the strict loader) and those compiled against the new one.</summary>
    private static void SignatureChanges(CacheImage a, CacheImage b, List<Difference> result)
    {
        List<StaleReference> stale = StaleAnalysis.Find(b);
        for (int sy = 0; sy < b.Symbols.Length; sy++)
        {
            SymbolRecord y = b.Symbols[sy];
            if (!RelocationRules.IsCallable(y.Kind)) continue;
            string name = b.SymbolName(sy);
            int sx = a.FindSymbol(name);
            if (sx < 0 || !RelocationRules.IsCallable(a.Symbols[sx].Kind)) continue;
            ulong before = a.Declarations[(int)a.Symbols[sx].Declaration].SignatureHash, after = b.Declarations[(int)y.Declaration].SignatureHash;
            if (before == after) continue;
            var staleCallers = new SortedSet<string>(StringComparer.Ordinal);
            foreach (StaleReference s in stale)
                if (s.Kind == StaleKind.Signature && s.TargetSymbol == sy)
                    staleCallers.Add(b.SymbolName((int)(s.OwnerIsFunction ? b.Functions[s.Owner].Symbol : b.DataObjects[s.Owner].Symbol)));
            var current = new SortedSet<string>(StringComparer.Ordinal);
            for (int f = 0; f < b.Functions.Length; f++)
                foreach (RelocationRecord r in b.RelocationsOf(b.Functions[f]))
                    if (r.Target == (uint)sy && r.ExpectedSignatureHash == after) current.Add(b.SymbolName((int)b.Functions[f].Symbol));
            result.Add(new Difference("signature", name, "changed",
            [
                $"{a.GetSignature((int)a.Symbols[sx].Declaration)} -> {b.GetSignature((int)y.Declaration)}",
                staleCallers.Count == 0 ? "no caller left stale" : $"stale callers (refused by the strict loader [LOAD-5]): {string.Join(", ", staleCallers.Select(ImageFacts.Printable))}",
                current.Count == 0 ? "no caller compiled against the new signature" : $"callers compiled against the new signature: {string.Join(", ", current.Select(ImageFacts.Printable))}",
            ]));
        }
    }

    /// <summary>The bytes with every relocation field zeroed: what the producer wrote, whatever prelinking put there.</summary>
    private static byte[] MaskedCode(ReadOnlySpan<byte> bytes, ReadOnlySpan<RelocationRecord> relocations)
    {
        byte[] copy = bytes.ToArray();
        foreach (RelocationRecord r in relocations)
            if ((ulong)r.Offset + (ulong)RelocationRules.FieldWidth(r.Kind) <= (ulong)copy.Length) // zero-filled data has no bytes
                copy.AsSpan((int)r.Offset, RelocationRules.FieldWidth(r.Kind)).Clear();
        return copy;
    }

    private static void RelocationDetails(CacheImage a, ReadOnlySpan<RelocationRecord> x, CacheImage b, ReadOnlySpan<RelocationRecord> y, List<string> details)
    {
        string[] before = [.. x.ToArray().Select(r => Relocation(a, r))];
        string[] after = [.. y.ToArray().Select(r => Relocation(b, r))];
        if (before.SequenceEqual(after)) return;
        var removed = before.Except(after).ToList();
        var added = after.Except(before).ToList();
        string text = $"relocations differ ({before.Length} -> {after.Length})";
        if (removed.Count + added.Count > 0 && removed.Count + added.Count <= 8)
            text += ": " + string.Join("; ", removed.Select(r => "-" + r).Concat(added.Select(r => "+" + r)));
        details.Add(text);
    }

    /// <summary><c>+0xa FunctionPcRel32 callee-4 expects sysv (i64) -> i64</c>.</summary>
    private static string Relocation(CacheImage image, in RelocationRecord r)
    {
        string expects = r.ExpectedSignatureHash == 0 ? "" : " expects " + StaleAnalysis.SignatureText(image, r.ExpectedSignatureHash).Split(" (0x")[0];
        return $"+0x{r.Offset:x} {ImageFacts.EnumName(r.Kind)} {ImageFacts.Printable(image.SymbolName((int)r.Target))}{ImageFacts.AddendSuffix(r.Addend)}{expects}";
    }

    private static Dictionary<string, int> Names(CacheImage image)
    {
        var names = new Dictionary<string, int>(image.Symbols.Length, StringComparer.Ordinal);
        for (int i = 0; i < image.Symbols.Length; i++) names[image.SymbolName(i)] = i;
        return names;
    }

    private static string Describe(CacheImage image, int symbol)
    {
        SymbolRecord s = image.Symbols[symbol];
        string text = $"{ImageFacts.EnumName(s.Kind)} {ImageFacts.EnumName(s.Linkage)}";
        return s.Declaration == FormatConstants.NoIndex ? text : $"{text} {image.GetSignature((int)s.Declaration)}";
    }

    private static string Features(CpuFeatures f) => f == CpuFeatures.None ? "none" : string.Join(", ", ImageFacts.FeatureNames(f));

    private static string Quote(string text) => $"\"{ImageFacts.Printable(text)}\"";

    /// <summary><c>--- A</c>, <c>+++ B</c>, then one line per difference and its details indented.</summary>
    public static void WriteText(TextWriter output, string a, string b, IReadOnlyList<Difference> differences)
    {
        void Line(string text) { output.Write(text); output.Write('\n'); }
        Line($"--- {ImageFacts.Printable(a)}");
        Line($"+++ {ImageFacts.Printable(b)}");
        if (differences.Count == 0) { Line("no differences"); return; }
        string? part = null;
        foreach (Difference d in differences)
        {
            if (d.Part != part)
            {
                part = d.Part;
                Line(part switch
                {
                    "header" => "Header:",
                    "section" => "Sections:",
                    "symbol" => "Symbols:",
                    "function" => "Functions:",
                    "data" => "Data objects:",
                    _ => "Signature changes:",
                });
            }
            string mark = d.Change switch { "added" => "+", "removed" => "-", _ => "~" };
            Line($"  {mark} {ImageFacts.Printable(d.Name)}: {d.Details[0]}");
            foreach (string detail in d.Details.Skip(1)) Line($"      {detail}");
        }
        Line($"{differences.Count} difference{(differences.Count == 1 ? "" : "s")}");
    }

    public static void WriteJson(Utf8JsonWriter json, string a, string b, IReadOnlyList<Difference> differences)
    {
        json.WriteStartObject();
        json.WriteString("a", a);
        json.WriteString("b", b);
        json.WriteBoolean("identical", differences.Count == 0);
        json.WriteStartArray("differences");
        foreach (Difference d in differences)
        {
            json.WriteStartObject();
            json.WriteString("part", d.Part);
            json.WriteString("name", d.Name);
            json.WriteString("change", d.Change);
            json.WriteStartArray("details");
            foreach (string detail in d.Details) json.WriteStringValue(detail);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
