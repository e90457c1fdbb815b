using System.Globalization;
using AotCache.Format;
using AotCache.Reader;
using static AotCache.Tools.CacheDump.ImageFacts;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// The human-readable dump, in the manner of readelf and objdump: one titled block per part of the file, in
/// file order, then the disassembly. Deterministic: no time, no absolute path, '\n' line ends, invariant
/// number formats.
/// </summary>
internal static class TextDump
{
    public static void Write(CacheImage image, string fileName, IReadOnlySet<DumpSection> sections, TextWriter output, DumpFilter? filter = null)
    {
        filter ??= DumpFilter.All;
        var facts = new ImageFacts(image);
        var w = new Writer(output);
        w.Line($"File: {Printable(fileName)}");
        if (sections.Contains(DumpSection.Header)) Header(image, w);
        if (sections.Contains(DumpSection.Sections)) Sections(image, w);
        if (sections.Contains(DumpSection.Fingerprint)) Fingerprint(image, w);
        if (sections.Contains(DumpSection.Declarations)) Declarations(image, w);
        if (sections.Contains(DumpSection.Symbols)) Symbols(image, facts, filter, w);
        if (sections.Contains(DumpSection.Functions)) Functions(image, facts, filter, w);
        if (sections.Contains(DumpSection.Data)) DataObjects(image, facts, filter, w);
        if (sections.Contains(DumpSection.Relocations)) Relocations(image, facts, filter, w);
        if (sections.Contains(DumpSection.Dependencies)) Dependencies(image, facts, filter, w);
        if (sections.Contains(DumpSection.Signature)) FileSignature(facts, w);
        if (sections.Contains(DumpSection.Disassembly)) Disassemble(image, facts, filter, w);
    }

    private static void Header(CacheImage image, Writer w)
    {
        ref readonly FileHeader h = ref image.Header;
        w.Title("Header");
        var fields = new (string Name, string Value)[]
        {
            ("Magic", $"{HexBytes(image.File[..8])} (ok)"),
            ("Version", $"{h.MajorVersion}.{h.MinorVersion}"),
            ("File size", $"{h.FileSize} bytes (0x{h.FileSize:x})"),
            ("File checksum", Hex64(h.FileChecksum)),
            ("Target", $"{EnumName(image.Architecture)} {EnumName(image.Abi)} {EnumName(image.Os)}"),
            ("Required flags", FlagsText<RequiredFlags>(h.RequiredFlags)),
            ("Optional flags", FlagsText<OptionalFlags>(h.OptionalFlags)),
            ("CPU features", FeaturesText(image.RequiredCpuFeatures)),
            ("Codegen fingerprint", Hex64(h.CodegenFingerprint)),
            ("Producer", Quoted(image.Producer)),
            ("Module name", Quoted(image.ModuleName)),
            ("Sections", h.SectionCount.ToString(CultureInfo.InvariantCulture)),
        };
        int width = fields.Max(f => f.Name.Length) + 1;
        foreach ((string name, string value) in fields)
            w.Line($"  {(name + ":").PadRight(width)} {value}");
    }

    private static void Sections(CacheImage image, Writer w)
    {
        ReadOnlySpan<SectionEntry> directory = image.Directory;
        w.Title($"Sections ({directory.Length})");
        var table = new TextTable(">Index", "Kind", "Flags", ">Offset", ">Size", ">Align", "Checksum");
        for (int i = 0; i < directory.Length; i++)
        {
            SectionEntry e = directory[i];
            table.Add(Num(i), SectionKinds.Name(e.Kind), e.Flags == 0 ? "-" : string.Join(", ", FlagNames<SectionFlags>(e.Flags)),
                $"0x{e.Offset:x8}", Num(e.Size), Num(e.Alignment), Hex64(e.Checksum));
        }
        table.WriteTo(w.Output);
    }

