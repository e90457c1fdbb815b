using System.Diagnostics.CodeAnalysis;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.Remote;

/// <summary>Why a fetched entry was refused (REMOTE.md §6): what a front end counts and reports.</summary>
public enum EntryProblem
{
    /// <summary>Not a valid AotCache file (FORMAT.md §14): truncated, damaged, tampered with below the signature, …</summary>
    Malformed = 1,
    /// <summary>Unsigned, while the client requires signatures [AUTH-3].</summary>
    Unsigned,
    /// <summary>Signed by a key the client does not trust, or a signature that does not verify [AUTH-2].</summary>
    BadSignature,
    /// <summary>Compiled for another architecture, ABI, OS or format major version [RMT-9].</summary>
    ForeignTarget,
    /// <summary>Compiled by another compiler configuration: its canonical fingerprint is not the key's [RMT-9].</summary>
    OtherCompiler,
    /// <summary>A valid entry of another key: its function's content hash or CPU features are not the key's [RMT-9].</summary>
    OtherKey,
    /// <summary>Not the shape of an entry (REMOTE.md §4) [RMT-18].</summary>
    Shape,
    /// <summary>Names a symbol that the client's program lacks, or has with another kind or signature [RMT-19].</summary>
    DoesNotFit,
}

/// <summary>A refused entry: the problem and a message for people.</summary>
public sealed record EntryRefusal(EntryProblem Problem, string Message)
{
    public override string ToString() => $"{Problem}: {Message}";
}

/// <summary>
/// The remote entries of one client (REMOTE.md §4): one compiled function as a small AotCache file, written from a
/// <see cref="FunctionBody"/> and the scope it was compiled against, and read back into a <see cref="FunctionBody"/>
/// only after full validation, the client's signature policy, the checks that the entry belongs to its key and has the
/// shape of an entry, and the check that it fits the client's program.
/// </summary>
/// <remarks>
/// An entry holds: the function (Export linkage; its content hash is the key's); a placeholder definition for every
/// other function its relocations or dependencies name (Local, one byte <c>CC</c>, no relocations, no content hash,
/// with the declaration the scope gives it); a placeholder for every data object they name (Local, ZeroFilled, one
/// byte); the imports they name, as imports; the function's dependencies; the fingerprint's components. Its bytes are
/// a function of those inputs alone (HMAC signatures are deterministic; ECDSA ones are not).
/// </remarks>
public sealed class RemoteEntryFormat
{
    /// <summary>The one byte of a placeholder function: int3, which traps if it is ever run.</summary>
    public const byte PlaceholderCode = 0xCC;

    /// <summary>Entries are small and never mapped from the file, so their code needs no page alignment.</summary>
    private const int EntryCodeSectionAlignment = 16;

    private readonly ReadOptions _readOptions;

    /// <param name="target">The target every entry is compiled for.</param>
    /// <param name="fingerprint">The compiler configuration every entry carries.</param>
    /// <param name="producer">The header's producer string of written entries (informational).</param>
    /// <param name="signingKey">Signs written entries; null writes them unsigned.</param>
    /// <param name="signatures">What a fetched entry must be signed with; null accepts unsigned entries (the signature of a
    /// signed one is then checked for shape only, FORMAT.md §13.3).</param>
    public RemoteEntryFormat(TargetDescription target, RemoteFingerprint fingerprint, string producer = "", SigningKey? signingKey = null,
        SignaturePolicy? signatures = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentNullException.ThrowIfNull(producer);
        if (!Enum.IsDefined(target.Architecture) || !Enum.IsDefined(target.Abi) || !Enum.IsDefined(target.Os))
            throw new ArgumentException($"unknown target {target}", nameof(target));
        Target = target;
        Fingerprint = fingerprint;
        Producer = producer;
        SigningKey = signingKey;
        Signatures = signatures;
        // Every check of FORMAT.md §14, section checksums included, and the signature policy [RMT-8].
        _readOptions = ReadOptions.Full with { Signatures = signatures };
    }

    public TargetDescription Target { get; }
    public RemoteFingerprint Fingerprint { get; }
    public string Producer { get; }
    public SigningKey? SigningKey { get; }
    public SignaturePolicy? Signatures { get; }

