using AotCache.ConformanceTests.Loading;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.HotSwap;
using AotCache.Reader;
using static AotCache.ConformanceTests.HotSwap.SwapCode;

namespace AotCache.ConformanceTests.HotSwap;

public class HotSwapTests
{
    /// <summary>g() = 7; f() = 100 + g(); k() = 1000 + f().</summary>
    private static LoadedModule Load(CacheImage image, int addCapacity = -1) =>
        LoadedModule.Load(image, new LoadOptions { LinkMode = LinkMode.HotSwappable, AddCapacity = addCapacity });

    private static CacheImage Image() => CacheImage.Read(Module(
    [
        ("g", 7, NoParams, []),
        ("f", 100, NoParams, [new Call("g", NoParams)]),
        ("k", 1000, NoParams, [new Call("f", NoParams)]),
    ]));

    private static long Run(LoadedModule m, string name) =>
        m.Invoke(name, m.GetSignature(name).Parameters.Length == 1 ? [Value.I64(0)] : []).AsI64;

    [Fact]
    public void Redefining_a_function_is_seen_by_its_callers_through_the_swap_slot()
    {
        using var image = Image();
        using var m = Load(image);
        Assert.Equal(1107, Run(m, "k"));
        m.BeginUpdate().Redefine("g", Update(9, NoParams, [])).Commit();
        Assert.Equal(9, Run(m, "g"));
        Assert.Equal(109, Run(m, "f"));
        Assert.Equal(1109, Run(m, "k"));
    }

    [Fact]
    public void A_signature_change_with_unchanged_callers_is_refused_naming_them_and_changes_nothing()
    {
        using var image = Image();
        using var m = Load(image);
        var tx = m.BeginUpdate().Redefine("g", Update(9, OneParam, []));
        Assert.False(tx.TryCommit(out var stale));
        StaleFunction s = Assert.Single(stale);
        Assert.Equal(("f", StaleReason.SignatureChanged, "g"), (s.Function, s.Reason, s.Target));
        Assert.Contains("sysv () -> i64", s.Expected);
        Assert.Contains("sysv (i64) -> i64", s.Actual);
        // All or nothing: the module is exactly as it was.
        Assert.Equal(7, Run(m, "g"));
        Assert.Equal(1107, Run(m, "k"));
        Assert.Equal(NoParams, m.GetSignature("g"));

        var e = Assert.Throws<AotCacheException>(() => m.BeginUpdate().Redefine("g", Update(9, OneParam, [])).Commit());
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        Assert.Contains("f calls g compiled against sysv () -> i64", e.Message);
    }

    [Fact]
    public void A_signature_change_commits_when_every_stale_caller_is_redefined_with_it()
    {
        using var image = Image();
        using var m = Load(image);
        m.BeginUpdate()
            .Redefine("g", Update(9, OneParam, []))
            .Redefine("f", Update(200, NoParams, [new Call("g", OneParam)]))
            .Commit();
        Assert.Equal(OneParam, m.GetSignature("g"));
        Assert.Equal(209, Run(m, "f"));
        Assert.Equal(1209, Run(m, "k")); // k was compiled against f's unchanged signature: not stale
    }

    [Fact]
    public void Removing_a_called_function_is_refused_unless_its_callers_go_too()
    {
        using var image = Image();
        using var m = Load(image);
        Assert.False(m.BeginUpdate().Remove("g").TryCommit(out var stale));
        Assert.Equal(StaleReason.TargetRemoved, Assert.Single(stale).Reason);
        m.BeginUpdate().Remove("g").Remove("f").Remove("k").Commit();
        Assert.Throws<KeyNotFoundException>(() => m.Invoke("g"));
        Assert.Empty(m.FunctionNames);
    }

    [Fact]
    public void Added_functions_call_and_are_called()
    {
        using var image = Image();
        using var m = Load(image);
        m.BeginUpdate()
            .Add("h", Update(50, NoParams, [new Call("f", NoParams)]))
            .Add("h2", Update(5, NoParams, [new Call("h", NoParams), new Call("g", NoParams)]))
            .Commit();
        Assert.Equal(157, Run(m, "h"));
        Assert.Equal(5 + 157 + 7, Run(m, "h2"));
    }

    [Fact]
    public void New_code_compiled_against_the_wrong_signature_is_refused()
    {
        using var image = Image();
        using var m = Load(image);
        Assert.False(m.BeginUpdate().Add("h", Update(1, NoParams, [new Call("g", OneParam)])).TryCommit(out var stale));
        Assert.Equal(StaleReason.NewCodeMismatch, Assert.Single(stale).Reason);
        Assert.False(m.BeginUpdate().Add("h", Update(1, NoParams, [new Call("nowhere", NoParams)])).TryCommit(out stale));
        Assert.Equal(StaleReason.UnknownTarget, Assert.Single(stale).Reason);
    }

