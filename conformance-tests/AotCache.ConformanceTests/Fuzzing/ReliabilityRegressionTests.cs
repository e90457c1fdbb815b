using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Fuzz;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Fuzzing;

/// <summary>
/// The file-shaped reproducers of the hostile-input campaign (issue 20), kept in fuzz/regressions so that the
/// fuzzer starts from them (<c>seed-corpus</c>) and <see cref="FuzzRegressionTests"/> runs the harness over them.
/// Each is written by a builder here; a test checks that the checked-in file is what its builder writes
/// (<c>AOTCACHE_ACCEPT=1</c> rewrites them), and tests name what each must do.
/// </summary>
public sealed class ReliabilityRegressionTests
{
    private static readonly Signature NoneToI64 = Signature.SysV([], [ScalarType.I64]);
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private static readonly byte[] Return7 = [0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3]; // mov eax, 7; ret

    /// <summary>Every reproducer: file name → builder.</summary>
    public static readonly IReadOnlyDictionary<string, Func<byte[]>> Builders = new Dictionary<string, Func<byte[]>>
    {
        ["load-7-jump-into-a-function-needing-avx512.aotc"] = () => IntoRefused(CpuFeatures.Avx512F, stale: false, data: false),
        ["load-7-jump-into-a-stale-function.aotc"] = () => IntoRefused(CpuFeatures.None, stale: true, data: false),
        ["load-7-data-pointing-into-a-function-needing-avx512.aotc"] = () => IntoRefused(CpuFeatures.Avx512F, stale: false, data: true),
        ["rel-9-zero-fill-of-1.75-gib.aotc"] = ZeroFillOf1_75GiB,
        ["str-1-hostile-names.aotc"] = Security.HostileNameTests.HostileNames,
    };

