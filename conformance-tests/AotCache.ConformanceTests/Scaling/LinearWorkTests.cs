using AotCache.ConformanceTests.HotSwap;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Scaling;

/// <summary>
/// FORMAT.md §17 promises work linear in the file (or in the change) on paths that valid files reach: naming stale
/// callers, the transitive closure of content staleness, and the reverse index of hot-swap commits. Each test runs
/// the same shape at two sizes and counts the work by operation counts the code keeps (inner-loop iterations),
/// never by the clock: doubling the input may at most multiply the count by 2.5 (a quadratic path gives 4).
/// </summary>
public class LinearWorkTests
{
    private const int Small = 400, Large = 2 * Small;
    private const double MaxRatio = 2.5;

    private static readonly byte[] Return7 = [0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3];
    private static readonly ScalarType[] Types = [ScalarType.I32, ScalarType.I64, ScalarType.F32, ScalarType.F64, ScalarType.Ptr];

    /// <summary>A distinct signature per <paramref name="i"/>: its parameters spell <paramref name="i"/> in base 5.</summary>
    private static Signature Distinct(int i)
    {
        var parameters = new List<ScalarType>();
        do
        {
            parameters.Add(Types[i % 5]);
            i /= 5;
        } while (i > 0);
        return Signature.SysV([.. parameters], [ScalarType.I64]);
    }

    private static void AssertLinear(long small, long large, string what)
    {
        Assert.True(small > 0, $"{what}: no work was counted");
        double ratio = (double)large / small;
        Assert.True(ratio <= MaxRatio, $"{what}: {small} operations at {Small}, {large} at {Large}: ×{ratio:0.00} for twice the input");
    }

    /// <summary>n callees of n distinct signatures; caller i calls callee i compiled against a signature the file
    /// does not have, so every reference is stale and its message names both signatures.</summary>
    private static byte[] ManyStaleCallers(int n)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale-callers" };
        for (int i = 0; i < n; i++)
        {
            var callee = b.AddFunction($"callee{i}", new FunctionBody(Return7, b.AddDeclaration(Distinct(i)).Signature));
            b.AddFunction($"caller{i}", new FunctionBody([0xE8, 0, 0, 0, 0, 0xC3], b.AddDeclaration(Distinct(0)).Signature,
                [new Relocation(1, RelocationKind.FunctionPcRel32, callee.Name, -4, Distinct(n + i).Hash)]));
        }
        return b.ToArray();
    }

    private static long StrictLoadWork(int n)
    {
        using var image = CacheImage.Read(ManyStaleCallers(n));
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        Assert.Contains($"{n} stale references", e.Message);
        Assert.Contains($"caller{n - 1} refers to callee{n - 1} compiled against the signature with hash", e.Message);
        return image.AnalysisSteps;
    }

    [Fact]
    [Spec.Requirement("LOAD-5")]
    public void Naming_every_stale_caller_of_a_strict_load_is_linear_in_the_file()
    {
        AssertLinear(StrictLoadWork(Small), StrictLoadWork(Large), "strict-mode stale messages");
    }

    /// <summary>f0 inlined leaf as it no longer is; f(i) inlined f(i − 1): a chain of n transitively stale functions.</summary>
    private static byte[] StaleChain(int n)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale-chain" };
        Signature sig = b.AddDeclaration(Signature.SysV([], [ScalarType.I64])).Signature;
        string previous = b.AddFunction("leaf", new FunctionBody(Return7, sig) { ContentHash = new ContentHash(2, 0) }).Name;
        ContentHash expected = new(1, 0); // leaf's content when f0 inlined it: not what it is now
        for (int i = 0; i < n; i++)
        {
            var content = new ContentHash((ulong)i + 100, 0);
            previous = b.AddFunction($"f{i}", new FunctionBody(Return7, sig, dependencies: [new Dependency(previous, expected)]) { ContentHash = content }).Name;
            expected = content;
        }
        return b.ToArray();
    }

    private static long ClosureWork(int n)
    {
        using var image = CacheImage.Read(StaleChain(n));
        List<StaleReference> stale = StaleAnalysis.Find(image);
        Assert.Equal(n, stale.Count);
        Assert.Equal(n - 1, stale.Count(s => s.Kind == StaleKind.TransitiveContent));
        return image.AnalysisSteps;
    }

    [Fact]
    [Spec.Requirement("DEP-2")]
    public void The_transitive_closure_of_content_staleness_is_linear_in_the_dependencies()
    {
        AssertLinear(ClosureWork(Small), ClosureWork(Large), "content staleness closure");
    }

    /// <summary>A commit that redefines every one of the n callers of one hub function: each drops its reference
    /// from the hub's reverse index.</summary>
    private static long RedefineAllCallersWork(int n)
    {
        var functions = new List<(string, int, Signature, IReadOnlyList<SwapCode.Call>)> { ("hub", 1, SwapCode.NoParams, []) };
        for (int i = 0; i < n; i++) functions.Add(($"caller{i}", i, SwapCode.NoParams, [new SwapCode.Call("hub", SwapCode.NoParams)]));
        using var image = CacheImage.Read(SwapCode.Module(functions));
        using var module = LoadedModule.Load(image, new LoadOptions { LinkMode = LinkMode.HotSwappable });
        long before = module.SwapWorkSteps;
        var update = module.BeginUpdate();
        for (int i = 0; i < n; i++) update.Redefine($"caller{i}", SwapCode.Update(i + 1, SwapCode.NoParams, [new SwapCode.Call("hub", SwapCode.NoParams)]));
        update.Commit();
        Assert.Equal(n + 1, module.Invoke($"caller{n - 1}").AsI64);
        return module.SwapWorkSteps - before;
    }

    [Fact]
    public void A_hot_swap_commit_drops_references_in_time_linear_in_the_callers_it_redefines()
    {
        AssertLinear(RedefineAllCallersWork(Small), RedefineAllCallersWork(Large), "hot-swap reference removal");
    }
}
