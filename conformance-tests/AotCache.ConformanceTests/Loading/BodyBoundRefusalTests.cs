using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Loading;

/// <summary>
/// [LOAD-7]: a refused function's body becomes a jump to its refusal stub, so a reference into the middle of it would
/// land inside the loader's stubs. Such referrers are refused too, transitively; data pointing there fails the load.
/// </summary>
public class BodyBoundRefusalTests
{
    private static readonly Signature NoneToI64 = Signature.SysV([], [ScalarType.I64]);
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private static readonly byte[] Return7 = [0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3]; // mov eax, 7; ret

    /// <summary>
    /// leaf (needs AVX-512F) = 7. jumper: nop; jmp leaf+5 (into leaf's ret: addend −4 + 5). jumper2: jmp jumper+1
    /// (past the nop: addend −3). caller: jmp leaf (its entry: addend −4). other = 7.
    /// </summary>
    private static byte[] Module(Action<CacheBuilder>? extra = null)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "body-bound" };
        var sig = b.AddDeclaration(NoneToI64).Signature;
        var leaf = b.AddFunction("leaf", new FunctionBody(Return7, sig) { RequiredCpuFeatures = CpuFeatures.Avx512F });
        var jumper = b.AddFunction("jumper", new FunctionBody([0x90, 0xE9, 0, 0, 0, 0], sig,
            [new Relocation(2, RelocationKind.FunctionPcRel32, leaf.Name, -4 + 5)]));
        b.AddFunction("jumper2", new FunctionBody([0xE9, 0, 0, 0, 0], sig, [new Relocation(1, RelocationKind.FunctionPcRel32, jumper.Name, -4 + 1)]));
        b.AddFunction("caller", new FunctionBody([0xE9, 0, 0, 0, 0], sig, [new Relocation(1, RelocationKind.FunctionPcRel32, leaf.Name, -4, sig.Hash)]));
        b.AddFunction("other", new FunctionBody(Return7, sig));
        extra?.Invoke(b);
        return b.ToArray();
    }

    private static LoadOptions WithoutAvx512(LinkMode mode = LinkMode.Direct) =>
        new() { Host = HostEnvironment.Current with { CpuFeatures = CpuFeatures.None }, LinkMode = mode };

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void LOAD_7_a_function_jumping_into_a_refused_body_is_refused_too_transitively(LinkMode mode)
    {
        using var image = CacheImage.Read(Module());
        using var module = LoadedModule.Load(image, WithoutAvx512(mode));

        Assert.Equal(["jumper", "jumper2", "leaf"], module.RefusedFunctions.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(module.RefusedFunctions, r => Assert.Equal(ErrorCode.MissingCpuFeatures, r.Reason));
        Assert.Contains("jumps into the middle of refused function 'leaf'", module.RefusedFunctions.Single(r => r.Name == "jumper").Detail);
        Assert.Contains("jumps into the middle of refused function 'jumper'", module.RefusedFunctions.Single(r => r.Name == "jumper2").Detail);
        foreach (string name in new[] { "jumper", "jumper2" })
        {
            var e = Assert.Throws<AotCacheException>(() => module.Invoke(name));
            Assert.Equal(ErrorCode.MissingCpuFeatures, e.Code);
        }
        // A call to the refused function's entry reaches its stub, which reports the refusal: the caller stays.
        var call = Assert.Throws<AotCacheException>(() => module.Invoke("caller"));
        Assert.Contains("refused function 'leaf'", call.Message);
        Assert.Equal(7, module.Invoke("other").AsI64);
    }

    [Fact]
    public void LOAD_7_a_host_with_the_features_refuses_nothing()
    {
        using var image = CacheImage.Read(Module());
        using var module = LoadedModule.Load(image, new LoadOptions { Host = HostEnvironment.Current with { CpuFeatures = CpuFeatures.Avx512F } });
        Assert.Empty(module.RefusedFunctions);
    }

    [Fact]
    public void LOAD_7_a_function_jumping_into_a_stale_function_is_refused_in_lenient_mode()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale-body" };
        var sig = b.AddDeclaration(NoneToI64).Signature;
        var callee = b.AddFunction("callee", new FunctionBody(Return7, sig));
        // stale: call callee, compiled against (i64) -> i64; then ret.
        var stale = b.AddFunction("stale", new FunctionBody([0xE8, 0, 0, 0, 0, 0xC3], sig,
            [new Relocation(1, RelocationKind.FunctionPcRel32, callee.Name, -4, I64ToI64.Hash)]));
        b.AddFunction("into-stale", new FunctionBody([0xE9, 0, 0, 0, 0], sig, [new Relocation(1, RelocationKind.FunctionPcRel32, stale.Name, -4 + 5)]));
        using var image = CacheImage.Read(b.ToArray());

        using var module = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient });

        Assert.Equal(["into-stale", "stale"], module.RefusedFunctions.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(module.RefusedFunctions, r => Assert.Equal(ErrorCode.StaleCaller, r.Reason));
        Assert.Equal(ErrorCode.StaleCaller, Assert.Throws<AotCacheException>(() => module.Invoke("into-stale")).Code);
        Assert.Equal(7, module.Invoke("callee").AsI64);
    }

    [Fact]
    public void LOAD_7_data_pointing_into_a_refused_body_fails_the_load_and_data_pointing_at_its_entry_does_not()
    {
        byte[] into = Module(b => b.AddData("table", DataKind.ReadOnly, new byte[8], relocations: [new Relocation(0, RelocationKind.Absolute64, "leaf", 5)]));
        byte[] entry = Module(b => b.AddData("table", DataKind.ReadOnly, new byte[8], relocations: [new Relocation(0, RelocationKind.Absolute64, "leaf", 0)]));
        using var intoImage = CacheImage.Read(into);
        using var entryImage = CacheImage.Read(entry);

        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(intoImage, WithoutAvx512()));
        Assert.Equal(ErrorCode.MissingCpuFeatures, e.Code);
        Assert.Equal(intoImage.SectionOffset(SectionKind.Relocations) + (long)(intoImage.Relocations.Length - 1) * RelocationRecord.RecordSize, e.Offset);
        Assert.Contains("data object 'table' points into the middle of refused function 'leaf'", e.Message);
        using var module = LoadedModule.Load(entryImage, WithoutAvx512());
        Assert.Equal(3, module.RefusedFunctions.Count);
    }
}
