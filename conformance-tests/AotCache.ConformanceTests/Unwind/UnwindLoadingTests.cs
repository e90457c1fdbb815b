using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;
using static AotCache.ConformanceTests.Unwind.UnwindChain;

namespace AotCache.ConformanceTests.Unwind;

/// <summary>
/// Registration of unwind information on load [LOAD-10], seen from the outside: glibc's <c>backtrace()</c>, called by
/// the innermost of six cached functions, walks libgcc's unwinder through every cached frame to the call shim, with
/// each return address exactly where the call in its caller ends; in direct and hot-swappable modules, before and
/// after a hot-swap. <c>_Unwind_Find_FDE</c> shows the registrations appear before the first call and go when the
/// module is unloaded or a replaced batch is freed.
/// </summary>
public sealed class UnwindLoadingTests : IDisposable
{
    private static readonly string[] Chain = ["f5", "f4", "f3", "f2", "f1", "f0"];

    private readonly NativeLibraryResolver _libc = new("libc.so.6");

    public void Dispose() => _libc.Dispose();

    /// <summary>The cached frames of a trace: exactly the chain, innermost first, then a frame outside the module.</summary>
    private static void AssertChain(CacheImage image, List<Frame> frames, string[] chain, Func<string, FunctionBody>? bodyOf = null)
    {
        Assert.True(frames.Count > chain.Length, $"backtrace() saw {frames.Count} frames: {string.Join(", ", frames.Select(f => f.Function ?? "?"))}");
        Assert.Equal(chain, frames.Take(chain.Length).Select(f => f.Function));
        Assert.Null(frames[chain.Length].Function); // the call shim that entered the module: the unwinder has no frames of it
        bodyOf ??= image.GetFunctionBody;
        for (int k = 0; k < chain.Length; k++)
        {
            string callee = k == 0 ? Host : chain[k - 1];
            Assert.Equal(ReturnOffset(bodyOf(chain[k]), callee), frames[k].OffsetInBody);
        }
    }

    [Theory]
    [InlineData(LinkMode.Direct, true)]
    [InlineData(LinkMode.Direct, false)]
    [InlineData(LinkMode.HotSwappable, true)]
    public void LOAD_10_backtrace_from_a_host_function_sees_every_cached_frame_with_its_return_address(LinkMode mode, bool prelink)
    {
        using CacheImage image = CacheImage.Read(CacheFile(prelink));
        using LoadedModule module = LoadedModule.Load(image, Options(mode, _libc));

        AssertChain(image, Trace(module), Chain);
    }