    [Fact]
    public void Content_dependencies_make_inliners_stale_transitively()
    {
        // f inlined g (depends on g's content); k inlined f.
        byte[] file = Module(
        [
            ("g", 7, NoParams, []),
            ("f", 100, NoParams, []),
            ("k", 1000, NoParams, []),
            ("other", 1, NoParams, []),
        ], new Dictionary<string, Dependency[]>
        {
            ["f"] = [new Dependency("g", new ContentHash(7, 0))],
            ["k"] = [new Dependency("f", new ContentHash(100, 0))],
        });
        using var image = CacheImage.Read(file);
        using var m = Load(image);
        Assert.False(m.BeginUpdate().Redefine("g", Update(8, NoParams, [], content: new ContentHash(8, 0))).TryCommit(out var stale));
        Assert.Equal(["f", "k"], stale.Select(s => s.Function).Order());
        Assert.All(stale, s => Assert.Equal(StaleReason.ContentChanged, s.Reason));
        // Same content hash (e.g. a cosmetic change): nothing is stale.
        m.BeginUpdate().Redefine("g", Update(7, NoParams, [], content: new ContentHash(7, 0))).Commit();
        // Recompiling the whole chain commits.
        m.BeginUpdate()
            .Redefine("g", Update(8, NoParams, [], content: new ContentHash(8, 0)))
            .Redefine("f", Update(108, NoParams, [], content: new ContentHash(108, 0), dependencies: [new Dependency("g", new ContentHash(8, 0))]))
            .Redefine("k", Update(1108, NoParams, [], content: new ContentHash(1108, 0), dependencies: [new Dependency("f", new ContentHash(108, 0))]))
            .Commit();
        Assert.Equal(1108, Run(m, "k"));
    }

    [Fact]
    public void A_direct_module_cannot_be_updated()
    {
        using var image = Image();
        using var m = LoadedModule.Load(image);
        Assert.Throws<InvalidOperationException>(() => m.BeginUpdate());
    }

    [Fact]
    public void LOAD_4_no_page_is_writable_and_executable_after_load_and_after_commits()
    {
        using var image = Image();
        using var m = Load(image);
        void Audit()
        {
            var maps = ProcessMaps.Overlapping(m.Region.Address, m.Region.Size);
            Assert.DoesNotContain(maps, x => x.Writable && x.Executable);
        }
        Audit();
        for (int i = 0; i < 5; i++)
        {
            m.BeginUpdate().Redefine("g", Update(i, NoParams, [])).Add("n" + i, Update(i, NoParams, [new Call("g", NoParams)])).Commit();
            Audit();
        }
        Assert.Equal(4 + 4, Run(m, "n4"));
    }

    [Fact]
    public void Replaced_bodies_are_reclaimed_not_leaked()
    {
        using var image = Image();
        using var m = Load(image);
        long maxCommitted = 0;
        for (int i = 0; i < 3000; i++)
        {
            m.BeginUpdate().Redefine("g", Update(i, NoParams, [], padding: 6000)).Commit();
            maxCommitted = Math.Max(maxCommitted, m.GetSwapStatistics().CommittedArenaBytes);
        }
        Assert.Equal(2999 + 100, Run(m, "f"));
        SwapStatistics stats = m.GetSwapStatistics();
        // One live body of ~6 KB: two pages; never more than the live one plus one awaiting reclamation.
        Assert.Equal(1, stats.LiveBatches);
        Assert.Equal(0, stats.RetiredBatchesAwaitingReclaim);
        Assert.True(maxCommitted <= 4 * 4096, $"committed up to {maxCommitted} bytes for one ~6 KB function");
    }

    [Fact]
    public async Task Threads_calling_while_another_thread_swaps_see_only_old_or_new_results()
    {
        using var image = Image();
        using var m = Load(image);
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
        long calls = 0;
        var callers = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancelled())
            {
                seen.AddOrUpdate(Run(m, "k"), 1, (_, n) => n + 1);
                Interlocked.Increment(ref calls);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        // Swap at least 400 times, and until the callers have made plenty of calls meanwhile: a count, not a time, so a
        // loaded machine only makes it slower. The clock is a hang guard far beyond what the loop needs.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int swaps = 0;
        while ((swaps < 400 || Interlocked.Read(ref calls) < 5000) && clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            m.BeginUpdate().Redefine("g", Update(swaps % 2 == 0 ? 1 : 2, NoParams, [], padding: swaps % 7 * 500)).Commit();
            swaps++;
        }
        stop.Cancel();
        await Task.WhenAll(callers);
        Assert.True(calls >= 5000, $"only {calls} calls ran concurrently with {swaps} swaps");
        Assert.Subset(new HashSet<long> { 1107, 1101, 1102 }, seen.Keys.ToHashSet());
        m.ReclaimRetiredCode();
        Assert.Equal(0, m.GetSwapStatistics().RetiredBatchesAwaitingReclaim);
    }
}

internal static class CancellationExtensions
{
    public static bool IsCancelled(this CancellationTokenSource source) => source.IsCancellationRequested;
}
