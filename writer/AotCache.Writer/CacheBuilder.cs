using System.Text;
using AotCache.Format;

namespace AotCache.Writer;

/// <summary>
/// Builds one AotCache file. Add declarations, imports, functions and data objects (each call
/// returns a handle), then <see cref="ToArray"/> or <see cref="WriteTo"/>. Inputs are checked as they
/// are added; a builder that cannot form a valid file refuses to write anything. The same sequence
/// of calls always writes the same bytes.
/// </summary>
public sealed partial class CacheBuilder
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<Signature> _declarations = [];
    private readonly Dictionary<Signature, int> _declarationIndex = [];
    private readonly List<SymbolEntry> _symbols = [];
    private readonly Dictionary<string, int> _symbolByName = new(StringComparer.Ordinal);
    private readonly List<FingerprintEntry> _fingerprint = [];
    private readonly List<DependencyEntry> _dependencies = [];
    private readonly List<(uint Kind, byte[] Bytes)> _privateSections = [];

    public CacheBuilder(TargetDescription target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!Enum.IsDefined(target.Architecture) || !Enum.IsDefined(target.Abi) || !Enum.IsDefined(target.Os))
            throw new ArgumentException($"unknown target {target}", nameof(target));
        Target = target;
    }

    public TargetDescription Target { get; }

    /// <summary>Name and version of the program writing the file.</summary>
    public string Producer { get; set; } = "AotCache.Writer 1.0";

    /// <summary>Name of the module, for tools and diagnostics.</summary>
    public string ModuleName { get; set; } = "";

    /// <summary>Extensions every function of the file needs (the file-level requirement).</summary>
    public CpuFeatures RequiredCpuFeatures { get; set; }

    public OptionalFlags OptionalFlags { get; set; }

    /// <summary>How the declaration table is ordered; <see cref="DeclarationOrder.AsAdded"/> unless set.</summary>
    public DeclarationOrder DeclarationOrder { get; set; }

    /// <summary>When set, the file ends with a signature section made with this key (format 1.1).</summary>
    public SigningKey? SigningKey { get; set; }

    /// <summary>Number of symbols added so far.</summary>
    public int SymbolCount => _symbols.Count;

    /// <summary>Adds a function type, or returns the handle of the equal one already added.</summary>
    public DeclarationHandle AddDeclaration(Signature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (_declarationIndex.TryGetValue(signature, out int existing)) return new DeclarationHandle(existing);
        _declarations.Add(signature);
        _declarationIndex.Add(signature, _declarations.Count - 1);
        return new DeclarationHandle(_declarations.Count - 1);
    }

    public Signature GetSignature(DeclarationHandle declaration) => _declarations[CheckDeclaration(declaration)];

    /// <summary>What a symbol handle names.</summary>
    public SymbolKind GetSymbolKind(SymbolHandle symbol) => GetSymbol(symbol).Kind;

    /// <summary>The name a symbol handle was added with.</summary>
    public string GetSymbolName(SymbolHandle symbol) => GetSymbol(symbol).Name;

    /// <summary>The signature of a function or imported function; null for data.</summary>
    public Signature? GetSymbolSignature(SymbolHandle symbol)
    {
        SymbolEntry s = GetSymbol(symbol);
        return s.Declaration >= 0 ? _declarations[s.Declaration] : null;
    }

    /// <summary>The handle of the symbol with this name, if any.</summary>
    public bool TryGetSymbol(string name, out SymbolHandle symbol)
    {
        bool found = _symbolByName.TryGetValue(name, out int index);
        symbol = new SymbolHandle(index);
        return found;
    }

    /// <summary>Adds a function that the host provides at load time.</summary>
    public SymbolHandle AddImportFunction(string name, DeclarationHandle declaration)
    {
        CheckDeclaration(declaration);
        return AddSymbol(new SymbolEntry(name, SymbolKind.ImportFunction, Linkage.Import, declaration.Index));
    }

    /// <summary>Adds a data address that the host provides at load time.</summary>
    public SymbolHandle AddImportData(string name) =>
        AddSymbol(new SymbolEntry(name, SymbolKind.ImportData, Linkage.Import, -1));

    /// <summary>Declares a function so that others can refer to it; define it later with <see cref="DefineFunction"/>.</summary>
    public SymbolHandle DeclareFunction(string name, DeclarationHandle declaration, Linkage linkage = Linkage.Export)
    {
        CheckDeclaration(declaration);
        CheckDefinedLinkage(linkage);
        return AddSymbol(new SymbolEntry(name, SymbolKind.Function, linkage, declaration.Index));
    }

    /// <summary>Declares and defines a function in one step.</summary>
    public SymbolHandle AddFunction(string name, DeclarationHandle declaration, ReadOnlySpan<byte> code,
        IEnumerable<Relocation>? relocations = null, FunctionOptions? options = null, Linkage linkage = Linkage.Export)
    {
        SymbolHandle handle = DeclareFunction(name, declaration, linkage);
        try
        {
            DefineFunction(handle, code, relocations, options);
        }
        catch
        {
            RemoveLastSymbol(handle);
            throw;
        }
        return handle;
    }

    /// <summary>Gives a declared function its machine code, relocations and options.</summary>
    public void DefineFunction(SymbolHandle function, ReadOnlySpan<byte> code,
        IEnumerable<Relocation>? relocations = null, FunctionOptions? options = null)
    {
        SymbolEntry entry = GetSymbol(function);
        if (entry.Kind != SymbolKind.Function)
            throw new ArgumentException($"'{entry.Name}' is a {entry.Kind}, not a function", nameof(function));
        if (entry.IsDefined)
            throw new InvalidOperationException($"function '{entry.Name}' is already defined");
        options ??= FunctionOptions.Default;
        CheckAlignment(options.Alignment, $"function '{entry.Name}'");
        if (code.IsEmpty)
            throw new ArgumentException($"function '{entry.Name}' has no code [FUN-5]", nameof(code));
        if (code.Length > FormatConstants.MaxFileSize / 2)
            throw new ArgumentException($"function '{entry.Name}' is {code.Length} bytes, too large for one file", nameof(code));
        if ((options.RequiredCpuFeatures & ~CpuFeatures.AllKnown) != 0)
            throw new ArgumentException($"function '{entry.Name}' requires unknown CPU feature bits 0x{(ulong)(options.RequiredCpuFeatures & ~CpuFeatures.AllKnown):x}", nameof(options));
        entry.Relocations = CheckRelocations(entry.Name, code.Length, relocations, allowed: true);
        entry.Bytes = code.ToArray();
        entry.Alignment = options.Alignment;
        entry.ContentHash = options.ContentHash;
        entry.CpuFeatures = options.RequiredCpuFeatures;
        entry.IsDefined = true;
    }

    /// <summary>Declares a data object so that relocations can refer to it before it is defined.</summary>
    public SymbolHandle DeclareData(string name, DataKind kind, int alignment = 8, Linkage linkage = Linkage.Local)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown data kind");
        CheckAlignment(alignment, $"data object '{name}'");
        CheckDefinedLinkage(linkage);
        return AddSymbol(new SymbolEntry(name, SymbolKind.Data, linkage, -1) { DataKind = kind, Alignment = alignment });
    }

    /// <summary>Gives a declared read-only or writable data object its initial bytes and relocations.</summary>
    public void DefineData(SymbolHandle data, ReadOnlySpan<byte> bytes, IEnumerable<Relocation>? relocations = null,
        ContentHash contentHash = default)
    {
        SymbolEntry entry = GetDataForDefinition(data);
        if (entry.DataKind == DataKind.ZeroFilled)
            throw new InvalidOperationException($"data object '{entry.Name}' is zero-filled: define it with {nameof(DefineZeroFilled)}");
        if (bytes.IsEmpty)
            throw new ArgumentException($"data object '{entry.Name}' has no bytes [DAT-2]", nameof(bytes));
        entry.Relocations = CheckRelocations(entry.Name, bytes.Length, relocations, allowed: true);
        entry.Bytes = bytes.ToArray();
        entry.Size = bytes.Length;
        entry.ContentHash = contentHash;
        entry.IsDefined = true;
    }

    /// <summary>Gives a declared zero-filled data object its size.</summary>
    public void DefineZeroFilled(SymbolHandle data, int size, ContentHash contentHash = default)
    {
        SymbolEntry entry = GetDataForDefinition(data);
        if (entry.DataKind != DataKind.ZeroFilled)
            throw new InvalidOperationException($"data object '{entry.Name}' is {entry.DataKind}: define it with {nameof(DefineData)}");
        if (size <= 0 || size > FormatConstants.MaxFileSize / 2)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"zero-filled object '{entry.Name}' needs a size from 1 to 2^30");
        entry.Size = size;
        entry.Bytes = [];
        entry.Relocations = [];
        entry.ContentHash = contentHash;
        entry.IsDefined = true;
    }

    /// <summary>Declares and defines a read-only or writable data object in one step.</summary>
    public SymbolHandle AddData(string name, DataKind kind, ReadOnlySpan<byte> bytes, int alignment = 8,
        IEnumerable<Relocation>? relocations = null, ContentHash contentHash = default, Linkage linkage = Linkage.Local)
    {
        SymbolHandle handle = DeclareData(name, kind, alignment, linkage);
        try
        {
            if (kind == DataKind.ZeroFilled) DefineZeroFilled(handle, bytes.Length, contentHash);
            else DefineData(handle, bytes, relocations, contentHash);
        }
        catch
        {
            RemoveLastSymbol(handle);
            throw;
        }
        return handle;
    }

    /// <summary>Adds an integer component to the codegen fingerprint.</summary>
    public void AddFingerprint(string key, ulong value, MatchRule match = MatchRule.Equal)
    {
        if (match == MatchRule.Superset) throw new ArgumentException("only feature sets compare as supersets [FPR-1]", nameof(match));
        AddFingerprintEntry(new FingerprintEntry(key, FingerprintValueKind.Integer, match, value, null));
    }

    /// <summary>Adds a string component to the codegen fingerprint.</summary>
    public void AddFingerprint(string key, string value, MatchRule match = MatchRule.Equal)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (match == MatchRule.Superset) throw new ArgumentException("only feature sets compare as supersets [FPR-1]", nameof(match));
        CheckUtf8(value, nameof(value));
        AddFingerprintEntry(new FingerprintEntry(key, FingerprintValueKind.String, match, 0, value));
    }

    /// <summary>Adds a feature-set component to the codegen fingerprint.</summary>
    public void AddFingerprintFeatures(string key, ulong features, MatchRule match = MatchRule.Superset) =>
        AddFingerprintEntry(new FingerprintEntry(key, FingerprintValueKind.FeatureSet, match, features, null));

    /// <summary>
    /// Records that <paramref name="function"/> depends on <paramref name="target"/>'s content (it
    /// inlined a function, or folded a data object), as it was when the content hash was
    /// <paramref name="expectedContentHash"/>.
    /// </summary>
    public void AddDependency(SymbolHandle function, SymbolHandle target, ContentHash expectedContentHash)
    {
        SymbolEntry f = GetSymbol(function);
        SymbolEntry t = GetSymbol(target);
        if (f.Kind != SymbolKind.Function)
            throw new ArgumentException($"only functions have dependencies; '{f.Name}' is a {f.Kind}", nameof(function));
        DependencyKind kind = t.Kind switch
        {
            SymbolKind.Function => DependencyKind.FunctionContent,
            SymbolKind.Data => DependencyKind.DataContent,
            _ => throw new ArgumentException($"'{t.Name}' is a {t.Kind}; dependencies name defined functions or data objects [DEP-1]", nameof(target)),
        };
        foreach (DependencyEntry d in _dependencies)
            if (d.Function == function.Index && d.Target == target.Index)
                throw new ArgumentException($"'{f.Name}' already depends on '{t.Name}'", nameof(target));
        _dependencies.Add(new DependencyEntry(function.Index, target.Index, kind, expectedContentHash));
    }

    /// <summary>First section kind of the range FORMAT.md §4 reserves for producers' own sections.</summary>
    public const uint FirstPrivateSectionKind = 0x8000_0000;

    /// <summary>
    /// Adds a producer-private section (FORMAT.md §4): bytes only the producer understands, e.g. a front end's
    /// incremental-build index. It is written with the required flag clear, so every reader skips it (after
    /// checking its bounds and checksum); the header's producer string says whose it is.
    /// </summary>
    public void AddPrivateSection(uint kind, ReadOnlySpan<byte> bytes)
    {
        if (kind < FirstPrivateSectionKind)
            throw new ArgumentOutOfRangeException(nameof(kind), kind, $"private section kinds start at 0x{FirstPrivateSectionKind:x}");
        foreach (var (existing, _) in _privateSections)
            if (existing == kind) throw new ArgumentException($"a private section of kind 0x{kind:x} was already added [SEC-4]", nameof(kind));
        _privateSections.Add((kind, bytes.ToArray()));
    }

    private void AddFingerprintEntry(FingerprintEntry entry)
    {
        CheckName(entry.Key, "fingerprint key");
        foreach (FingerprintEntry e in _fingerprint)
            if (e.Key == entry.Key) throw new ArgumentException($"fingerprint key '{entry.Key}' is already present [FPR-1]", nameof(entry));
        _fingerprint.Add(entry);
    }

    private SymbolHandle AddSymbol(SymbolEntry entry)
    {
        CheckName(entry.Name, "symbol name");
        if (_symbolByName.ContainsKey(entry.Name))
            throw new ArgumentException($"a symbol named '{entry.Name}' already exists [SYM-2]", "name");
        _symbols.Add(entry);
        _symbolByName.Add(entry.Name, _symbols.Count - 1);
        return new SymbolHandle(_symbols.Count - 1);
    }

    private void RemoveLastSymbol(SymbolHandle handle)
    {
        // Only the symbol just added by a failed one-step Add* is ever removed: handles stay dense.
        if (handle.Index != _symbols.Count - 1) throw new InvalidOperationException("internal: not the last symbol");
        _symbolByName.Remove(_symbols[handle.Index].Name);
        _symbols.RemoveAt(handle.Index);
    }

    private SymbolEntry GetSymbol(SymbolHandle handle)
    {
        if ((uint)handle.Index >= (uint)_symbols.Count)
            throw new ArgumentException($"symbol handle {handle.Index} does not belong to this builder", nameof(handle));
        return _symbols[handle.Index];
    }

    private SymbolEntry GetDataForDefinition(SymbolHandle data)
    {
        SymbolEntry entry = GetSymbol(data);
        if (entry.Kind != SymbolKind.Data)
            throw new ArgumentException($"'{entry.Name}' is a {entry.Kind}, not a data object", nameof(data));
        if (entry.IsDefined)
            throw new InvalidOperationException($"data object '{entry.Name}' is already defined");
        return entry;
    }

    private int CheckDeclaration(DeclarationHandle declaration)
    {
        if ((uint)declaration.Index >= (uint)_declarations.Count)
            throw new ArgumentException($"declaration handle {declaration.Index} does not belong to this builder", nameof(declaration));
        return declaration.Index;
    }

    private static void CheckDefinedLinkage(Linkage linkage)
    {
        if (linkage is not (Linkage.Local or Linkage.Export))
            throw new ArgumentOutOfRangeException(nameof(linkage), linkage, "a defined symbol is Local or Export [SYM-1]");
    }

    private static void CheckAlignment(int alignment, string what)
    {
        if (alignment < 1 || alignment > FormatConstants.MaxAlignment || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment,
                $"{what}: alignment must be a power of two from 1 to {FormatConstants.MaxAlignment}");
    }

    private static void CheckName(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) throw new ArgumentException($"a {what} cannot be empty [STR-3]", nameof(name));
        CheckUtf8(name, nameof(name));
    }

    private static void CheckUtf8(string text, string parameter)
    {
        try
        {
            StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"'{text}' is not valid Unicode (lone surrogate) [STR-1]", parameter, e);
        }
    }

    /// <summary>Checks one owner's relocations and returns them sorted by offset.</summary>
    private Relocation[] CheckRelocations(string owner, int ownerSize, IEnumerable<Relocation>? relocations, bool allowed)
    {
        if (relocations is null) return [];
        Relocation[] ordered = relocations as Relocation[] is { } array ? (Relocation[])array.Clone() : [.. relocations];
        if (ordered.Length > 0 && !allowed)
            throw new ArgumentException($"'{owner}' cannot have relocations", nameof(relocations));
        // Sorting is only needed when the caller did not give offset order (codegen does); duplicates are refused below.
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i - 1].Offset > ordered[i].Offset)
            {
                Array.Sort(ordered, (a, b) => a.Offset.CompareTo(b.Offset));
                break;
            }
        for (int i = 0; i < ordered.Length; i++)
        {
            Relocation r = ordered[i];
            if (!Enum.IsDefined(r.Kind))
                throw new ArgumentException($"'{owner}': relocation at +{r.Offset} has unknown kind {(int)r.Kind} [REL-1]", nameof(relocations));
            int width = RelocationRules.FieldWidth(r.Kind);
            if (r.Offset < 0 || (long)r.Offset + width > ownerSize)
                throw new ArgumentException(
                    $"'{owner}': {r.Kind} relocation at +{r.Offset} needs {width} bytes but the owner is {ownerSize} bytes [REL-3]", nameof(relocations));
            if (i > 0 && ordered[i - 1].Offset + RelocationRules.FieldWidth(ordered[i - 1].Kind) > r.Offset)
                throw new ArgumentException(
                    $"'{owner}': relocations at +{ordered[i - 1].Offset} and +{r.Offset} overlap [REL-4]", nameof(relocations));
            SymbolEntry target = GetSymbol(r.Target);
            if (!RelocationRules.TargetAllowed(r.Kind, target.Kind))
                throw new ArgumentException(
                    $"'{owner}': a {r.Kind} relocation at +{r.Offset} cannot target '{target.Name}', a {target.Kind} [REL-6]", nameof(relocations));
            if (width == 4 && (r.Addend < int.MinValue || r.Addend > int.MaxValue))
                throw new ArgumentException($"'{owner}': addend {r.Addend} of the 32-bit relocation at +{r.Offset} does not fit 32 bits [REL-7]", nameof(relocations));
            bool functionTarget = target.Kind is SymbolKind.Function or SymbolKind.ImportFunction;
            if (!functionTarget && r.ExpectedSignatureHash is { } h && h != 0)
                throw new ArgumentException($"'{owner}': the relocation at +{r.Offset} targets data '{target.Name}' and cannot carry a signature hash [REL-8]", nameof(relocations));
        }
        return ordered;
    }

    private sealed class SymbolEntry(string name, SymbolKind kind, Linkage linkage, int declaration)
    {
        public string Name { get; } = name;
        public SymbolKind Kind { get; } = kind;
        public Linkage Linkage { get; } = linkage;
        public int Declaration { get; } = declaration;
        public bool IsDefined { get; set; }
        public byte[] Bytes { get; set; } = [];
        public Relocation[] Relocations { get; set; } = [];
        public int Alignment { get; set; } = 1;
        public int Size { get; set; }
        public DataKind DataKind { get; init; }
        public ContentHash ContentHash { get; set; }
        public CpuFeatures CpuFeatures { get; set; }
    }

    private sealed record FingerprintEntry(string Key, FingerprintValueKind Kind, MatchRule Match, ulong Value, string? Text);

    private sealed record DependencyEntry(int Function, int Target, DependencyKind Kind, ContentHash Expected);
}
