using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AotCache.Format;
using AotCache.Reader;
using static AotCache.Tools.CacheDump.ImageFacts;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// The text dump's content as JSON, for programs. Keys are written in a fixed order. A JSON number is exact
/// only up to 2^53, so every 64-bit value is a string: hashes, checksums and feature sets as hex
/// (<c>"0x…"</c>, 16 digits), 64-bit quantities (relocation addends, integer fingerprint values) in decimal
/// (<c>"-4"</c>). Offsets, sizes, counts and indexes, which a valid file keeps below 2^31, are numbers.
/// Indented with '\n' line ends on every platform.
/// </summary>
internal static class JsonDump
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        NewLine = "\n",
        // Output for programs and terminals, not for HTML: keep "+" and non-ASCII names readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static readonly JsonWriterOptions WriterOptions = Options;

    /// <summary>The dump of one file as one JSON object, written into <paramref name="json"/> (an array of them when
    /// several files are dumped).</summary>
    public static void Write(CacheImage image, string fileName, IReadOnlySet<DumpSection> sections, Utf8JsonWriter json, DumpFilter? filter = null)
    {
        filter ??= DumpFilter.All;
        var facts = new ImageFacts(image);
        json.WriteStartObject();
        json.WriteString("file", fileName);
        if (sections.Contains(DumpSection.Header)) Header(image, json);
        if (sections.Contains(DumpSection.Sections)) Sections(image, json);
        if (sections.Contains(DumpSection.Fingerprint)) Fingerprint(image, json);
        if (sections.Contains(DumpSection.Declarations)) Declarations(image, json);
        if (sections.Contains(DumpSection.Symbols)) Symbols(image, facts, filter, json);
        if (sections.Contains(DumpSection.Functions)) Functions(image, facts, filter, json);
        if (sections.Contains(DumpSection.Data)) DataObjects(image, facts, filter, json);
        if (sections.Contains(DumpSection.Relocations)) Relocations(image, facts, filter, json);
        if (sections.Contains(DumpSection.Dependencies)) Dependencies(image, facts, filter, json);
        if (sections.Contains(DumpSection.Signature)) FileSignature(facts, json);
        if (sections.Contains(DumpSection.Disassembly)) Disassemble(image, facts, filter, json);
        json.WriteEndObject();
    }

    /// <summary>Runs <paramref name="write"/> against a JSON writer and prints what it wrote, with a final '\n'.</summary>
    public static void Print(TextWriter output, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Options)) write(json);
        output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.Write('\n');
    }

    private static void Header(CacheImage image, Utf8JsonWriter json)
    {
        ref readonly FileHeader h = ref image.Header;
        json.WriteStartObject("header");
        json.WriteString("magic", Convert.ToHexStringLower(image.File[..8]));
        json.WriteString("version", $"{h.MajorVersion}.{h.MinorVersion}");
        json.WriteNumber("fileSize", h.FileSize);
        json.WriteString("fileChecksum", Hex64(h.FileChecksum));
        json.WriteString("architecture", EnumName(image.Architecture));
        json.WriteString("abi", EnumName(image.Abi));
        json.WriteString("os", EnumName(image.Os));
        Names(json, "requiredFlags", FlagNames<RequiredFlags>(h.RequiredFlags));
        Names(json, "optionalFlags", FlagNames<OptionalFlags>(h.OptionalFlags));
        Names(json, "cpuFeatures", FeatureNames(image.RequiredCpuFeatures));
        json.WriteString("codegenFingerprint", Hex64(h.CodegenFingerprint));
        json.WriteString("producer", image.Producer);
        json.WriteString("moduleName", image.ModuleName);
        json.WriteNumber("sectionCount", h.SectionCount);
        json.WriteEndObject();
    }

    private static void Sections(CacheImage image, Utf8JsonWriter json)
    {
        ReadOnlySpan<SectionEntry> directory = image.Directory;
        json.WriteStartArray("sections");
        for (int i = 0; i < directory.Length; i++)
        {
            SectionEntry e = directory[i];
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("kind", SectionKinds.Name(e.Kind));
            Names(json, "flags", FlagNames<SectionFlags>(e.Flags));
            json.WriteNumber("offset", e.Offset);
            json.WriteNumber("size", e.Size);
            json.WriteNumber("alignment", e.Alignment);
            json.WriteString("checksum", Hex64(e.Checksum));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void Fingerprint(CacheImage image, Utf8JsonWriter json)
    {
        ReadOnlySpan<FingerprintComponent> components = image.Fingerprint;
        json.WriteStartArray("fingerprint");
        for (int i = 0; i < components.Length; i++)
        {
            FingerprintComponent c = components[i];
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("key", image.GetString(c.Key));
            json.WriteString("kind", EnumName(c.ValueKind));
            json.WriteString("match", EnumName(c.Match));
            switch (c.ValueKind)
            {
                case FingerprintValueKind.String:
                    json.WriteString("value", image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32))));
                    break;
                case FingerprintValueKind.FeatureSet:
                    json.WriteString("value", Hex64(c.Value));
                    break;
                default:
                    json.WriteString("value", Decimal(c.Value));
                    break;
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void Declarations(CacheImage image, Utf8JsonWriter json)
    {
        ReadOnlySpan<DeclarationRecord> declarations = image.Declarations;
        json.WriteStartArray("declarations");
        for (int i = 0; i < declarations.Length; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("signature", image.GetSignature(i).ToString());
            json.WriteString("hash", Hex64(declarations[i].SignatureHash));
            json.WriteString("encoding", Convert.ToHexStringLower(image.GetSignatureEncoding(i)));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void Symbols(CacheImage image, ImageFacts facts, DumpFilter filter, Utf8JsonWriter json)
    {
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        json.WriteStartArray("symbols");
        foreach (int i in filter.Symbols(image))
        {
            SymbolRecord s = symbols[i];
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("name", image.GetString(s.Name));
            json.WriteString("kind", EnumName(s.Kind));
            json.WriteString("linkage", EnumName(s.Linkage));
            IndexOrNull(json, "declaration", s.Declaration);
            json.WriteString("signature", facts.DeclarationText(s));
            IndexOrNull(json, "definition", s.Definition);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void Functions(CacheImage image, ImageFacts facts, DumpFilter filter, Utf8JsonWriter json)
    {
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        json.WriteStartArray("functions");
        foreach (int i in filter.Functions(image))
        {
            FunctionRecord f = functions[i];
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("name", facts.FunctionName(i));
            json.WriteNumber("symbol", f.Symbol);
            json.WriteNumber("codeOffset", f.CodeOffset);
            json.WriteNumber("codeSize", f.CodeSize);
            json.WriteNumber("alignment", f.Alignment);
            Names(json, "cpuFeatures", FeatureNames(f.RequiredCpuFeatures));
            ContentHashOrNull(json, "contentHash", f.ContentHash);
            json.WriteNumber("firstRelocation", f.FirstRelocation);
            json.WriteNumber("relocationCount", f.RelocationCount);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void DataObjects(CacheImage image, ImageFacts facts, DumpFilter filter, Utf8JsonWriter json)
    {
        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        json.WriteStartArray("dataObjects");
        foreach (int i in filter.DataObjects(image))
        {
            DataObjectRecord d = data[i];
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("name", facts.DataName(i));
            json.WriteNumber("symbol", d.Symbol);
            json.WriteString("kind", EnumName(d.Kind));
            json.WriteNumber("offset", d.Offset);
            json.WriteNumber("size", d.Size);
            json.WriteNumber("alignment", d.Alignment);
            ContentHashOrNull(json, "contentHash", d.ContentHash);
            json.WriteNumber("firstRelocation", d.FirstRelocation);
            json.WriteNumber("relocationCount", d.RelocationCount);
            ReadOnlySpan<byte> bytes = image.DataBytes(d);
            // The first bytes only, as in the text dump; zero-filled objects have none in the file.
            json.WriteString("preview", Convert.ToHexStringLower(bytes[..Math.Min(bytes.Length, DataPreviewLength)]));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void Relocations(CacheImage image, ImageFacts facts, DumpFilter filter, Utf8JsonWriter json)
    {
        json.WriteStartArray("relocations");
        bool open = false;
        (bool IsFunction, int Index) owner = default;
        foreach (OwnedRelocation o in facts.RelocationsByOwner(filter))
        {
            if (!open || owner != (o.OwnerIsFunction, o.OwnerIndex))
            {
                if (open) { json.WriteEndArray(); json.WriteEndObject(); }
                owner = (o.OwnerIsFunction, o.OwnerIndex);
                open = true;
                json.WriteStartObject();
                json.WriteString("owner", o.Owner);
                json.WriteString("ownerKind", o.OwnerIsFunction ? "function" : "data");
                json.WriteNumber("ownerIndex", o.OwnerIndex);
                json.WriteStartArray("relocations");
            }
            RelocationRecord r = o.Record;
            json.WriteStartObject();
            json.WriteNumber("index", o.Index);
            json.WriteNumber("offset", r.Offset);
            json.WriteString("kind", EnumName(r.Kind));
            json.WriteString("target", image.SymbolName((int)r.Target));
            json.WriteString("addend", Decimal(r.Addend));
            if (r.ExpectedSignatureHash == 0) json.WriteNull("expectedSignatureHash");
            else json.WriteString("expectedSignatureHash", Hex64(r.ExpectedSignatureHash));
            bool stale = facts.IsStale(o.Index, out string expected, out string actual);
            json.WriteBoolean("stale", stale);
            if (stale)
            {
                json.WriteString("expectedSignature", expected);
                json.WriteString("actualSignature", actual);
            }
            json.WriteEndObject();
        }
        if (open) { json.WriteEndArray(); json.WriteEndObject(); }
        json.WriteEndArray();
    }

    private static void Dependencies(CacheImage image, ImageFacts facts, DumpFilter filter, Utf8JsonWriter json)
    {
        ReadOnlySpan<DependencyRecord> dependencies = image.Dependencies;
        json.WriteStartArray("dependencies");
        foreach (int i in facts.DependenciesOf(filter))
        {
            DependencyRecord d = dependencies[i];
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteString("function", facts.FunctionName((int)d.Function));
            json.WriteString("kind", EnumName(d.Kind));
            json.WriteString("target", image.SymbolName((int)d.Target));
            ContentHashOrNull(json, "expectedContentHash", d.ExpectedContentHash);
            bool stale = facts.IsStaleDependency(i, out string reason);
            json.WriteBoolean("stale", stale);
            if (stale) json.WriteString("reason", reason);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void FileSignature(ImageFacts facts, Utf8JsonWriter json)
    {
        if (facts.FileSignature() is not { } s)
        {
            json.WriteNull("signature");
            return;
        }
        json.WriteStartObject("signature");
        json.WriteString("algorithm", EnumName((SignatureAlgorithm)s.Algorithm));
        json.WriteString("keyId", Convert.ToHexStringLower(s.KeyId));
        json.WriteString("signature", Convert.ToHexStringLower(((ReadOnlySpan<byte>)s.Signature)[..(int)s.SignatureLength]));
        json.WriteEndObject();
    }

    private static void Disassemble(CacheImage image, ImageFacts facts, DumpFilter filter, Utf8JsonWriter json)
    {
        var disassembly = new Disassembly(image);
        json.WriteStartArray("disassembly");
        foreach (int i in filter.Functions(image))
        {
            json.WriteStartObject();
            json.WriteString("function", facts.FunctionName(i));
            json.WriteStartArray("instructions");
            foreach (DisassembledInstruction ins in disassembly.Function(i))
            {
                json.WriteStartObject();
                json.WriteNumber("address", ins.Address);
                json.WriteString("bytes", Convert.ToHexStringLower(ins.Bytes));
                json.WriteString("text", ins.Text);
                json.WriteStartArray("relocations");
                foreach (int relocation in ins.Relocations)
                {
                    RelocationRecord r = image.Relocations[relocation];
                    json.WriteStartObject();
                    json.WriteNumber("index", relocation);
                    json.WriteString("kind", EnumName(r.Kind));
                    json.WriteString("target", image.SymbolName((int)r.Target));
                    json.WriteString("addend", Decimal(r.Addend));
                    json.WriteBoolean("stale", facts.IsStale(relocation, out _, out _));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>A 64-bit quantity as a decimal string: exact, unlike a JSON number past 2^53.</summary>
    private static string Decimal(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Decimal(ulong value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Names(Utf8JsonWriter json, string property, IEnumerable<string> names)
    {
        json.WriteStartArray(property);
        foreach (string name in names) json.WriteStringValue(name);
        json.WriteEndArray();
    }

    private static void IndexOrNull(Utf8JsonWriter json, string property, uint index)
    {
        if (index == FormatConstants.NoIndex) json.WriteNull(property);
        else json.WriteNumber(property, index);
    }

    private static void ContentHashOrNull(Utf8JsonWriter json, string property, ContentHash hash)
    {
        if (hash.IsNone) json.WriteNull(property);
        else json.WriteString(property, hash.ToString());
    }
}