    /// <summary>The key of a compiled function: its content hash and CPU features, this client's target and fingerprint.</summary>
    /// <exception cref="ArgumentException">The body has no content hash: it cannot be shared.</exception>
    public RemoteKey KeyOf(FunctionBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return KeyOf(body.ContentHash, body.RequiredCpuFeatures);
    }

    /// <summary>The key of a function with this content hash and these CPU features.</summary>
    public RemoteKey KeyOf(ContentHash contentHash, CpuFeatures requiredCpuFeatures) =>
        RemoteKey.For(RemoteKeyInputs.Current(contentHash, Fingerprint.Hash, Target.Architecture, Target.Abi, Target.Os, requiredCpuFeatures));

    /// <summary>
    /// Writes the entry of <paramref name="body"/>, named <paramref name="name"/>, compiled against <paramref name="scope"/>
    /// [RMT-17]: every symbol its relocations and dependencies name besides itself is looked up there for its kind and
    /// signature. Deterministic: the same inputs give the same bytes (with an HMAC key or none).
    /// </summary>
    /// <exception cref="ArgumentException">The body has no content hash, or names a symbol the scope lacks or that it
    /// may not reach (a dependency on an import, say).</exception>
    public byte[] Write(string name, FunctionBody body, ISymbolScope scope)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(scope);
        if (body.ContentHash.IsNone)
            throw new ArgumentException($"function '{name}' has no content hash, so it has no remote key [RMT-17]", nameof(body));