    private static void Fingerprint(CacheImage image, Writer w)
    {
        ReadOnlySpan<FingerprintComponent> components = image.Fingerprint;
        w.Title($"Fingerprint components ({components.Length})");
        if (components.IsEmpty) { w.Line("  (none)"); return; }
        var table = new TextTable(">Index", "Key", "Kind", "Match", "Value");
        for (int i = 0; i < components.Length; i++)
        {
            FingerprintComponent c = components[i];
            string value = c.ValueKind switch
            {
                FingerprintValueKind.String => Quoted(image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32)))),
                FingerprintValueKind.FeatureSet => Hex64(c.Value),
                _ => Num(c.Value),
            };
            table.Add(Num(i), Printable(image.GetString(c.Key)), EnumName(c.ValueKind), EnumName(c.Match), value);
        }
        table.WriteTo(w.Output);
    }

    private static void Declarations(CacheImage image, Writer w)
    {
        ReadOnlySpan<DeclarationRecord> declarations = image.Declarations;
        w.Title($"Declarations ({declarations.Length})");
        var table = new TextTable(">Index", "Hash", "Encoding", "Signature");
        for (int i = 0; i < declarations.Length; i++)
            table.Add(Num(i), Hex64(declarations[i].SignatureHash), Convert.ToHexStringLower(image.GetSignatureEncoding(i)), image.GetSignature(i).ToString());
        table.WriteTo(w.Output);
    }

    private static void Symbols(CacheImage image, ImageFacts facts, DumpFilter filter, Writer w)
    {
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        int[] kept = [.. filter.Symbols(image)];
        w.Title($"Symbols ({Count(kept.Length, symbols.Length, filter)})");
        var table = new TextTable(">Index", "Name", "Kind", "Linkage", "Declaration", "Definition");
        foreach (int i in kept)
        {
            SymbolRecord s = symbols[i];
            string declaration = s.Declaration == FormatConstants.NoIndex ? "-" : $"{s.Declaration}: {facts.DeclarationText(s)}";
            string definition = s.Definition == FormatConstants.NoIndex ? "-"
                : s.Kind == SymbolKind.Function ? $"function {s.Definition}" : $"data {s.Definition}";
            table.Add(Num(i), Printable(image.GetString(s.Name)), EnumName(s.Kind), EnumName(s.Linkage), declaration, definition);
        }
        table.WriteTo(w.Output);
    }

    private static void Functions(CacheImage image, ImageFacts facts, DumpFilter filter, Writer w)
    {
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        int[] kept = [.. filter.Functions(image)];
        w.Title($"Functions ({Count(kept.Length, functions.Length, filter)})");
        var table = new TextTable(">Index", "Name", ">Code offset", ">Size", ">Align", "CPU features", "Content hash", "Relocations");
        foreach (int i in kept)
        {
            FunctionRecord f = functions[i];
            table.Add(Num(i), Printable(facts.FunctionName(i)), $"0x{f.CodeOffset:x8}", Num(f.CodeSize), Num(f.Alignment),
                FeaturesText(f.RequiredCpuFeatures), ContentHashText(f.ContentHash), RangeText(f.FirstRelocation, f.RelocationCount));
        }
        table.WriteTo(w.Output);
    }

    private static void DataObjects(CacheImage image, ImageFacts facts, DumpFilter filter, Writer w)
    {
        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        int[] kept = [.. filter.DataObjects(image)];
        w.Title($"Data objects ({Count(kept.Length, data.Length, filter)})");
        if (kept.Length == 0) { w.Line("  (none)"); return; }
        var table = new TextTable(">Index", "Name", "Kind", ">Offset", ">Size", ">Align", "Content hash", "Relocations", "Initial bytes");
        foreach (int i in kept)
        {
            DataObjectRecord d = data[i];
            table.Add(Num(i), Printable(facts.DataName(i)), EnumName(d.Kind), $"0x{d.Offset:x8}", Num(d.Size), Num(d.Alignment),
                ContentHashText(d.ContentHash), RangeText(d.FirstRelocation, d.RelocationCount), Preview(image, d));
        }
        table.WriteTo(w.Output);
    }

    private static void Relocations(CacheImage image, ImageFacts facts, DumpFilter filter, Writer w)
    {
        OwnedRelocation[] kept = [.. facts.RelocationsByOwner(filter)];
        w.Title($"Relocations ({Count(kept.Length, image.Relocations.Length, filter)})");
        if (kept.Length == 0) { w.Line("  (none)"); return; }
        var table = new TextTable("Owner", ">Index", ">Offset", "Kind", "Target", ">Addend", "Expected signature", "Note");
        foreach (OwnedRelocation o in kept)
        {
            RelocationRecord r = o.Record;
            string note = facts.IsStale(o.Index, out string expected, out string actual)
                ? $"STALE: compiled against {expected}, {Printable(image.SymbolName((int)r.Target))} is now {actual}"
                : "";
            table.Add($"{Printable(o.Owner)} ({(o.OwnerIsFunction ? "function" : "data")} {o.OwnerIndex})", Num(o.Index), $"+0x{r.Offset:x}",
                EnumName(r.Kind), Printable(image.SymbolName((int)r.Target)), r.Addend.ToString(CultureInfo.InvariantCulture),
                r.ExpectedSignatureHash == 0 ? "-" : Hex64(r.ExpectedSignatureHash), note);
        }
        table.WriteTo(w.Output);
    }

    private static void Dependencies(CacheImage image, ImageFacts facts, DumpFilter filter, Writer w)
    {
        ReadOnlySpan<DependencyRecord> dependencies = image.Dependencies;
        int[] kept = [.. facts.DependenciesOf(filter)];
        w.Title($"Dependencies ({Count(kept.Length, dependencies.Length, filter)})");
        if (kept.Length == 0) { w.Line("  (none)"); return; }
        var table = new TextTable(">Index", "Function", "Kind", "Target", "Expected content hash", "Note");
        foreach (int i in kept)
        {
            DependencyRecord d = dependencies[i];
            string note = facts.IsStaleDependency(i, out string reason) ? $"STALE: {reason}" : "";
            table.Add(Num(i), Printable(facts.FunctionName((int)d.Function)), EnumName(d.Kind), Printable(image.SymbolName((int)d.Target)),
                ContentHashText(d.ExpectedContentHash), note);
        }
        table.WriteTo(w.Output);
    }

    private static void FileSignature(ImageFacts facts, Writer w)
    {
        if (facts.FileSignature() is not { } s) return; // unsigned (format 1.0): nothing to say
        w.Title("Signature");
        w.Line($"  Algorithm: {EnumName((SignatureAlgorithm)s.Algorithm)}");
        w.Line($"  Key id:    {Convert.ToHexStringLower(s.KeyId)}");
        w.Line($"  Signature: {Convert.ToHexStringLower(((ReadOnlySpan<byte>)s.Signature)[..(int)s.SignatureLength])}");
    }

    private static void Disassemble(CacheImage image, ImageFacts facts, DumpFilter filter, Writer w)
    {
        w.Title("Disassembly");
        var disassembly = new Disassembly(image);
        foreach (int i in filter.Functions(image))
        {
            FunctionRecord f = image.Functions[i];
            w.Line("");
            w.Line($"{Printable(facts.FunctionName(i))} (function {i}, code offset 0x{f.CodeOffset:x8}, {f.CodeSize} bytes):");
            foreach (DisassembledInstruction ins in disassembly.Function(i))
            {
                // Ten bytes wide, like objdump's seven but room for a whole mov r64, imm64; longer ones push the text right.
                string line = $"  {ins.Address:x8}  {HexBytes(ins.Bytes),-29}  {ins.Text}";
                foreach (int relocation in ins.Relocations)
                    line += $" ; {disassembly.Annotation(relocation)}" + (facts.IsStale(relocation, out _, out _) ? " STALE" : "");
                w.Line(line);
            }
        }
    }

    /// <summary>A table's row count: <c>3</c>, or <c>1 of 10002</c> when a filter left rows out.</summary>
    private static string Count(int kept, int total, DumpFilter filter) => filter.IsAll ? Num(total) : $"{kept} of {total}";

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Num(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quoted(string text) => $"\"{Printable(text).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    private static string FeaturesText(CpuFeatures features) => features == CpuFeatures.None ? "none" : string.Join(", ", FeatureNames(features));

    private static string FlagsText<T>(uint flags) where T : struct, Enum =>
        flags == 0 ? "none" : $"0x{flags:x8} ({string.Join(", ", FlagNames<T>(flags))})";

    /// <summary>Relocation indexes <c>first..last</c>, or <c>-</c> when there are none.</summary>
    private static string RangeText(uint first, uint count) => count == 0 ? "-" : count == 1 ? Num(first) : $"{first}..{first + count - 1}";

    private static string Preview(CacheImage image, in DataObjectRecord d)
    {
        if (d.Kind == DataKind.ZeroFilled) return "(zero-filled)";
        ReadOnlySpan<byte> bytes = image.DataBytes(d);
        return HexBytes(bytes[..Math.Min(bytes.Length, DataPreviewLength)]) + (bytes.Length > DataPreviewLength ? " ..." : "");
    }

    /// <summary>Lines with '\n' ends, whatever the platform; a blank line before each block's title.</summary>
    private sealed class Writer(TextWriter output)
    {
        public TextWriter Output { get; } = output;

        public void Line(string text)
        {
            Output.Write(text);
            Output.Write('\n');
        }

        public void Title(string title)
        {
            Line("");
            Line(title + ":");
        }
    }
}