    /// <summary>
    /// target (needs <paramref name="features"/>; or stale: it calls helper compiled against another signature) = 7;
    /// jumper: nop; jmp target+5 (body-bound); jumper2: jmp jumper+1 (body-bound, transitively); with
    /// <paramref name="data"/>, a table holding target+5 (Absolute64, addend 5).
    /// </summary>
    private static byte[] IntoRefused(CpuFeatures features, bool stale, bool data)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "into-refused" };
        var sig = b.AddDeclaration(NoneToI64).Signature;
        var helper = b.AddFunction("helper", new FunctionBody(Return7, sig));
        var target = b.AddFunction("target", stale
            ? new FunctionBody([0xE8, 0, 0, 0, 0, 0xC3], sig, [new Relocation(1, RelocationKind.FunctionPcRel32, helper.Name, -4, I64ToI64.Hash)])
            : new FunctionBody(Return7, sig) { RequiredCpuFeatures = features });
        var jumper = b.AddFunction("jumper", new FunctionBody([0x90, 0xE9, 0, 0, 0, 0], sig, [new Relocation(2, RelocationKind.FunctionPcRel32, target.Name, -4 + 5)]));
        b.AddFunction("jumper2", new FunctionBody([0xE9, 0, 0, 0, 0], sig, [new Relocation(1, RelocationKind.FunctionPcRel32, jumper.Name, -4 + 1)]));
        if (data) b.AddData("table", DataKind.ReadOnly, new byte[8], relocations: [new Relocation(0, RelocationKind.Absolute64, target.Name, 5)]);
        return b.ToArray();
    }

    /// <summary>A valid module of one function and a 1.75 GiB zero-fill object: it fits in 2 GiB, but not with a
    /// 512 MiB code reserve for hot-swapping.</summary>
    private static byte[] ZeroFillOf1_75GiB()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "big-zero-fill" };
        b.AddFunction("f", new FunctionBody(Return7, b.AddDeclaration(NoneToI64).Signature));
        b.DefineZeroFilled(b.DeclareData("zeros", DataKind.ZeroFilled, alignment: 4096), 0x3800_0000); // 2^30 at most per object
        b.DefineZeroFilled(b.DeclareData("zeros2", DataKind.ZeroFilled, alignment: 4096), 0x3800_0000);
        return b.ToArray();
    }

    private static string RegressionPath(string name) => Path.Combine(SeedCorpus.RegressionDirectory(GoldenFile.RepositoryRoot()), name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(RegressionPath(name));

    public static TheoryData<string> Names => [.. Builders.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Names))]
    public void The_checked_in_reproducer_is_what_its_builder_writes(string name)
    {
        byte[] built = Builders[name]();
        if (Environment.GetEnvironmentVariable("AOTCACHE_ACCEPT") == "1") File.WriteAllBytes(RegressionPath(name), built);
        Assert.True(File.Exists(RegressionPath(name)), $"{name} is missing: run the tests with AOTCACHE_ACCEPT=1, then `seed-corpus`");
        Assert.True(built.AsSpan().SequenceEqual(Bytes(name)), $"{name} is out of date: run the tests with AOTCACHE_ACCEPT=1, then `seed-corpus`");
    }

    [Theory]
    [InlineData("load-7-jump-into-a-function-needing-avx512.aotc", ErrorCode.MissingCpuFeatures)]
    [InlineData("load-7-jump-into-a-stale-function.aotc", ErrorCode.StaleCaller)]
    public void LOAD_7_the_reproducers_refuse_the_jumpers_with_the_reason_of_what_they_jump_into(string name, ErrorCode reason)
    {
        using var image = CacheImage.Read(Bytes(name), ReadOptions.Full);
        foreach (LinkMode mode in new[] { LinkMode.Direct, LinkMode.HotSwappable })
        {
            using var module = LoadedModule.Load(image, new LoadOptions
            {
                Host = HostEnvironment.Current with { CpuFeatures = CpuFeatures.None },
                StalePolicy = StalePolicy.Lenient,
                LinkMode = mode,
                CodeReserve = 4096,
                Memory = new ManagedMemory(Target.MemoryBudget),
            });
            Assert.Equal(["jumper", "jumper2", "target"], module.RefusedFunctions.Select(r => r.Name).Order(StringComparer.Ordinal));
            Assert.All(module.RefusedFunctions, r => Assert.Equal(reason, r.Reason));
        }
        // The harness's oracle holds: no running function jumps into a refused body.
        Target.Link(image, LinkMode.HotSwappable, StalePolicy.Lenient, CpuFeatures.None);
    }

    [Fact]
    public void LOAD_7_the_data_reproducer_fails_the_load_on_a_host_without_the_feature()
    {
        using var image = CacheImage.Read(Bytes("load-7-data-pointing-into-a-function-needing-avx512.aotc"), ReadOptions.Full);
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions
        {
            Host = HostEnvironment.Current with { CpuFeatures = CpuFeatures.None },
            Memory = new ManagedMemory(Target.MemoryBudget),
        }));
        Assert.Equal(ErrorCode.MissingCpuFeatures, e.Code);
        Assert.Equal(image.SectionOffset(SectionKind.Relocations) + (long)(image.Relocations.Length - 1) * RelocationRecord.RecordSize, e.Offset);
    }

    /// <summary>B10: a hot-swappable load with an explicit code reserve that does not fit beside this file's module is
    /// the file's size, refused before anything is mapped [REL-9]; a reserve that fits beside no module is misuse.</summary>
    [Fact]
    [Requirement("REL-9")]
    public void A_module_plus_an_explicit_code_reserve_beyond_2_GiB_is_a_RelocationOverflow_not_an_ArgumentOutOfRangeException()
    {
        using var image = CacheImage.Read(Bytes("rel-9-zero-fill-of-1.75-gib.aotc"), ReadOptions.Full);
        var memory = new ManagedMemory(budget: 1L << 20);
        var options = new LoadOptions { Memory = memory, LinkMode = LinkMode.HotSwappable, CodeReserve = 512L << 20 };

        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, options));

        Assert.Equal(ErrorCode.RelocationOverflow, e.Code);
        Assert.Equal("REL-9", e.Requirement);
        Assert.Equal(image.SectionOffset(SectionKind.DataObjects) + DataObjectRecord.RecordSize * (image.DataObjects.Length - 1) + 12, e.Offset);
        Assert.Contains($"{512L << 20} bytes reserved for new code", e.Detail);
        Assert.Equal(0, memory.LiveRegions);
        Assert.Throws<ArgumentOutOfRangeException>(() => LoadedModule.Load(image, options with { CodeReserve = int.MaxValue }));
        Assert.Equal(0, memory.LiveRegions);
    }
}
