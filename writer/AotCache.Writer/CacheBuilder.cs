using System.Text;
using AotCache.Format;

namespace AotCache.Writer;

/// <summary>
/// Builds one AotCache file. Add declarations, imports, functions and data objects (each call
/// returns a handle), then <see cref="ToArray"/> or <see cref="WriteTo"/>. Inputs are checked as they
/// are added; a builder that cannot form a valid file refuses to write anything. The same sequence
/// of calls always writes the same bytes.
/// </summary>
public sealed partial class CacheBuilder : ISymbolScope
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<Signature> _declarations = [];
    private readonly Dictionary<Signature, int> _declarationIndex = [];
    private readonly List<SymbolEntry> _symbols = [];
    private readonly Dictionary<string, int> _symbolByName = new(StringComparer.Ordinal);
    private readonly List<FingerprintEntry> _fingerprint = [];
    private readonly List<(uint Kind, byte[] Bytes)> _privateSections = [];

    /// <summary>An empty builder for code of <paramref name="target"/> (e.g. <see cref="TargetDescription.LinuxX64"/>).</summary>
    public CacheBuilder(TargetDescription target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!Enum.IsDefined(target.Architecture) || !Enum.IsDefined(target.Abi) || !Enum.IsDefined(target.Os))
            throw new ArgumentException($"unknown target {target}", nameof(target));
        Target = target;
    }

    /// <summary>The architecture, ABI and OS the file is for.</summary>
    public TargetDescription Target { get; }

    /// <summary>Name and version of the program writing the file.</summary>
    public string Producer { get; set; } = "AotCache.Writer 1.0";

    /// <summary>Name of the module, for tools and diagnostics.</summary>
    public string ModuleName { get; set; } = "";

    /// <summary>Extensions every function of the file needs (the file-level requirement).</summary>
    public CpuFeatures RequiredCpuFeatures { get; set; }

    /// <summary>Optional header flags; unknown bits are ignored by readers.</summary>
    public OptionalFlags OptionalFlags { get; set; }

    /// <summary>How the declaration table is ordered; <see cref="DeclarationOrder.AsAdded"/> unless set.</summary>
    public DeclarationOrder DeclarationOrder { get; set; }

    /// <summary>
    /// Store in each function's PC-relative fields the values the canonical layout gives them, and say so with the
    /// Prelinked flag (format 1.2, FORMAT.md §16.2): a loader that places the module that way maps the code pages
    /// from the file and never writes them. On by default; off writes the fields as the bodies give them. A module
    /// whose values cannot all be prelinked (one does not fit 32 bits) is written unprelinked.
    /// </summary>
    public bool Prelink { get; set; } = true;

    /// <summary>
    /// Alignment of the Code section in the file: a power of two from 8 to 4096. 4096 (the default) starts the code on
    /// a page boundary, so a loader could map it straight from the file; small files that are never mapped (such as
    /// remote-cache entries) save up to a page of padding with less. Function alignments are relative to the section's
    /// start [FUN-3], so any value keeps them.
    /// </summary>
    public int CodeSectionAlignment
    {
        get => _codeSectionAlignment;
        set
        {
            if (value < 8 || value > FormatConstants.MaxAlignment || (value & (value - 1)) != 0)
                throw new ArgumentOutOfRangeException(nameof(CodeSectionAlignment), value, $"a section alignment is a power of two from 8 to {FormatConstants.MaxAlignment} [SEC-1]");
            _codeSectionAlignment = value;
        }
    }

    private int _codeSectionAlignment = 4096;

    /// <summary>When set, the file ends with a signature section made with this key (format 1.1).</summary>
    public SigningKey? SigningKey { get; set; }

    /// <summary>Number of symbols added so far.</summary>
    public int SymbolCount => _symbols.Count;

    /// <summary>Adds a function type, or returns the handle of the equal one already added.</summary>
    public DeclarationHandle AddDeclaration(Signature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (_declarationIndex.TryGetValue(signature, out int existing)) return new DeclarationHandle(this, existing);
        _declarations.Add(signature);
        _declarationIndex.Add(signature, _declarations.Count - 1);
        return new DeclarationHandle(this, _declarations.Count - 1);
    }

    /// <summary>The signature <paramref name="declaration"/> was added with.</summary>
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
    public bool TryGetHandle(string name, out SymbolHandle symbol)
    {
        bool found = _symbolByName.TryGetValue(name, out int index);
        symbol = found ? new SymbolHandle(this, index) : default;
        return found;
    }

    /// <summary>What the symbol named <paramref name="name"/> is (kind and, for functions, signature): the builder is
    /// the scope codegen compiles against while a module is being built.</summary>
    public bool TryGetSymbol(string name, out SymbolInfo symbol)
    {
        if (!_symbolByName.TryGetValue(name, out int index))
        {
            symbol = default;
            return false;
        }
        SymbolEntry s = _symbols[index];
        symbol = new SymbolInfo(s.Kind, s.Declaration >= 0 ? _declarations[s.Declaration] : null);
        return true;
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

    /// <summary>Declares a function of <paramref name="body"/>'s signature and defines it in one step.</summary>
    public SymbolHandle AddFunction(string name, FunctionBody body, Linkage linkage = Linkage.Export)
    {
        ArgumentNullException.ThrowIfNull(body);
        SymbolHandle handle = DeclareFunction(name, AddDeclaration(body.Signature), linkage);
        try
        {
            DefineFunction(handle, body);
        }
        catch
        {
            RemoveLastSymbol(handle);
            throw;
        }
        return handle;
    }

    /// <summary>
    /// Gives a declared function its body. The body's signature must be the one the function was declared with; its
    /// relocations and dependencies must name symbols of this builder (declared before, or the function itself) of
    /// kinds they may reach (<see cref="RelocationRules.CheckTargets"/>). A relocation whose expected signature hash
    /// is null records the target's declaration here.
    /// </summary>
    public void DefineFunction(SymbolHandle function, FunctionBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        SymbolEntry entry = GetSymbol(function);
        if (entry.Kind != SymbolKind.Function)
            throw new ArgumentException($"'{entry.Name}' is a {entry.Kind}, not a function", nameof(function));
        if (entry.IsDefined)
            throw new InvalidOperationException($"function '{entry.Name}' is already defined");
        Signature declared = _declarations[entry.Declaration];
        if (!declared.Equals(body.Signature))
            throw new ArgumentException($"function '{entry.Name}' is declared {declared}, but the body is {body.Signature}", nameof(body));
        ResolvedRelocation[] relocations = Resolve(entry.Name, body.Relocations.AsSpan());
        DependencyEntry[] dependencies = ResolveDependencies(entry.Name, body.Dependencies.AsSpan());
        entry.Relocations = relocations;
        entry.Dependencies = dependencies;
        entry.Bytes = body.Code;
        entry.Alignment = body.Alignment;
        entry.ContentHash = body.ContentHash;
        entry.CpuFeatures = body.RequiredCpuFeatures;
        entry.Unwind = body.Unwind;
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

    /// <summary>Gives a declared read-only or writable data object its initial bytes and relocations (e.g. a table
    /// of function addresses: Absolute64 relocations to functions).</summary>
    public void DefineData(SymbolHandle data, ReadOnlySpan<byte> bytes, IEnumerable<Relocation>? relocations = null,
        ContentHash contentHash = default)
    {
        SymbolEntry entry = GetDataForDefinition(data);
        if (entry.DataKind == DataKind.ZeroFilled)
            throw new InvalidOperationException($"data object '{entry.Name}' is zero-filled: define it with {nameof(DefineZeroFilled)}");
        if (bytes.IsEmpty)
            throw new ArgumentException($"data object '{entry.Name}' has no bytes [DAT-2]", nameof(bytes));
        if (bytes.Length > FormatConstants.MaxFileSize / 2)
            throw new ArgumentException($"data object '{entry.Name}' is {bytes.Length} bytes, too large for one file [LIM-2]", nameof(bytes));
        System.Collections.Immutable.ImmutableArray<Relocation> sorted;
        try
        {
            sorted = FunctionBody.Sorted(relocations, bytes.Length);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"data object '{entry.Name}': {e.Message}", nameof(relocations), e);
        }
        entry.Relocations = Resolve(entry.Name, sorted.AsSpan());
        entry.Bytes = [.. bytes];
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
        return new SymbolHandle(this, _symbols.Count - 1);
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
        if (handle.Builder != this || (uint)handle.Index >= (uint)_symbols.Count)
            throw new ArgumentException(handle.Builder is null ? "a default SymbolHandle stands for no symbol"
                : $"symbol handle '{handle.Builder.GetSymbolName(handle)}' belongs to another builder", nameof(handle));
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
        if (declaration.Builder != this || (uint)declaration.Index >= (uint)_declarations.Count)
            throw new ArgumentException(declaration.Builder is null ? "a default DeclarationHandle stands for no declaration"
                : $"declaration handle {declaration} belongs to another builder", nameof(declaration));
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

    /// <summary>Checks an owner's relocations against this builder's symbols (<see cref="RelocationRules.CheckTargets"/>)
    /// and resolves their targets to symbol indexes, so that laying out needs no name lookups.</summary>
    private ResolvedRelocation[] Resolve(string owner, ReadOnlySpan<Relocation> relocations)
    {
        var resolved = new ResolvedRelocation[relocations.Length];
        for (int i = 0; i < relocations.Length; i++)
        {
            ref readonly Relocation r = ref relocations[i];
            bool found = _symbolByName.TryGetValue(r.Target, out int target); // one lookup: the rules get the kind it found
            if (RelocationRules.CheckTarget(r, i, found ? _symbols[target].Kind : null) is { } problem)
                throw new ArgumentException($"'{owner}': {problem}", "relocations");
            resolved[i] = new ResolvedRelocation(r.Offset, r.Kind, target, r.Addend, r.ExpectedSignatureHash);
        }
        return resolved;
    }

    /// <summary>Resolves a body's content dependencies: each names a function or data object of this builder once [DEP-1].</summary>
    private DependencyEntry[] ResolveDependencies(string owner, ReadOnlySpan<Dependency> dependencies)
    {
        var resolved = new DependencyEntry[dependencies.Length];
        var seen = new HashSet<int>();
        for (int i = 0; i < dependencies.Length; i++)
        {
            Dependency d = dependencies[i];
            if (!_symbolByName.TryGetValue(d.Target, out int target))
                throw new ArgumentException($"'{owner}' depends on '{d.Target}', which is not a symbol of this builder [DEP-1]", "dependencies");
            SymbolEntry t = _symbols[target];
            DependencyKind kind = DependencyRules.KindFor(t.Kind);
            if (kind == 0)
                throw new ArgumentException($"'{owner}' depends on '{t.Name}', a {t.Kind}; dependencies name defined functions or data objects [DEP-1]", "dependencies");
            if (!seen.Add(target))
                throw new ArgumentException($"'{owner}' depends on '{t.Name}' twice [DEP-1]", "dependencies");
            resolved[i] = new DependencyEntry(target, kind, d.ExpectedContentHash);
        }
        return resolved;
    }

    private sealed class SymbolEntry(string name, SymbolKind kind, Linkage linkage, int declaration)
    {
        public string Name { get; } = name;
        public SymbolKind Kind { get; } = kind;
        public Linkage Linkage { get; } = linkage;
        public int Declaration { get; } = declaration;
        public bool IsDefined { get; set; }
        public System.Collections.Immutable.ImmutableArray<byte> Bytes { get; set; } = [];
        public ResolvedRelocation[] Relocations { get; set; } = [];
        public DependencyEntry[] Dependencies { get; set; } = [];
        public int Alignment { get; set; } = 1;
        public int Size { get; set; }
        public DataKind DataKind { get; init; }
        public ContentHash ContentHash { get; set; }
        public CpuFeatures CpuFeatures { get; set; }
        public UnwindInfo? Unwind { get; set; }
    }

    private sealed record FingerprintEntry(string Key, FingerprintValueKind Kind, MatchRule Match, ulong Value, string? Text);

    /// <summary>A relocation with its target resolved to the builder's symbol index.</summary>
    private readonly record struct ResolvedRelocation(int Offset, RelocationKind Kind, int Target, long Addend, ulong? ExpectedSignatureHash);

    private readonly record struct DependencyEntry(int Target, DependencyKind Kind, ContentHash Expected);
}