    [Fact]
    public void LOAD_10_a_module_mapped_from_its_file_registers_the_files_own_CFI()
    {
        string path = Path.Combine(Path.GetTempPath(), $"aotcache-unwind-{Guid.NewGuid():N}.aotc");
        System.IO.File.WriteAllBytes(path, CacheFile());
        try
        {
            using LoadedModule module = LoadedModule.LoadFile(path, Options(LinkMode.Direct, _libc));
            AssertChain(module.Image, Trace(module), Chain);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void LOAD_10_without_registration_the_unwinder_stops_at_the_first_cached_frame()
    {
        using CacheImage image = CacheImage.Read(CacheFile());
        using LoadedModule module = LoadedModule.Load(image, Options(LinkMode.Direct, _libc) with { RegisterUnwindInfo = false });

        List<Frame> frames = Trace(module);

        Assert.Equal("f5", frames[0].Function); // backtrace's own caller: found from its own CFI
        Assert.DoesNotContain(frames.Skip(1), f => f.Function is not null);
    }

    [Fact]
    public void LOAD_10_after_a_hot_swap_backtrace_walks_the_new_bodies_and_the_ones_the_file_placed()
    {
        using CacheImage image = CacheImage.Read(CacheFile());
        using LoadedModule module = LoadedModule.Load(image, Options(LinkMode.HotSwappable, _libc));
        List<Frame> before = Trace(module);
        AssertChain(image, before, Chain);

        // f3 gets a new body; f2 a new one that calls a new function f2b, which calls f3: two new frames in new batches.
        IrModule ir = Module();
        IrFunction f3 = Link(3, "f4", add: 2), f2b = Link(2, "f3") with { Name = "f2b" }, f2 = Link(2, "f2b");
        IrModule next = ir with { Functions = [.. ir.Functions.Select(f => f.Name == "f3" ? f3 : f.Name == "f2" ? f2 : f), f2b] };
        var bodies = new Dictionary<string, FunctionBody>();
        UpdateTransaction update = module.BeginUpdate();
        update.Redefine("f3", bodies["f3"] = Compile(update, next, f3));
        update.Add("f2b", bodies["f2b"] = Compile(update, next, f2b));
        update.Redefine("f2", bodies["f2"] = Compile(update, next, f2));
        update.Commit();

        List<Frame> after = Trace(module, depth: 7 + 1); // one more function, and f3 adds 2
        string[] chain = ["f5", "f4", "f3", "f2b", "f2", "f1", "f0"];
        AssertChain(image, after, chain, name => bodies.TryGetValue(name, out FunctionBody? b) ? b : image.GetFunctionBody(name));
        Assert.NotEqual(before.Single(f => f.Function == "f3").BodyStart, after.Single(f => f.Function == "f3").BodyStart);
        Assert.Equal(before.Single(f => f.Function == "f4").BodyStart, after.Single(f => f.Function == "f4").BodyStart);
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void LOAD_10_a_body_compiled_on_its_first_call_is_registered_before_it_runs(LinkMode mode)
    {
        // f3 needs a CPU feature the host lacks, so the loader refuses it [LOAD-3]; the first call compiles it again.
        byte[] file;
        FunctionBody compiled;
        using (CacheImage original = CacheImage.Read(CacheFile()))
        {
            compiled = original.GetFunctionBody("f3");
            var rewriter = new Writer.CacheRewriter(original);
            rewriter.ReplaceFunction("f3", compiled with { RequiredCpuFeatures = CpuFeatures.Avx512Vbmi });
            file = rewriter.Build().ToArray();
        }
        using CacheImage image = CacheImage.Read(file);
        var compiles = 0;
        using LoadedModule module = LoadedModule.Load(image, Options(mode, _libc) with
        {
            Host = HostEnvironment.Current with { CpuFeatures = CpuFeatures.None },
            CompileOnCall = refused => refused.Name == "f3" && Interlocked.Increment(ref compiles) > 0 ? compiled : null,
        });

        List<Frame> frames = Trace(module);
        Assert.Equal(1, compiles);
        AssertChain(image, frames, Chain, name => name == "f3" ? compiled : image.GetFunctionBody(name));
        nint f3 = frames.Single(f => f.Function == "f3").BodyStart;
        Assert.True(FrameRegistration.Covers(f3, out nint start) && start == f3, "the compiled body's FDE is the unwinder's");
        AssertChain(image, Trace(module), Chain, name => name == "f3" ? compiled : image.GetFunctionBody(name)); // straight through the slot now
    }

    [Fact]
    public void LOAD_10_frames_are_registered_before_the_first_call_and_withdrawn_when_the_module_is_unloaded()
    {
        using var memory = new ReservingMemory();
        using CacheImage image = CacheImage.Read(CacheFile());
        LoadedModule module = LoadedModule.Load(image, Options(LinkMode.Direct, _libc) with { Memory = memory });
        var bodies = Chain.Select(name => module.GetSymbolAddress(name)).ToList();
        foreach (nint body in bodies)
        {
            // Inside each body, before anything ran: libgcc finds the FDE, and it begins at the body.
            Assert.True(FrameRegistration.Covers(body + 2, out nint start), $"no FDE covers 0x{body + 2:x}");
            Assert.Equal(body, start);
        }

        module.Dispose();

        foreach (nint body in bodies) Assert.False(FrameRegistration.Covers(body + 2, out _), $"an FDE still covers 0x{body + 2:x} after unload");
    }

    [Fact]
    public void LOAD_10_two_modules_of_one_image_each_have_their_frames()
    {
        using var memory = new ReservingMemory();
        using CacheImage image = CacheImage.Read(CacheFile());
        LoadedModule first = LoadedModule.Load(image, Options(LinkMode.Direct, _libc) with { Memory = memory });
        using LoadedModule second = LoadedModule.Load(image, Options(LinkMode.Direct, _libc) with { Memory = memory });
        nint inFirst = first.GetSymbolAddress("f2") + 2, inSecond = second.GetSymbolAddress("f2") + 2;
        Assert.True(FrameRegistration.Covers(inFirst, out _));
        Assert.True(FrameRegistration.Covers(inSecond, out _));

        first.Dispose();

        Assert.False(FrameRegistration.Covers(inFirst, out _));
        Assert.True(FrameRegistration.Covers(inSecond, out _));
        AssertChain(image, Trace(second), Chain);
    }

    [Fact]
    public void LOAD_10_a_replaced_batch_is_withdrawn_from_the_unwinder_when_it_is_freed()
    {
        using CacheImage image = CacheImage.Read(CacheFile());
        using LoadedModule module = LoadedModule.Load(image, Options(LinkMode.HotSwappable, _libc));

        nint Redefine(int add)
        {
            RedefineF3(module, add);
            return Trace(module, Depth + add - 1).Single(f => f.Function == "f3").BodyStart;
        }

        nint first = Redefine(2);
        Assert.True(FrameRegistration.Covers(first + 2, out nint start));
        Assert.Equal(first, start);
        nint second = Redefine(3);
        module.ReclaimRetiredCode(); // no thread is inside: the first batch goes

        // The arena keeps the freed pages reserved (inaccessible), so nothing else can be registered there meanwhile.
        Assert.False(FrameRegistration.Covers(first + 2, out _), "the freed batch is still registered");
        Assert.True(FrameRegistration.Covers(second + 2, out start));
        Assert.Equal(second, start);
        Assert.Equal(0, module.GetSwapStatistics().RetiredBatchesAwaitingReclaim);
    }
}
