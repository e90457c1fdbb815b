using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.Memory;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Loading;

public class LoaderTests
{
    private static readonly Signature NoneToI64 = Signature.SysV([], [ScalarType.I64]);
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private static readonly byte[] Return7 = [0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3];               // mov eax, 7; ret
    private static readonly byte[] CallThenAdd1 = [0x48, 0x83, 0xEC, 0x08, 0xE8, 0, 0, 0, 0, 0x48, 0x83, 0xC4, 0x08, 0x48, 0xFF, 0xC0, 0xC3];
    // sub rsp, 8; call <field at 5>; add rsp, 8; inc rax; ret

    /// <summary>leaf() = 7 (needs <paramref name="leafFeatures"/>); caller() = leaf() + 1, recorded against
    /// <paramref name="callerExpects"/>; other() = 7 with no relation to either.</summary>
    private static byte[] Module(CpuFeatures leafFeatures = CpuFeatures.None, Signature? callerExpects = null, Action<CacheBuilder>? extra = null)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "loader-tests" };
        var sig = b.AddDeclaration(NoneToI64);
        var leaf = b.AddFunction("leaf", new FunctionBody(Return7, sig.Signature) { RequiredCpuFeatures = leafFeatures });
        b.AddFunction("caller", new FunctionBody(CallThenAdd1, sig.Signature, [new Relocation(5, RelocationKind.FunctionPcRel32, leaf.Name, -4, callerExpects?.Hash)]));
        b.AddFunction("other", new FunctionBody(Return7, sig.Signature));
        extra?.Invoke(b);
        return b.ToArray();
    }

    private static HostEnvironment HostWith(CpuFeatures features) => HostEnvironment.Current with { CpuFeatures = features };

    [Fact]
    public void LOAD_4_no_page_of_a_loaded_module_is_writable_and_executable()
    {
        byte[] file = Module(extra: b =>
        {
            b.AddData("ro", DataKind.ReadOnly, new byte[5000]);
            b.AddData("rw", DataKind.Writable, new byte[100]);
            b.AddData("zf", DataKind.ZeroFilled, new byte[9000]);
        });
        using var image = CacheImage.Read(file);
        using var module = LoadedModule.Load(image);
        var maps = ProcessMaps.Overlapping(module.Region.Address, module.Region.Size);
        Assert.NotEmpty(maps);
        Assert.DoesNotContain(maps, m => m.Writable && m.Executable);
        foreach (var (start, length, protection) in module.Segments)
        {
            foreach (var m in ProcessMaps.Overlapping(start, length))
            {
                string expected = protection switch { PageProtection.ReadExecute => "r-x", PageProtection.ReadOnly => "r--", _ => "rw-" };
                Assert.Equal(expected, m.Permissions[..3]);
            }
        }
        // Read-only data and slots, writable data and zero-fill, code (no import thunks: no imports), and the read-only
        // page holding the refused-call handler's address.
        Assert.Equal([PageProtection.ReadOnly, PageProtection.ReadWrite, PageProtection.ReadExecute, PageProtection.ReadOnly],
            module.Segments.Select(s => s.Protection));
        Assert.Equal(8, module.Invoke("caller").AsI64);
    }

    [Fact]
    public void Data_objects_hold_their_bytes_and_alignment_and_zero_fill_is_zero()
    {
        byte[] file = Module(extra: b =>
        {
            b.AddData("ro", DataKind.ReadOnly, [1, 2, 3], alignment: 64);
            b.AddData("rw", DataKind.Writable, [9, 8, 7, 6], alignment: 4096);
            b.AddData("zf", DataKind.ZeroFilled, new byte[300], alignment: 256);
        });
        using var image = CacheImage.Read(file);
        using var module = LoadedModule.Load(image);
        nint ro = module.GetSymbolAddress("ro"), rw = module.GetSymbolAddress("rw"), zf = module.GetSymbolAddress("zf");
        Assert.Equal(0, ro % 64);
        Assert.Equal(0, rw % 4096);
        Assert.Equal(0, zf % 256);
        Assert.Equal(0x030201, RegionAccess.ReadInt64(ro) & 0xFFFFFF);
        Assert.Equal(0x06070809, RegionAccess.ReadInt64(rw) & 0xFFFFFFFF);
        Assert.Equal(0, RegionAccess.ReadInt64(zf));
    }

    [Fact]
    public void LOAD_3_a_function_needing_missing_CPU_features_is_refused_alone_and_named()
    {
        using var image = CacheImage.Read(Module(leafFeatures: CpuFeatures.Avx2 | CpuFeatures.Avx512F));
        using var module = LoadedModule.Load(image, new LoadOptions { Host = HostWith(CpuFeatures.Sse3 | CpuFeatures.Avx2) });
        RefusedFunction refused = Assert.Single(module.RefusedFunctions);
        Assert.Equal("leaf", refused.Name);
        Assert.Equal(ErrorCode.MissingCpuFeatures, refused.Reason);
        Assert.Contains("Avx512F", refused.Detail);
        Assert.DoesNotContain("Avx2", refused.Detail);
        // The rest loads and runs.
        Assert.Equal(7, module.Invoke("other").AsI64);
        // Calling the refused function is refused, directly or through a caller, with a clear error.
        var direct = Assert.Throws<AotCacheException>(() => module.Invoke("leaf"));
        Assert.Equal(ErrorCode.MissingCpuFeatures, direct.Code);
        var indirect = Assert.Throws<AotCacheException>(() => module.Invoke("caller"));
        Assert.Equal(ErrorCode.MissingCpuFeatures, indirect.Code);
        Assert.Contains("refused function 'leaf'", indirect.Message);
        // And the module stays usable after the refusal.
        Assert.Equal(7, module.Invoke("other").AsI64);
    }

    [Fact]
    public void LOAD_3_a_host_lacking_a_file_level_feature_refuses_the_file()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { RequiredCpuFeatures = CpuFeatures.Avx512BW };
        b.AddFunction("f", new FunctionBody(Return7, b.AddDeclaration(NoneToI64).Signature));
        using var image = CacheImage.Read(b.ToArray());
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { Host = HostWith(CpuFeatures.Avx2) }));
        Assert.Equal(ErrorCode.MissingCpuFeatures, e.Code);
        Assert.Contains("Avx512BW", e.Message);
        Assert.Equal(48, e.Offset);
    }

    [Fact]
    public void LOAD_5_strict_mode_refuses_a_file_with_a_stale_caller_and_names_both_signatures()
    {
        using var image = CacheImage.Read(Module(callerExpects: I64ToI64));
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        Assert.Contains("caller refers to leaf", e.Message);
        Assert.Contains("is now sysv () -> i64", e.Message);
        Assert.Contains("the signature with hash 0x" + I64ToI64.Hash.ToString("x16"), e.Message);
    }

    [Fact]
    public void LOAD_5_lenient_mode_loads_the_rest_and_a_stale_function_never_runs()
    {
        using var image = CacheImage.Read(Module(callerExpects: I64ToI64));
        using var module = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient });
        RefusedFunction refused = Assert.Single(module.RefusedFunctions);
        Assert.Equal("caller", refused.Name);
        Assert.Equal(ErrorCode.StaleCaller, refused.Reason);
        Assert.Equal(7, module.Invoke("leaf").AsI64);
        var e = Assert.Throws<AotCacheException>(() => module.Invoke("caller"));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
    }

    [Fact]
    public void LOAD_5_lenient_mode_calls_the_host_back_on_the_first_call_to_a_stale_function()
    {
        // outer() = caller() + 1, and caller is stale.
        using var image = CacheImage.Read(Module(callerExpects: I64ToI64, extra: b =>
        {
            Assert.True(b.TryGetHandle("caller", out SymbolHandle caller));
            b.AddFunction("outer", new FunctionBody(CallThenAdd1, b.AddDeclaration(NoneToI64).Signature, [new Relocation(5, RelocationKind.FunctionPcRel32, caller.Name, -4)]));
        }));
        var reported = new List<RefusedFunction>();
        using var module = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient, OnRefusedCall = reported.Add });
        var e = Assert.Throws<AotCacheException>(() => module.Invoke("outer"));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        Assert.Contains("refused function 'caller'", e.Message);
        RefusedFunction r = Assert.Single(reported);
        Assert.Equal("caller", r.Name);
        Assert.Contains("caller refers to leaf", r.Detail);
        // The next call is a fresh one: reported again, and other functions still work.
        Assert.Throws<AotCacheException>(() => module.Invoke("outer"));
        Assert.Equal(2, reported.Count);
        Assert.Equal(7, module.Invoke("leaf").AsI64);
    }

    [Fact]
    public void DEP_2_content_dependencies_make_a_file_stale_transitively_at_load()
    {
        // middle inlined leaf as it was (content 1); top inlined middle. leaf's content is now 2.
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(NoneToI64);
        var leaf = b.AddFunction("leaf", new FunctionBody(Return7, sig.Signature) { ContentHash = new ContentHash(2, 0) });
        var middle = b.AddFunction("middle", new FunctionBody(Return7, sig.Signature, dependencies: [new Dependency(leaf.Name, new ContentHash(1, 0))]) { ContentHash = new ContentHash(10, 0) });
        b.AddFunction("top", new FunctionBody(Return7, sig.Signature, dependencies: [new Dependency(middle.Name, new ContentHash(10, 0))]) { ContentHash = new ContentHash(20, 0) });
        b.AddFunction("fine", new FunctionBody(Return7, sig.Signature));
        using var image = CacheImage.Read(b.ToArray());

        var stale = StaleAnalysis.Find(image);
        Assert.Equal([StaleKind.Content, StaleKind.TransitiveContent], stale.Select(s => s.Kind));
        Assert.Contains("middle depends on the content of leaf", StaleAnalysis.Describe(image, stale[0]));
        Assert.Contains("top depends on the content of middle, which is stale itself", StaleAnalysis.Describe(image, stale[1]));

        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        using var lenient = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient });
        Assert.Equal(["middle", "top"], lenient.RefusedFunctions.Select(r => r.Name).Order());
        Assert.Equal(7, lenient.Invoke("fine").AsI64);
        Assert.Equal(7, lenient.Invoke("leaf").AsI64);
    }

    [Fact]
    public void DEP_2_a_function_stale_by_signature_makes_its_content_dependents_stale()
    {
        // sq changed its signature: cube (calls sq) is stale by signature; entry inlined cube, so it is stale too.
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(NoneToI64);
        var sq = b.AddFunction("sq", new FunctionBody(Return7, sig.Signature) { ContentHash = new ContentHash(1, 0) });
        var cube = b.AddFunction("cube", new FunctionBody(CallThenAdd1, sig.Signature, [new Relocation(5, RelocationKind.FunctionPcRel32, sq.Name, -4, I64ToI64.Hash)])
        { ContentHash = new ContentHash(10, 0) });
        b.AddFunction("entry", new FunctionBody(Return7, sig.Signature, dependencies: [new Dependency(cube.Name, new ContentHash(10, 0))]) { ContentHash = new ContentHash(20, 0) });
        b.AddFunction("fine", new FunctionBody(Return7, sig.Signature, dependencies: [new Dependency(sq.Name, new ContentHash(1, 0))]));
        using var image = CacheImage.Read(b.ToArray());

        var stale = StaleAnalysis.Find(image);
        Assert.Equal([StaleKind.Signature, StaleKind.TransitiveContent], stale.Select(s => s.Kind));
        Assert.Contains("entry depends on the content of cube, which is stale itself", StaleAnalysis.Describe(image, stale[1]));
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        using var lenient = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient });
        Assert.Equal(["cube", "entry"], lenient.RefusedFunctions.Select(r => r.Name).Order());
        Assert.Equal(7, lenient.Invoke("fine").AsI64);
        Assert.Equal(ErrorCode.StaleCaller, Assert.Throws<AotCacheException>(() => lenient.Invoke("entry")).Code);
    }

    [Fact]
    public void LOAD_5_a_stale_function_pointer_in_data_fails_the_load_even_in_lenient_mode_at_its_relocation()
    {
        byte[] file = Module(extra: b =>
        {
            Assert.True(b.TryGetHandle("leaf", out SymbolHandle leaf));
            b.AddData("table", DataKind.ReadOnly, new byte[8], relocations: [new Relocation(0, RelocationKind.Absolute64, leaf.Name, 0, I64ToI64.Hash)]);
        });
        using var image = CacheImage.Read(file);
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient }));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        // The data object's relocation is the last of the table (functions' ranges come first) [REL-2].
        Assert.Equal(image.SectionOffset(SectionKind.Relocations) + (image.Relocations.Length - 1) * RelocationRecord.RecordSize, e.Offset);
        Assert.Contains("table refers to leaf", e.Message);
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void FUN_3_DAT_5_every_function_and_data_object_lands_on_a_multiple_of_its_alignment(LinkMode mode)
    {
        // Alignments up to a page, at offsets that are not page multiples in the file's own sections: read-only
        // objects after a 3-byte one, writable objects starting mid-page, zero-filled ones after a small one.
        var objects = new (string Name, DataKind Kind, int Size, int Alignment)[]
        {
            ("ro_small", DataKind.ReadOnly, 3, 1), ("ro_16", DataKind.ReadOnly, 24, 16), ("ro_page", DataKind.ReadOnly, 10, 4096),
            ("rw_small", DataKind.Writable, 5, 1), ("rw_64", DataKind.Writable, 70, 64), ("rw_page", DataKind.Writable, 8, 4096),
            ("zf_small", DataKind.ZeroFilled, 7, 1), ("zf_256", DataKind.ZeroFilled, 300, 256), ("zf_page", DataKind.ZeroFilled, 9, 4096),
        };
        byte[] file = Module(extra: b =>
        {
            var sig = b.AddDeclaration(NoneToI64);
            b.AddFunction("aligned_64", new FunctionBody(Return7, sig.Signature) { Alignment = 64 });
            b.AddFunction("aligned_page", new FunctionBody(Return7, sig.Signature) { Alignment = 4096 });
            foreach (var (name, kind, size, alignment) in objects)
                b.AddData(name, kind, Enumerable.Range(1, size).Select(i => kind == DataKind.ZeroFilled ? (byte)0 : (byte)(i + name.Length)).ToArray(), alignment);
        });
        using var image = CacheImage.Read(file);
        using var module = LoadedModule.Load(image, new LoadOptions { LinkMode = mode });
        foreach (var (name, kind, size, alignment) in objects)
        {
            nint address = module.GetSymbolAddress(name);
            Assert.True(address % alignment == 0, $"{name} at 0x{address:x} is not a multiple of {alignment} [DAT-5]");
            byte[] bytes = new byte[size];
            System.Runtime.InteropServices.Marshal.Copy(address, bytes, 0, size);
            Assert.Equal(Enumerable.Range(1, size).Select(i => kind == DataKind.ZeroFilled ? (byte)0 : (byte)(i + name.Length)), bytes);
        }
        foreach (var (name, alignment) in new[] { ("aligned_64", 64), ("aligned_page", 4096) })
        {
            using (module.EnterCode())
            {
                nint address = module.GetSymbolAddress(name);
                // A hot-swappable module's symbol address is the entry thunk; the body is where the file's code went.
                nint body = mode == LinkMode.Direct ? address : module.Region.Address + (nint)image.CanonicalLayout.CodeOffset
                    + (nint)image.Functions[(int)image.Symbols[image.FindSymbol(name)].Definition].CodeOffset;
                Assert.True(body % alignment == 0, $"{name} at 0x{body:x} is not a multiple of {alignment} [FUN-3]");
            }
            Assert.Equal(7, module.Invoke(name).AsI64);
        }
    }

    [Fact]
    public void LOAD_1_a_file_for_another_target_is_refused_naming_both()
    {
        using var image = CacheImage.Read(Module());
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { Host = HostEnvironment.Current with { Os = TargetOs.Windows, Abi = Abi.Win64 } }));
        Assert.Equal(ErrorCode.TargetMismatch, e.Code);
        Assert.Contains("the file is for X86_64 SysVAmd64 Linux; this host is X86_64 Win64 Windows", e.Message);
    }

    [Fact]
    public void LOAD_6_an_unsupported_platform_gets_a_clear_error()
    {
        var e = Assert.Throws<AotCacheException>(() => LinuxMemory.CheckPlatform(false, System.Runtime.InteropServices.Architecture.Arm64, "Darwin 23"));
        Assert.Equal(ErrorCode.UnsupportedPlatform, e.Code);
        Assert.Contains("Linux x86-64 only; this host is Darwin 23 Arm64", e.Message);
    }

    [Fact]
    public void LOAD_2_fingerprint_components_are_compared_by_their_match_rule()
    {
        byte[] file = Module(extra: b =>
        {
            b.AddFingerprint("compiler.version", "1.4");
            b.AddFingerprintFeatures("isa", 0b011);
            b.AddFingerprint("built.by", "ci", MatchRule.Informational);
        });
        using var image = CacheImage.Read(file);
        LoadOptions With(params (string Key, FingerprintValue Value)[] values) =>
            new() { Host = HostEnvironment.Current with { Fingerprint = values.ToDictionary(v => v.Key, v => v.Value) } };

        using (LoadedModule.Load(image, With(("compiler.version", FingerprintValue.String("1.4")), ("isa", FingerprintValue.Features(0b111))))) { }
        var missing = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, With(("isa", FingerprintValue.Features(0b111)))));
        Assert.Equal(ErrorCode.FingerprintMismatch, missing.Code);
        Assert.Contains("compiler.version: the file requires \"1.4\" (Equal) and the host provides no value", missing.Message);
        var different = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, With(("compiler.version", FingerprintValue.String("1.5")), ("isa", FingerprintValue.Features(0b111)))));
        Assert.Contains("compiler.version: the file has \"1.4\", the host \"1.5\"", different.Message);
        var subset = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, With(("compiler.version", FingerprintValue.String("1.4")), ("isa", FingerprintValue.Features(0b001)))));
        Assert.Contains("isa: the file has 0x3, the host 0x1 (Superset)", subset.Message);
        Assert.DoesNotContain("built.by", subset.Message);
    }

    [Fact]
    public void REL_9_a_displacement_that_does_not_fit_32_bits_fails_the_load_instead_of_truncating()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(NoneToI64);
        var leaf = b.AddFunction("leaf", new FunctionBody(Return7, sig.Signature));
        b.AddFunction("far", new FunctionBody(CallThenAdd1, sig.Signature, [new Relocation(5, RelocationKind.FunctionPcRel32, leaf.Name, int.MinValue)]));
        using var image = CacheImage.Read(b.ToArray());
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image));
        Assert.Equal(ErrorCode.RelocationOverflow, e.Code);
        Assert.Equal(image.SectionOffset(SectionKind.Relocations), e.Offset);
        Assert.Contains("'far'", e.Message);
        Assert.Contains("does not fit 32 bits", e.Message);
    }

    [Fact]
    public void Use_after_dispose_is_a_clear_error()
    {
        using var image = CacheImage.Read(Module());
        var module = LoadedModule.Load(image);
        Assert.Equal(7, module.Invoke("other").AsI64);
        module.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => module.Invoke("other"));
        Assert.Contains("unloaded", e.Message);
        module.Dispose(); // idempotent
    }

    [Fact]
    public void The_mapping_is_gone_after_dispose()
    {
        using var image = CacheImage.Read(Module());
        var module = LoadedModule.Load(image);
        MemoryRegion region = module.Region;
        Assert.NotEmpty(ProcessMaps.Overlapping(region.Address, region.Size));
        module.Dispose();
        Assert.Empty(ProcessMaps.Overlapping(region.Address, region.Size));
    }

    [Fact]
    public void Calls_are_checked_against_the_declaration()
    {
        using var image = CacheImage.Read(Module());
        using var module = LoadedModule.Load(image);
        Assert.Throws<ArgumentException>(() => module.Invoke("other", Value.I64(1)));
        Assert.Throws<InvalidOperationException>(() => module.GetFunctionPointer("other", I64ToI64));
        Assert.NotEqual(0, module.GetFunctionPointer("other", NoneToI64));
        Assert.Throws<KeyNotFoundException>(() => module.Invoke("missing"));
    }

    [Fact]
    public unsafe void A_typed_function_pointer_calls_straight_into_the_code()
    {
        using var image = CacheImage.Read(Module());
        using var module = LoadedModule.Load(image);
        var caller = (delegate* unmanaged<long>)module.GetFunctionPointer("caller", NoneToI64);
        Assert.Equal(8, caller());
    }

    [Fact]
    public void LoadFile_maps_the_file_and_owns_it()
    {
        string path = Path.Combine(Path.GetTempPath(), $"aotc-{Guid.NewGuid():N}.aotc");
        File.WriteAllBytes(path, Module());
        try
        {
            using (var module = LoadedModule.LoadFile(path))
                Assert.Equal(8, module.Invoke("caller").AsI64);
            File.Delete(path); // no handle is left open
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }
}