        var builder = new CacheBuilder(Target)
        {
            Producer = Producer,
            ModuleName = "",
            RequiredCpuFeatures = body.RequiredCpuFeatures,
            DeclarationOrder = DeclarationOrder.ByEncoding,
            CodeSectionAlignment = EntryCodeSectionAlignment,
            // An entry is never loaded where it is: its body is defined into the receiving build, which places and
            // prelinks it. Its fields stay as the body has them (zero), and the entry is not prelinked: a 1.0/1.1 file, or 1.3
            // when the body carries unwind information (REMOTE.md §4.1).
            Prelink = false,
            SigningKey = SigningKey,
        };
        // The function is declared first, so it is the first function record; the symbols it names follow in name order.
        SymbolHandle function = builder.DeclareFunction(name, builder.AddDeclaration(body.Signature), Linkage.Export);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Relocation r in body.Relocations) names.Add(r.Target);
        foreach (Dependency d in body.Dependencies) names.Add(d.Target);
        names.Remove(name);
        foreach (string other in names)
        {
            if (!scope.TryGetSymbol(other, out SymbolInfo symbol))
                throw new ArgumentException($"function '{name}' refers to '{other}', which is not a symbol of the scope it is written against", nameof(scope));
            switch (symbol.Kind)
            {
                case SymbolKind.Function:
                    SymbolHandle placeholder = builder.DeclareFunction(other, builder.AddDeclaration(symbol.Signature!), Linkage.Local);
                    builder.DefineFunction(placeholder, new FunctionBody([PlaceholderCode], symbol.Signature!) { Alignment = 1 });
                    break;
                case SymbolKind.Data:
                    builder.DefineZeroFilled(builder.DeclareData(other, DataKind.ZeroFilled, alignment: 1, Linkage.Local), 1);
                    break;
                case SymbolKind.ImportFunction:
                    builder.AddImportFunction(other, builder.AddDeclaration(symbol.Signature!));
                    break;
                case SymbolKind.ImportData:
                    builder.AddImportData(other);
                    break;
                default:
                    throw new ArgumentException($"'{other}' is a symbol of unknown kind {symbol.Kind}", nameof(scope));
            }
        }
        builder.DefineFunction(function, body);
        Fingerprint.AddTo(builder);
        return builder.ToArray();
    }

    /// <summary>
    /// Reads a fetched entry for <paramref name="key"/> into the body a client defines under <paramref name="name"/> in
    /// a program whose symbols are <paramref name="scope"/>. Refuses (returns false with the reason) unless the entry is
    /// a valid file under the signature policy [RMT-8], belongs to the key [RMT-9], has the shape of an entry [RMT-18]
    /// and fits the program [RMT-19]. Nothing of a refused entry is returned. Never throws on bad bytes.
    /// </summary>
    public bool TryRead(ReadOnlyMemory<byte> entry, RemoteKey key, string name, ISymbolScope scope,
        [NotNullWhen(true)] out FunctionBody? body, [NotNullWhen(false)] out EntryRefusal? refusal)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(scope);
        body = null;
        if (!CacheImage.TryRead(entry, out CacheImage? image, out AotCacheException? error, _readOptions))
        {
            refusal = new EntryRefusal(error!.Code switch
            {
                ErrorCode.SignatureMissing => EntryProblem.Unsigned,
                ErrorCode.SignatureInvalid => EntryProblem.BadSignature,
                _ => EntryProblem.Malformed,
            }, $"{error.Code}: {error.Message}");
            return false;
        }
        using (image)
        {
            refusal = CheckKey(image!, key.Inputs, out int function) ?? CheckShape(image!, function);
            if (refusal is not null) return false;
            FunctionBody candidate = image!.GetFunctionBody(function);
            refusal = CheckFit(image, function, candidate, name, scope);
            if (refusal is not null) return false;
            body = candidate;
            return true;
        }
    }

    /// <summary>[RMT-9]: the header's target and major version, the canonical fingerprint, and the one exported
    /// function's content hash and CPU features are the key's inputs.</summary>
    private static EntryRefusal? CheckKey(CacheImage image, RemoteKeyInputs key, out int function)
    {
        function = -1;
        if (image.Header.MajorVersion != key.FormatMajor || image.Architecture != key.Architecture || image.Abi != key.Abi || image.Os != key.Os)
            return new EntryRefusal(EntryProblem.ForeignTarget,
                $"the entry is a format {image.Header.MajorVersion} file for {image.Architecture}/{image.Abi}/{image.Os}, " +
                $"the key's is format {key.FormatMajor} for {key.Architecture}/{key.Abi}/{key.Os}");
        ulong fingerprint = RemoteFingerprint.HashOf(image);
        if (fingerprint != key.Fingerprint)
            return new EntryRefusal(EntryProblem.OtherCompiler,
                $"the entry's canonical fingerprint is {fingerprint:x16}, the key's {key.Fingerprint:x16} (another compiler or configuration)");

        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        int exported = 0;
        for (int s = 0; s < symbols.Length; s++)
        {
            if (symbols[s].Linkage != Linkage.Export) continue;
            if (symbols[s].Kind != SymbolKind.Function)
                return new EntryRefusal(EntryProblem.Shape, $"'{image.SymbolName(s)}' is an exported {symbols[s].Kind}: an entry exports one function");
            exported++;
            function = (int)symbols[s].Definition;
        }
        if (exported != 1) return new EntryRefusal(EntryProblem.Shape, $"the entry exports {exported} functions, not one");
        FunctionRecord f = image.Functions[function];
        if (f.ContentHash != key.ContentHash)
            return new EntryRefusal(EntryProblem.OtherKey, $"the function's content hash is {f.ContentHash}, the key's {key.ContentHash}");
        if (f.RequiredCpuFeatures != key.RequiredCpuFeatures || image.RequiredCpuFeatures != key.RequiredCpuFeatures)
            return new EntryRefusal(EntryProblem.OtherKey,
                $"the entry needs CPU features {f.RequiredCpuFeatures} (file: {image.RequiredCpuFeatures}), the key's are {key.RequiredCpuFeatures}");
        return null;
    }

    /// <summary>[RMT-18]: besides the function, only placeholders and imports, each named by the function; no dependencies
    /// but the function's; no section this format version does not define; no stale reference.</summary>
    private static EntryRefusal? CheckShape(CacheImage image, int function)
    {
        foreach (SectionEntry section in image.Directory)
            if (section.Kind is 0 or > (uint)SectionKind.Unwind)
                return new EntryRefusal(EntryProblem.Shape, $"the entry has a section of kind {CacheImage.KindName(section.Kind)}, which an entry may not have");

        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        for (int k = 0; k < functions.Length; k++)
        {
            if (k == function) continue;
            FunctionRecord f = functions[k];
            if (image.UnwindEntry(k) >= 0)
                return new EntryRefusal(EntryProblem.Shape, $"placeholder '{image.SymbolName((int)f.Symbol)}' has unwind information");
            ReadOnlySpan<byte> code = image.FunctionCode(f);
            if (code.Length != 1 || code[0] != PlaceholderCode || f.RelocationCount != 0 || !f.ContentHash.IsNone || f.RequiredCpuFeatures != CpuFeatures.None
                || image.Symbols[(int)f.Symbol].Linkage != Linkage.Local)
                return new EntryRefusal(EntryProblem.Shape, $"function '{image.SymbolName((int)f.Symbol)}' is not a placeholder (Local, one byte CC, no relocations, " +
                    "no content hash, no CPU features)");
        }
        foreach (DataObjectRecord d in image.DataObjects)
            if (d.Kind != DataKind.ZeroFilled || !d.ContentHash.IsNone || image.Symbols[(int)d.Symbol].Linkage != Linkage.Local)
                return new EntryRefusal(EntryProblem.Shape, $"data object '{image.SymbolName((int)d.Symbol)}' is not a placeholder (Local, zero-filled, no content hash)");
        foreach (DependencyRecord d in image.Dependencies)
            if (d.Function != (uint)function)
                return new EntryRefusal(EntryProblem.Shape, $"placeholder '{image.SymbolName((int)functions[(int)d.Function].Symbol)}' has dependencies");
        if (image.StaleSignatureReferences != 0)
            return new EntryRefusal(EntryProblem.Shape, $"{image.StaleSignatureReferences} references expect another signature than their target's declaration");

        // Every symbol but the function is named by it.
        var named = new bool[image.Symbols.Length];
        named[(int)functions[function].Symbol] = true;
        foreach (RelocationRecord r in image.RelocationsOf(functions[function])) named[(int)r.Target] = true;
        foreach (DependencyRecord d in image.Dependencies) named[(int)d.Target] = true;
        int unnamed = Array.IndexOf(named, false);
        if (unnamed >= 0)
            return new EntryRefusal(EntryProblem.Shape, $"symbol '{image.SymbolName(unnamed)}' is not named by the function's relocations or dependencies");
        return null;
    }

    /// <summary>[RMT-19]: the client's program declares the function with the entry's signature, and has every symbol the
    /// entry names with the same kind and, for functions and imported functions, the same signature.</summary>
    private static EntryRefusal? CheckFit(CacheImage image, int function, FunctionBody body, string name, ISymbolScope scope)
    {
        if (!scope.TryGetSymbol(name, out SymbolInfo own) || own.Kind != SymbolKind.Function)
            return new EntryRefusal(EntryProblem.DoesNotFit, $"the program has no function '{name}' to define");
        if (!own.Signature!.Equals(body.Signature))
            return new EntryRefusal(EntryProblem.DoesNotFit, $"the entry's function is {body.Signature}, the program declares '{name}' {own.Signature}");
        // Every name the body refers to, its own included when it refers to itself: that is what the client resolves.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Relocation r in body.Relocations) names.Add(r.Target);
        foreach (Dependency d in body.Dependencies) names.Add(d.Target);
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        foreach (string other in names)
        {
            SymbolRecord symbol = symbols[image.FindSymbol(other)];
            if (!scope.TryGetSymbol(other, out SymbolInfo mine))
                return new EntryRefusal(EntryProblem.DoesNotFit, $"the entry refers to '{other}', which the program does not have");
            if (mine.Kind != symbol.Kind)
                return new EntryRefusal(EntryProblem.DoesNotFit, $"the entry refers to '{other}' as a {symbol.Kind}, the program has a {mine.Kind}");
            if (RelocationRules.IsCallable(symbol.Kind) && !image.GetSignature((int)symbol.Declaration).Equals(mine.Signature))
                return new EntryRefusal(EntryProblem.DoesNotFit,
                    $"the entry calls '{other}' as {image.GetSignature((int)symbol.Declaration)}, the program declares it {mine.Signature}");
        }
        return null;
    }
}
