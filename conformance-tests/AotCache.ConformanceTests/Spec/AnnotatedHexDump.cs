using System.Globalization;
using System.Text;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.ConformanceTests.Spec;

/// <summary>
/// Renders a file as FORMAT.md's annotated hex dump: every byte, one field or chunk per line with what it
/// is, runs of zero padding of 32 bytes or more as one line. <see cref="Parse"/> reads the text back into
/// bytes, so a test can hold FORMAT.md's appendix to the writer's real output.
/// </summary>
public static class AnnotatedHexDump
{
    private readonly record struct Span(int Offset, int Length, string Note);

    public static string Render(byte[] file)
    {
        using var image = CacheImage.Read(file, ReadOptions.Full);
        var spans = new List<Span>();
        void Field(int at, int length, string note) => spans.Add(new Span(at, length, note));

        // Header
        FileHeader h = image.Header;
        Field(0, 8, "magic: 89 'A' 'O' 'T' CR LF SUB LF");
        Field(8, 2, $"major version {h.MajorVersion}");
        Field(10, 2, $"minor version {h.MinorVersion}");
        Field(12, 4, $"header size {h.HeaderSize}");
        Field(16, 8, $"file size {h.FileSize}");
        Field(24, 8, $"file checksum 0x{h.FileChecksum:x16} (XxHash3-64 of the file with these 8 bytes as zero)");
        Field(32, 2, $"architecture {h.Architecture} = {image.Architecture}");
        Field(34, 2, $"ABI {h.Abi} = {image.Abi}");
        Field(36, 2, $"OS {h.Os} = {image.Os}");
        Field(38, 2, "reserved");
        Field(40, 4, h.RequiredFlags == 0 ? "required flags: none" : $"required flags 0x{h.RequiredFlags:x}");
        Field(44, 4, h.OptionalFlags switch
        {
            0 => "optional flags: none",
            (uint)OptionalFlags.Prelinked => "optional flags: bit 1 = prelinked (§16.2, [REL-10])",
            var other => $"optional flags 0x{other:x}",
        });
        Field(48, 8, $"required CPU features: {image.RequiredCpuFeatures}");
        Field(56, 8, $"codegen fingerprint 0x{h.CodegenFingerprint:x16} (XxHash3-64 of the fingerprint section)");
        Field(64, 8, $"producer: string {h.Producer.Offset}+{h.Producer.Length} \"{image.Producer}\"");
        Field(72, 8, $"module name: string {h.ModuleName.Offset}+{h.ModuleName.Length} \"{image.ModuleName}\"");
        Field(80, 4, $"section count {h.SectionCount}");
        Field(84, 4, $"directory offset {h.DirectoryOffset}");
        Field(88, 40, "reserved");

        // Directory
        for (int i = 0; i < image.Directory.Length; i++)
        {
            SectionEntry e = image.Directory[i];
            int at = FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
            string name = CacheImage.KindName(e.Kind);
            Field(at, 4, $"section {i}: kind {e.Kind} = {name}");
            Field(at + 4, 4, $"  flags {e.Flags} ({((e.Flags & 1) != 0 ? "required" : "optional")})");
            Field(at + 8, 8, $"  offset 0x{e.Offset:x}");
            Field(at + 16, 8, $"  size {e.Size}");
            Field(at + 24, 4, $"  alignment {e.Alignment}");
            Field(at + 28, 4, "  reserved");
            Field(at + 32, 8, $"  checksum 0x{e.Checksum:x16}");
        }

        // Sections
        foreach (SectionEntry e in image.Directory)
        {
            int at = (int)e.Offset;
            switch ((SectionKind)e.Kind)
            {
                case SectionKind.Strings:
                    Chunks(spans, at, (int)e.Size, "strings", i => Encoding.UTF8.GetString(file, at + i, Math.Min(16, (int)e.Size - i)).Replace("\n", "\\n").Replace("\0", "\\0"));
                    break;
                case SectionKind.Signatures:
                    for (int d = 0; d < image.Declarations.Length; d++)
                    {
                        DeclarationRecord r = image.Declarations[d];
                        Field(at + (int)r.SignatureOffset, (int)r.SignatureLength, $"signature of declaration {d}: {image.GetSignature(d)} (convention, count, types, count, types)");
                    }
                    break;
                case SectionKind.Declarations:
                    for (int d = 0; d < image.Declarations.Length; d++)
                    {
                        int r = at + d * DeclarationRecord.RecordSize;
                        DeclarationRecord x = image.Declarations[d];
                        Field(r, 4, $"declaration {d}: signature at {x.SignatureOffset}");
                        Field(r + 4, 4, $"  length {x.SignatureLength}");
                        Field(r + 8, 8, $"  signature hash 0x{x.SignatureHash:x16}");
                    }
                    break;
                case SectionKind.Symbols:
                    for (int s = 0; s < image.Symbols.Length; s++)
                    {
                        int r = at + s * SymbolRecord.RecordSize;
                        SymbolRecord x = image.Symbols[s];
                        Field(r, 8, $"symbol {s}: name {x.Name.Offset}+{x.Name.Length} \"{image.SymbolName(s)}\"");
                        Field(r + 8, 1, $"  kind {(byte)x.Kind} = {x.Kind}");
                        Field(r + 9, 1, $"  linkage {(byte)x.Linkage} = {x.Linkage}");
                        Field(r + 10, 2, "  reserved");
                        Field(r + 12, 4, x.Declaration == FormatConstants.NoIndex ? "  declaration: none" : $"  declaration {x.Declaration}");
                        Field(r + 16, 4, x.Definition == FormatConstants.NoIndex ? "  definition: none" : $"  definition {x.Definition}");
                        Field(r + 20, 4, "  reserved");
                    }
                    break;
                case SectionKind.Functions:
                    for (int f = 0; f < image.Functions.Length; f++)
                    {
                        int r = at + f * FunctionRecord.RecordSize;
                        FunctionRecord x = image.Functions[f];
                        Field(r, 4, $"function {f}: symbol {x.Symbol} ({image.SymbolName((int)x.Symbol)})");
                        Field(r + 4, 4, $"  code offset {x.CodeOffset}");
                        Field(r + 8, 4, $"  code size {x.CodeSize}");
                        Field(r + 12, 4, $"  alignment {x.Alignment}");
                        Field(r + 16, 4, $"  first relocation {x.FirstRelocation}");
                        Field(r + 20, 4, $"  relocation count {x.RelocationCount}");
                        Field(r + 24, 8, $"  required CPU features: {x.RequiredCpuFeatures}");
                        Field(r + 32, 16, x.ContentHash.IsNone ? "  content hash: none" : $"  content hash {x.ContentHash}");
                    }
                    break;
                case SectionKind.DataObjects:
                    for (int d = 0; d < image.DataObjects.Length; d++)
                    {
                        int r = at + d * DataObjectRecord.RecordSize;
                        DataObjectRecord x = image.DataObjects[d];
                        Field(r, 4, $"data object {d}: symbol {x.Symbol} ({image.SymbolName((int)x.Symbol)})");
                        Field(r + 4, 1, $"  kind {(byte)x.Kind} = {x.Kind}");
                        Field(r + 5, 3, "  reserved");
                        Field(r + 8, 4, $"  offset {x.Offset}");
                        Field(r + 12, 4, $"  size {x.Size}");
                        Field(r + 16, 4, $"  alignment {x.Alignment}");
                        Field(r + 20, 4, $"  first relocation {x.FirstRelocation}");
                        Field(r + 24, 4, $"  relocation count {x.RelocationCount}");
                        Field(r + 28, 4, "  reserved");
                        Field(r + 32, 16, x.ContentHash.IsNone ? "  content hash: none" : $"  content hash {x.ContentHash}");
                    }
                    break;
                case SectionKind.Relocations:
                    for (int k = 0; k < image.Relocations.Length; k++)
                    {
                        int r = at + k * RelocationRecord.RecordSize;
                        RelocationRecord x = image.Relocations[k];
                        Field(r, 4, $"relocation {k}: patch offset +{x.Offset}");
                        Field(r + 4, 2, $"  kind {(ushort)x.Kind} = {x.Kind}");
                        Field(r + 6, 2, "  reserved");
                        Field(r + 8, 4, $"  target symbol {x.Target} ({image.SymbolName((int)x.Target)})");
                        Field(r + 12, 4, "  reserved");
                        Field(r + 16, 8, $"  addend {x.Addend}");
                        Field(r + 24, 8, x.ExpectedSignatureHash == 0 ? "  expected signature hash: none" : $"  expected signature hash 0x{x.ExpectedSignatureHash:x16}");
                    }
                    break;
                case SectionKind.Fingerprint:
                    for (int c = 0; c < image.Fingerprint.Length; c++)
                    {
                        int r = at + c * FingerprintComponent.RecordSize;
                        FingerprintComponent x = image.Fingerprint[c];
                        Field(r, 8, $"fingerprint {c}: key \"{image.GetString(x.Key)}\"");
                        Field(r + 8, 1, $"  value kind {(byte)x.ValueKind} = {x.ValueKind}");
                        Field(r + 9, 1, $"  match {(byte)x.Match} = {x.Match}");
                        Field(r + 10, 6, "  reserved");
                        Field(r + 16, 8, x.ValueKind == FingerprintValueKind.String
                            ? $"  value: string {(uint)x.Value}+{x.Value >> 32} \"{image.GetString(new StringRef((uint)x.Value, (uint)(x.Value >> 32)))}\""
                            : $"  value {x.Value}");
                    }
                    break;
                case SectionKind.Code:
                    foreach (FunctionRecord f in image.Functions)
                        Chunks(spans, at + (int)f.CodeOffset, (int)f.CodeSize, $"code of {image.SymbolName((int)f.Symbol)}", null);
                    break;
                case SectionKind.Data:
                    foreach (DataObjectRecord d in image.DataObjects)
                        if (d.Kind != DataKind.ZeroFilled)
                            Chunks(spans, at + (int)d.Offset, (int)d.Size, $"data of {image.SymbolName((int)d.Symbol)}", null);
                    break;
                default:
                    Chunks(spans, at, (int)e.Size, $"section {CacheImage.KindName(e.Kind)}", null);
                    break;
            }
        }

        // Whatever no field covers is padding.
        spans.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        var all = new List<Span>();
        int cursor = 0;
        foreach (Span s in spans)
        {
            if (s.Offset > cursor) all.Add(new Span(cursor, s.Offset - cursor, "padding"));
            all.Add(s);
            cursor = s.Offset + s.Length;
        }
        if (cursor < file.Length) all.Add(new Span(cursor, file.Length - cursor, "padding"));

        var text = new StringBuilder();
        foreach (Span s in all)
        {
            bool zeros = file.AsSpan(s.Offset, s.Length).IndexOfAnyExcept((byte)0) < 0;
            if (s.Note == "padding" && zeros && s.Length >= 32)
            {
                text.Append(CultureInfo.InvariantCulture, $"{s.Offset:X8}: .. {s.Length} zero bytes ..").AppendLine();
                continue;
            }
            for (int i = 0; i < s.Length; i += 16)
            {
                int n = Math.Min(16, s.Length - i);
                string hex = string.Join(' ', file.Skip(s.Offset + i).Take(n).Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
                string line = string.Create(CultureInfo.InvariantCulture, $"{s.Offset + i:X8}: {hex,-47}  ; {(i == 0 ? s.Note : "")}");
                text.Append(line.TrimEnd()).AppendLine();
            }
        }
        return text.ToString();
    }

    private static void Chunks(List<Span> spans, int at, int length, string note, Func<int, string>? detail)
    {
        for (int i = 0; i < length; i += 16)
            spans.Add(new Span(at + i, Math.Min(16, length - i), detail is null ? (i == 0 ? note : "") : $"{note}: \"{detail(i)}\""));
    }

    /// <summary>The bytes a rendered dump describes.</summary>
    public static byte[] Parse(string dump)
    {
        var bytes = new List<byte>();
        foreach (string raw in dump.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length < 10 || line[8] != ':') continue;
            int offset = int.Parse(line[..8], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (offset != bytes.Count) throw new FormatException($"line at {offset:X8} does not continue at {bytes.Count:X8}");
            string body = line[9..];
            int semicolon = body.IndexOf(';');
            if (semicolon >= 0) body = body[..semicolon];
            body = body.Trim();
            if (body.StartsWith("..", StringComparison.Ordinal))
            {
                int zeros = int.Parse(body.Split(' ')[1], CultureInfo.InvariantCulture);
                bytes.AddRange(new byte[zeros]);
                continue;
            }
            foreach (string hex in body.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                bytes.Add(byte.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return [.. bytes];
    }
}
