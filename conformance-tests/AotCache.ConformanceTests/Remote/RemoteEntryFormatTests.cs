using System.Buffers.Binary;
using AotCache.Codegen.Ir;
using AotCache.ConformanceTests.Spec;
using AotCache.Demo.Build;
using AotCache.Demo.Language;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Entries without a server (REMOTE.md §4, §6): what the writer puts in one, that reading one back gives the compiled
/// body exactly, and every way an entry can be refused — not a valid file, unsigned or wrongly signed, another key's,
/// another target's or compiler's, not the shape of an entry, or not fitting the program.
/// </summary>
public sealed class RemoteEntryFormatTests
{
    private static readonly byte[] TeamSecret = [.. Enumerable.Range(7, 32).Select(i => (byte)i)];
    private static readonly RemoteFingerprint Fingerprint = RemoteFingerprint.Of([FingerprintSetting.OfString("compiler", "test 1")]);
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private static readonly ContentHash Hash = new(0x1111, 0x2222);

    private static RemoteEntryFormat Format(SigningKey? key = null, SignaturePolicy? policy = null, TargetDescription? target = null,
        RemoteFingerprint? fingerprint = null) =>
        new(target ?? TargetDescription.LinuxX64, fingerprint ?? Fingerprint, "tests", key, policy);

    private static SignaturePolicy Team => new() { TrustedKeys = [VerificationKey.Hmac("team", TeamSecret)] };

    /// <summary>What g is compiled against: a callee h, an import tick, a global counter, and g itself.</summary>
    private static SymbolScope Scope() => new SymbolScope()
        .Add("g", SymbolKind.Function, I64ToI64)
        .Add("h", SymbolKind.Function, I64ToI64)
        .Add("tick", SymbolKind.ImportFunction, I64ToI64)
        .Add("counter", SymbolKind.Data)
        .Add("unused", SymbolKind.Function, I64ToI64);

    /// <summary>g: <c>call h; call tick; mov rax, [rip+counter]; call g; ret</c>, with the signature hashes it was compiled against.</summary>
    private static FunctionBody G(ContentHash? hash = null, CpuFeatures features = CpuFeatures.None) =>
        new FunctionBody([0xE8, 0, 0, 0, 0, 0xE8, 0, 0, 0, 0, 0x48, 0x8B, 0x05, 0, 0, 0, 0, 0xE8, 0, 0, 0, 0, 0xC3], I64ToI64,
        [
            new Relocation(1, RelocationKind.FunctionPcRel32, "h", -4, I64ToI64.Hash),
            new Relocation(6, RelocationKind.ThunkPcRel32, "tick", -4, I64ToI64.Hash),
            new Relocation(13, RelocationKind.DataPcRel32, "counter", -4, 0),
            new Relocation(18, RelocationKind.FunctionPcRel32, "g", -4, I64ToI64.Hash),
        ])
        {
            ContentHash = hash ?? Hash,
            RequiredCpuFeatures = features,
        };

    private static RemoteKey KeyOf(FunctionBody body, RemoteEntryFormat? format = null) => (format ?? Format()).KeyOf(body);

    /// <summary>What can be changed in a hand-made entry; the defaults give the entry REMOTE.md §4.1 describes.</summary>
    private sealed record Forgery
    {
        public FunctionBody Body { get; init; } = G();
        public byte[] PlaceholderCode { get; init; } = [0xCC];
        public ContentHash PlaceholderHash { get; init; }
        public Linkage PlaceholderLinkage { get; init; } = Linkage.Local;
        public DataKind DataKind { get; init; } = DataKind.ZeroFilled;
        public bool ExtraSymbol { get; init; }
        public bool PrivateSection { get; init; }
        public Signature PlaceholderSignature { get; init; } = I64ToI64;
        public CpuFeatures HeaderFeatures { get; init; }
        public bool PlaceholderDependency { get; init; }
        public UnwindInfo? PlaceholderUnwind { get; init; }
    }

