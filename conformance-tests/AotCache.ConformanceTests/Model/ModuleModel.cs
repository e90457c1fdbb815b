using System.Text;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Model;

/// <summary>A plain description of a module, independent of writer and reader, so that
/// <c>read(write(m)) == m</c> can be stated as equality of two descriptions.</summary>
public sealed record ModuleModel(
    string Producer,
    string ModuleName,
    CpuFeatures CpuFeatures,
    IReadOnlyList<Signature> Declarations,
    IReadOnlyList<ImportModel> Imports,
    IReadOnlyList<FunctionModel> Functions,
    IReadOnlyList<DataModel> Data,
    IReadOnlyList<FingerprintModel> Fingerprint,
    IReadOnlyList<DependencyModel> Dependencies)
{
    /// <summary>Writes the model with the real writer.</summary>
    public byte[] Write(DeclarationOrder order = DeclarationOrder.AsAdded)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64)
        {
            Producer = Producer,
            ModuleName = ModuleName,
            RequiredCpuFeatures = CpuFeatures,
            DeclarationOrder = order,
        };
        var decls = Declarations.Select(b.AddDeclaration).ToArray();
        var handles = new Dictionary<string, SymbolHandle>(StringComparer.Ordinal);
        foreach (ImportModel i in Imports)
            handles[i.Name] = i.Declaration is int d ? b.AddImportFunction(i.Name, decls[d]) : b.AddImportData(i.Name);
        foreach (FunctionModel f in Functions) handles[f.Name] = b.DeclareFunction(f.Name, decls[f.Declaration], f.Linkage);
        foreach (DataModel d in Data) handles[d.Name] = b.DeclareData(d.Name, d.Kind, d.Alignment, d.Linkage);
        foreach (FunctionModel f in Functions)
            b.DefineFunction(handles[f.Name], new FunctionBody(f.Code, Declarations[f.Declaration], f.Relocations.Select(r => r.ToRelocation(handles)),
                Dependencies.Where(d => d.Function == f.Name).Select(d => new Dependency(d.Target, d.Expected)))
            { Alignment = f.Alignment, ContentHash = f.ContentHash, RequiredCpuFeatures = f.CpuFeatures });
        foreach (DataModel d in Data)
        {
            if (d.Kind == DataKind.ZeroFilled) b.DefineZeroFilled(handles[d.Name], d.Size, d.ContentHash);
            else b.DefineData(handles[d.Name], d.Bytes, d.Relocations.Select(r => r.ToRelocation(handles)), d.ContentHash);
        }
        foreach (FingerprintModel p in Fingerprint)
        {
            switch (p.Kind)
            {
                case FingerprintValueKind.Integer: b.AddFingerprint(p.Key, p.Value, p.Match); break;
                case FingerprintValueKind.String: b.AddFingerprint(p.Key, p.Text!, p.Match); break;
                default: b.AddFingerprintFeatures(p.Key, p.Value, p.Match); break;
            }
        }
        return b.ToArray();
    }

    /// <summary>Reads a validated image back into a model. Functions come back in file order, which is
    /// the writer's declaration order; data objects in kind order (read-only, writable, zero-filled).</summary>
    public static ModuleModel Read(CacheImage image)
    {
        var declarations = Enumerable.Range(0, image.Declarations.Length).Select(image.GetSignature).ToList();
        var imports = new List<ImportModel>();
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        for (int i = 0; i < symbols.Length; i++)
            if (symbols[i].Kind is SymbolKind.ImportFunction or SymbolKind.ImportData)
                imports.Add(new ImportModel(image.SymbolName(i), symbols[i].Kind == SymbolKind.ImportFunction ? (int)symbols[i].Declaration : null));
        var functions = new List<FunctionModel>();
        foreach (FunctionRecord f in image.Functions)
        {
            SymbolRecord s = symbols[(int)f.Symbol];
            functions.Add(new FunctionModel(image.SymbolName((int)f.Symbol), (int)s.Declaration, s.Linkage, image.FunctionCode(f).ToArray(),
                (int)f.Alignment, f.ContentHash, f.RequiredCpuFeatures, ReadRelocations(image, image.RelocationsOf(f))));
        }
        var data = new List<DataModel>();
        foreach (DataObjectRecord d in image.DataObjects)
        {
            SymbolRecord s = symbols[(int)d.Symbol];
            data.Add(new DataModel(image.SymbolName((int)d.Symbol), d.Kind, s.Linkage, (int)d.Alignment, image.DataBytes(d).ToArray(),
                (int)d.Size, d.ContentHash, ReadRelocations(image, image.RelocationsOf(d))));
        }
        var fingerprint = new List<FingerprintModel>();
        foreach (FingerprintComponent c in image.Fingerprint)
        {
            string? text = c.ValueKind == FingerprintValueKind.String ? image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32))) : null;
            fingerprint.Add(new FingerprintModel(image.GetString(c.Key), c.ValueKind, c.Match, text is null ? c.Value : 0, text));
        }
        var dependencies = new List<DependencyModel>();
        foreach (DependencyRecord d in image.Dependencies)
            dependencies.Add(new DependencyModel(image.SymbolName((int)image.Functions[(int)d.Function].Symbol), image.SymbolName((int)d.Target), d.ExpectedContentHash));
        return new ModuleModel(image.Producer, image.ModuleName, image.RequiredCpuFeatures, declarations, imports, functions, data, fingerprint, dependencies);
    }

    private static List<RelocationModel> ReadRelocations(CacheImage image, ReadOnlySpan<RelocationRecord> relocations)
    {
        var list = new List<RelocationModel>();
        foreach (RelocationRecord r in relocations)
            list.Add(new RelocationModel((int)r.Offset, r.Kind, image.SymbolName((int)r.Target), r.Addend, r.ExpectedSignatureHash));
        return list;
    }

    /// <summary>The order-insensitive parts in a canonical order, everything else as stored: a text that is
    /// equal for two models exactly when they describe the same module.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"producer {Producer}|module {ModuleName}|cpu {CpuFeatures}");
        // Declarations are referenced by index from imports and functions; describe through the signatures themselves.
        foreach (ImportModel i in Imports.OrderBy(i => i.Name, StringComparer.Ordinal))
            sb.AppendLine($"import {i.Name} {(i.Declaration is int d ? Declarations[d].ToString() : "data")}");
        foreach (FunctionModel f in Functions)
        {
            sb.AppendLine($"function {f.Name} {Declarations[f.Declaration]} {f.Linkage} align {f.Alignment} hash {f.ContentHash} cpu {f.CpuFeatures} code {Convert.ToHexString(Unfilled(f))}");
            foreach (RelocationModel r in f.Relocations.OrderBy(r => r.Offset)) sb.AppendLine($"  {r}");
        }
        foreach (DataModel d in Data.OrderBy(d => d.Kind).ThenBy(d => Data.ToList().IndexOf(d)))
        {
            sb.AppendLine($"data {d.Name} {d.Kind} {d.Linkage} align {d.Alignment} size {d.Size} hash {d.ContentHash} bytes {Convert.ToHexString(d.Bytes)}");
            foreach (RelocationModel r in d.Relocations.OrderBy(r => r.Offset)) sb.AppendLine($"  {r}");
        }
        foreach (FingerprintModel p in Fingerprint.OrderBy(p => Encoding.UTF8.GetBytes(p.Key), ByteOrder.Instance))
            sb.AppendLine($"fingerprint {p.Key} {p.Kind} {p.Match} {p.Value} {p.Text}");
        foreach (DependencyModel d in Dependencies.OrderBy(d => d.Function, StringComparer.Ordinal).ThenBy(d => d.Target, StringComparer.Ordinal))
            sb.AppendLine($"dependency {d.Function} -> {d.Target} {d.Expected}");
        return sb.ToString();
    }

    /// <summary>A function's code with its relocation fields zeroed: what a writer stores in a field is its own
    /// choice (a prelinked writer stores the canonical value, FORMAT.md §16.2), so two models compare without them.</summary>
    private static byte[] Unfilled(FunctionModel f)
    {
        byte[] code = [.. f.Code];
        foreach (RelocationModel r in f.Relocations) code.AsSpan(r.Offset, RelocationRules.FieldWidth(r.Kind)).Clear();
        return code;
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

public sealed record ImportModel(string Name, int? Declaration);

public sealed record FunctionModel(string Name, int Declaration, Linkage Linkage, byte[] Code, int Alignment,
    ContentHash ContentHash, CpuFeatures CpuFeatures, IReadOnlyList<RelocationModel> Relocations);

public sealed record DataModel(string Name, DataKind Kind, Linkage Linkage, int Alignment, byte[] Bytes, int Size,
    ContentHash ContentHash, IReadOnlyList<RelocationModel> Relocations);

public sealed record FingerprintModel(string Key, FingerprintValueKind Kind, MatchRule Match, ulong Value, string? Text);

public sealed record DependencyModel(string Function, string Target, ContentHash Expected);

public sealed record RelocationModel(int Offset, RelocationKind Kind, string Target, long Addend, ulong ExpectedSignatureHash)
{
    public Relocation ToRelocation(IReadOnlyDictionary<string, SymbolHandle> handles) =>
        new(Offset, Kind, handles[Target].Name, Addend, ExpectedSignatureHash);

    public override string ToString() => $"+{Offset} {Kind} -> {Target} {Addend:+0;-0} sig {ExpectedSignatureHash:x16}";
}