    /// <summary>An entry made with the builder alone, from REMOTE.md §4.1's table: g first, then the names it refers to
    /// in name order (the order the writer uses, so the default forgery is byte for byte the writer's entry).</summary>
    private static byte[] Forge(Forgery f, SigningKey? key = null)
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64)
        {
            Producer = "tests",
            RequiredCpuFeatures = f.HeaderFeatures,
            DeclarationOrder = DeclarationOrder.ByEncoding,
            CodeSectionAlignment = 16,
            Prelink = false,
            SigningKey = key,
        };
        SymbolHandle g = builder.DeclareFunction("g", builder.AddDeclaration(f.Body.Signature), Linkage.Export);
        if (f.DataKind == DataKind.ZeroFilled) builder.DefineZeroFilled(builder.DeclareData("counter", DataKind.ZeroFilled, 1), 1);
        else builder.AddData("counter", f.DataKind, [0], alignment: 1);
        SymbolHandle h = builder.DeclareFunction("h", builder.AddDeclaration(f.PlaceholderSignature), f.PlaceholderLinkage);
        builder.DefineFunction(h, new FunctionBody(f.PlaceholderCode, f.PlaceholderSignature,
            dependencies: f.PlaceholderDependency ? [new Dependency("counter", default)] : null)
        { Alignment = 1, ContentHash = f.PlaceholderHash, Unwind = f.PlaceholderUnwind });
        builder.AddImportFunction("tick", builder.AddDeclaration(I64ToI64));
        if (f.ExtraSymbol) builder.AddImportData("stray");
        builder.DefineFunction(g, f.Body);
        Fingerprint.AddTo(builder);
        if (f.PrivateSection) builder.AddPrivateSection(CacheBuilder.FirstPrivateSectionKind, [1, 2, 3]);
        return builder.ToArray();
    }

    private static EntryRefusal Refusal(byte[] entry, RemoteEntryFormat? format = null, RemoteKey? key = null, ISymbolScope? scope = null,
        string name = "g")
    {
        format ??= Format();
        Assert.False(format.TryRead(entry, key ?? KeyOf(G(), format), name, scope ?? Scope(), out FunctionBody? body, out EntryRefusal? refusal));
        Assert.Null(body);
        return refusal!;
    }

    private static FunctionBody Accepted(byte[] entry, RemoteEntryFormat? format = null, RemoteKey? key = null, ISymbolScope? scope = null)
    {
        format ??= Format();
        Assert.True(format.TryRead(entry, key ?? KeyOf(G(), format), "g", scope ?? Scope(), out FunctionBody? body, out EntryRefusal? refusal),
            refusal?.ToString());
        return body!;
    }

    [Fact]
    [Requirement("RMT-17")]
    public void An_entry_holds_the_function_exported_its_callees_as_placeholders_its_imports_and_the_fingerprint()
    {
        byte[] entry = Format().Write("g", G(), Scope());
        using CacheImage image = CacheImage.Read(entry, ReadOptions.Full);
        Assert.Equal(FormatConstants.MajorVersion, image.Header.MajorVersion);
        Assert.Equal((Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux), (image.Architecture, image.Abi, image.Os));
        Assert.Equal("", image.ModuleName);
        Assert.Equal("tests", image.Producer);
        Assert.Equal(Fingerprint.Hash, RemoteFingerprint.HashOf(image));

        // Symbols in name order: counter (data placeholder), g (the function), h (function placeholder), tick (import).
        // "unused" is in the scope but g does not name it, so the entry does not hold it.
        Assert.Equal(["counter", "g", "h", "tick"], Enumerable.Range(0, image.Symbols.Length).Select(image.SymbolName));
        Assert.Equal([(SymbolKind.Data, Linkage.Local), (SymbolKind.Function, Linkage.Export), (SymbolKind.Function, Linkage.Local),
            (SymbolKind.ImportFunction, Linkage.Import)], image.Symbols.ToArray().Select(s => (s.Kind, s.Linkage)));

        Assert.Equal(2, image.Functions.Length);
        FunctionRecord g = image.Functions[0], h = image.Functions[1];
        Assert.Equal("g", image.SymbolName((int)g.Symbol));
        Assert.Equal(Hash, g.ContentHash);
        Assert.Equal([0xCC], image.FunctionCode(h).ToArray());
        Assert.Equal((1u, 0u, ContentHash.None, CpuFeatures.None), (h.Alignment, h.RelocationCount, h.ContentHash, h.RequiredCpuFeatures));
        Assert.Equal(I64ToI64, image.GetSignature((int)image.Symbols[(int)h.Symbol].Declaration));

        DataObjectRecord counter = Assert.Single(image.DataObjects.ToArray());
        Assert.Equal((DataKind.ZeroFilled, 1u, ContentHash.None), (counter.Kind, counter.Size, counter.ContentHash));
        Assert.Equal(0, image.StaleSignatureReferences);

        // Small: the code section is aligned to 16 bytes, not to a page.
        int code = image.Directory.ToArray().Single(s => s.Kind == (uint)SectionKind.Code).Alignment is var a ? (int)a : 0;
        Assert.Equal(16, code);
        Assert.True(entry.Length < 1024, $"{entry.Length} bytes");

        // REMOTE.md §4.1 alone, through the builder, gives the same bytes.
        Assert.Equal(Forge(new Forgery()), entry);
    }

    [Fact]
    [Requirement("RMT-17")]
    public void Entries_are_deterministic_and_carry_the_CPU_features_and_dependencies_of_the_function()
    {
        SigningKey key = SigningKey.Hmac("team", TeamSecret);
        FunctionBody body = G(features: CpuFeatures.Avx2 | CpuFeatures.Bmi2) with { Dependencies = [new Dependency("h", new ContentHash(5, 6))] };
        byte[] first = Format(key).Write("g", body, Scope());
        Assert.Equal(first, Format(key).Write("g", body, Scope()));
        Assert.NotEqual(first, Format().Write("g", body, Scope()));

        using CacheImage image = CacheImage.Read(first, ReadOptions.Full with { Signatures = Team });
        Assert.Equal(CpuFeatures.Avx2 | CpuFeatures.Bmi2, image.RequiredCpuFeatures);
        Assert.Equal(CpuFeatures.Avx2 | CpuFeatures.Bmi2, image.Functions[0].RequiredCpuFeatures);
        Dependency dependency = Assert.Single(image.DependenciesOf(0));
        Assert.Equal(new Dependency("h", new ContentHash(5, 6)), dependency);

        RemoteEntryFormat reader = Format(key, Team);
        Assert.True(reader.TryRead(first, reader.KeyOf(body), "g", Scope(), out FunctionBody? read, out EntryRefusal? refusal), refusal?.ToString());
        Assert.Equal(body, read);
    }

    [Fact]
    [Requirement("RMT-19")]
    public void A_Nib_function_read_back_is_the_compiled_body_and_defines_the_same_bytes()
    {
        const string text = """
            extern fn tick(x: i64) -> i64;
            var counter: i64 = 0;
            fn helper(x: i64) -> f64 {
                return x as f64;
            }
            fn f(x: i64) -> i64 {
                counter = counter + 1;
                if x <= 0 {
                    return counter;
                }
                let y = helper(tick(x));
                return f(x - 1) + (y as i64);
            }
            fn main() -> i64 {
                return f(3);
            }
            """;
        ProgramAnalysis analysis = ProgramAnalysis.Analyze(new SourceText("p.nib", text), new HostLibrary(TextWriter.Null));
        var checker = new IrChecker(analysis.Module, checkBodies: false);
        AnalyzedFunction f = analysis.Functions.Single(x => x.Name == "f");
        FunctionBody compiled = analysis.Compile(f, checker);
        Assert.Contains(compiled.Relocations, r => r.Target == "f"); // it calls itself
        var format = new RemoteEntryFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(analysis.Codegen), BuildEngine.Producer);
        byte[] entry = format.Write("f", compiled, analysis.Scope);
        Assert.True(format.TryRead(entry, format.KeyOf(compiled), "f", analysis.Scope, out FunctionBody? read, out EntryRefusal? refusal), refusal?.ToString());
        Assert.Equal(compiled, read);
        Assert.Equal(format.KeyOf(f.Key, CpuFeatures.None), format.KeyOf(compiled));

        using CacheImage image = CacheImage.Read(entry);
        Assert.Equal(["counter", "f", "helper", "tick"], Enumerable.Range(0, image.Symbols.Length).Select(image.SymbolName));
    }

    [Fact]
    [Requirement("RMT-8")]
    public void An_entry_that_is_not_a_valid_file_is_refused_section_checksums_included()
    {
        byte[] entry = Format().Write("g", G(), Scope());
        Assert.Equal(EntryProblem.Malformed, Refusal(entry[..(entry.Length / 2)]).Problem);
        Assert.Equal(EntryProblem.Malformed, Refusal([]).Problem);

        byte[] flipped = (byte[])entry.Clone();
        flipped[^5] ^= 0x40;
        Assert.Contains("FileChecksumMismatch", Refusal(flipped).Message, StringComparison.Ordinal);

        // A damaged section under a recomputed file checksum: only the section checksums, which a loader may skip
        // (FORMAT.md §13.2), can see it, and an entry reader checks them.
        byte[] resealed = (byte[])entry.Clone();
        using (CacheImage image = CacheImage.Read(entry))
            resealed[image.SectionOffset(SectionKind.Code) + 1] ^= 0x01;
        BinaryPrimitives.WriteUInt64LittleEndian(resealed.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(resealed));
        Assert.True(CacheImage.TryRead(resealed, out CacheImage? lenient, out _, ReadOptions.Default));
        lenient!.Dispose();
        EntryRefusal refusal = Refusal(resealed);
        Assert.Equal(EntryProblem.Malformed, refusal.Problem);
        Assert.Contains("SectionChecksumMismatch", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Requirement("RMT-20")]
    public void With_trusted_keys_unsigned_and_wrongly_signed_entries_are_refused_and_signed_ones_accepted()
    {
        RemoteEntryFormat reader = Format(SigningKey.Hmac("team", TeamSecret), Team);
        byte[] signed = reader.Write("g", G(), Scope());
        Assert.Equal(G(), Accepted(signed, reader));

        Assert.Equal(EntryProblem.Unsigned, Refusal(Format().Write("g", G(), Scope()), reader).Problem);
        byte[] otherSecret = [.. TeamSecret.Select(b => (byte)(b ^ 0x55))];
        Assert.Equal(EntryProblem.BadSignature, Refusal(Format(SigningKey.Hmac("team", otherSecret)).Write("g", G(), Scope()), reader).Problem);
        Assert.Equal(EntryProblem.BadSignature, Refusal(Format(SigningKey.Hmac("stranger", TeamSecret)).Write("g", G(), Scope()), reader).Problem);

        // Tampered after signing, with every checksum made right again: only the signature notices.
        byte[] tampered = (byte[])signed.Clone();
        using (CacheImage image = CacheImage.Read(signed))
        {
            int code = image.SectionOffset(SectionKind.Code);
            tampered[code + 22] = 0x90; // g's ret becomes a nop
            int entryIndex = image.Directory.ToArray().ToList().FindIndex(s => s.Kind == (uint)SectionKind.Code);
            int size = (int)image.Directory[entryIndex].Size;
            BinaryPrimitives.WriteUInt64LittleEndian(tampered.AsSpan(FormatConstants.DirectoryOffset + entryIndex * SectionEntry.RecordSize + 32),
                Checksums.SectionChecksum(tampered.AsSpan(code, size)));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(tampered.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(tampered));
        Assert.Equal(EntryProblem.BadSignature, Refusal(tampered, reader).Problem);

        // ECDSA: a client that trusts only the public key accepts what the private key signed.
        using var ecdsa = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        byte[] ecdsaSigned = Format(SigningKey.Ecdsa(ecdsa)).Write("g", G(), Scope());
        Assert.Equal(G(), Accepted(ecdsaSigned, Format(policy: new SignaturePolicy { TrustedKeys = [VerificationKey.Ecdsa(ecdsa)] })));
        Assert.Equal(EntryProblem.BadSignature, Refusal(ecdsaSigned, reader).Problem);
    }

    [Fact]
    [Requirement("RMT-9")]
    public void An_entry_for_another_key_target_or_compiler_is_refused()
    {
        byte[] entry = Format().Write("g", G(), Scope());
        Assert.Equal(G(), Accepted(entry));

        // Under another function's key: a valid entry, but not this key's.
        RemoteKey other = KeyOf(G(new ContentHash(0x1111, 0x2223)));
        Assert.Equal(EntryProblem.OtherKey, Refusal(entry, key: other).Problem);
        // The same function compiled with other CPU features has another key.
        Assert.Equal(EntryProblem.OtherKey, Refusal(entry, key: KeyOf(G(features: CpuFeatures.Avx2))).Problem);
        Assert.Equal(EntryProblem.OtherKey, Refusal(Forge(new Forgery { HeaderFeatures = CpuFeatures.Avx })).Problem);

        // Compiled for Windows, served under the Linux key.
        RemoteEntryFormat windows = Format(target: new TargetDescription(Architecture.X86_64, Abi.Win64, TargetOs.Windows));
        EntryRefusal foreign = Refusal(windows.Write("g", G(), Scope()));
        Assert.Equal(EntryProblem.ForeignTarget, foreign.Problem);
        Assert.Contains("Win64", foreign.Message, StringComparison.Ordinal);

        // Compiled by another compiler configuration.
        RemoteEntryFormat otherCompiler = Format(fingerprint: RemoteFingerprint.Of([FingerprintSetting.OfString("compiler", "test 2")]));
        Assert.Equal(EntryProblem.OtherCompiler, Refusal(otherCompiler.Write("g", G(), Scope())).Problem);
        Assert.NotEqual(KeyOf(G()), KeyOf(G(), otherCompiler));
        Assert.NotEqual(KeyOf(G()), KeyOf(G(), windows));
    }

    [Fact]
    [Requirement("RMT-17")]
    [Requirement("UNW-4")]
    public void An_entry_carries_the_unwind_information_of_its_function_and_none_for_placeholders()
    {
        FunctionBody body = G() with { Unwind = new UnwindInfo([CfaInstruction.DefCfaOffset(16, at: 1), CfaInstruction.DefCfaOffset(8, at: 22)]) };
        byte[] entry = Format().Write("g", body, Scope());
        using CacheImage image = CacheImage.Read(entry, ReadOptions.Full);
        Assert.Equal(3, image.Header.MinorVersion); // unwind information makes it a 1.3 file [REC-10]
        Assert.Equal(body.Unwind, image.GetUnwindInfo(0));
        Assert.Equal(-1, image.UnwindEntry(1)); // h, the placeholder
        Assert.Equal(body, Accepted(entry, key: KeyOf(body)));
        Assert.Equal(Forge(new Forgery { Body = body }), entry);
    }

    [Fact]
    [Requirement("RMT-18")]
    public void Anything_but_the_shape_of_an_entry_is_refused()
    {
        Assert.Equal(G(), Accepted(Forge(new Forgery())));
        (Forgery Forgery, string Says)[] cases =
        [
            (new Forgery { PlaceholderLinkage = Linkage.Export }, "exports 2 functions"),
            (new Forgery { PlaceholderCode = [0xC3] }, "'h' is not a placeholder"),
            (new Forgery { PlaceholderCode = [0xCC, 0xCC] }, "'h' is not a placeholder"),
            (new Forgery { PlaceholderHash = new ContentHash(1, 0) }, "'h' is not a placeholder"),
            (new Forgery { PlaceholderDependency = true }, "placeholder 'h' has dependencies"),
            (new Forgery { DataKind = DataKind.Writable }, "'counter' is not a placeholder"),
            (new Forgery { ExtraSymbol = true }, "'stray' is not named"),
            (new Forgery { PrivateSection = true }, "a section of kind"),
            (new Forgery { PlaceholderUnwind = UnwindInfo.Frameless }, "placeholder 'h' has unwind information"),
            // h's placeholder declares another signature than g's call recorded: a stale reference.
            (new Forgery { PlaceholderSignature = Signature.SysV([ScalarType.I64], [ScalarType.F64]) }, "expect another signature"),
        ];
        foreach (var (forgery, says) in cases)
        {
            EntryRefusal refusal = Refusal(Forge(forgery));
            Assert.True(refusal.Problem == EntryProblem.Shape && refusal.Message.Contains(says, StringComparison.Ordinal), $"{forgery}: {refusal}");
        }

        // An exported data object instead of a second function.
        var builder = new CacheBuilder(TargetDescription.LinuxX64);
        builder.AddFunction("g", new FunctionBody([0xC3], I64ToI64) { ContentHash = Hash });
        builder.AddData("table", DataKind.ReadOnly, [1], linkage: Linkage.Export);
        Fingerprint.AddTo(builder);
        Assert.Contains("exported Data", Refusal(builder.ToArray()).Message, StringComparison.Ordinal);
    }

    [Fact]
    [Requirement("RMT-19")]
    public void An_entry_that_does_not_fit_the_program_is_refused()
    {
        byte[] entry = Format().Write("g", G(), Scope());
        SymbolScope Without(string name)
        {
            var scope = new SymbolScope();
            foreach (var (n, k, s) in new (string, SymbolKind, Signature?)[]
                     { ("g", SymbolKind.Function, I64ToI64), ("h", SymbolKind.Function, I64ToI64), ("tick", SymbolKind.ImportFunction, I64ToI64), ("counter", SymbolKind.Data, null) })
                if (n != name) scope.Add(n, k, s);
            return scope;
        }
        Signature other = Signature.SysV([ScalarType.I64], [ScalarType.F64]);
        (ISymbolScope Scope, string Says)[] cases =
        [
            (Without("h"), "refers to 'h', which the program does not have"),
            (Without("counter"), "refers to 'counter'"),
            (Without("g"), "no function 'g'"),
            (Without("").Add("h", SymbolKind.Function, other), "calls 'h' as sysv (i64) -> i64"),
            (Without("").Add("h", SymbolKind.ImportFunction, I64ToI64), "refers to 'h' as a Function, the program has a ImportFunction"),
            (Without("").Add("tick", SymbolKind.Function, I64ToI64), "as a ImportFunction"),
            (Without("").Add("g", SymbolKind.Function, other), "the program declares 'g'"),
        ];
        foreach (var (scope, says) in cases)
        {
            EntryRefusal refusal = Refusal(entry, scope: scope);
            Assert.True(refusal.Problem == EntryProblem.DoesNotFit && refusal.Message.Contains(says, StringComparison.Ordinal), refusal.ToString());
        }
        // Defined under another name, the body still resolves every name it refers to (g calls itself as g).
        Assert.True(Format().TryRead(entry, KeyOf(G()), "g2", Without("").Add("g2", SymbolKind.Function, I64ToI64), out _, out EntryRefusal? fits),
            fits?.ToString());
    }

    [Fact]
    public void Writing_an_entry_needs_a_content_hash_and_every_name_in_the_scope()
    {
        Assert.Contains("no content hash", Assert.Throws<ArgumentException>(() => Format().Write("g", G(ContentHash.None), Scope())).Message,
            StringComparison.Ordinal);
        Assert.Contains("refers to 'counter', which is not a symbol", Assert.Throws<ArgumentException>(() => Format().Write("g", G(), new SymbolScope().Add("tick", SymbolKind.ImportFunction, I64ToI64)))
            .Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Format().KeyOf(G(ContentHash.None)));
    }
}
