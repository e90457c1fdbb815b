using System.Collections.Immutable;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Loader;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;
using Iced.Intel;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Unwind;

/// <summary>
/// [LOAD-11]: a managed host function that throws while cached code is on the stack. The chain is
/// <c>f0(x) → f1(x) → … → f5(x) = fail(x) + after(x)</c> (each link adds 1): <c>fail</c> throws for some arguments,
/// <c>after</c> counts its calls. The exception must come out of <c>Invoke</c> itself, the very object thrown, with the
/// host function's frame in its stack trace; <c>after</c> must not run (no instruction of cached code after the call);
/// and the module must go on working on every thread, which it could not if the abandoned frames had left the stack
/// or a callee-saved register wrong.
/// </summary>
public sealed class HostExceptionTests
{
    private const int Depth = 6;

    private delegate long I64ToI64(long value);

    private sealed class HostFailure(long value) : Exception($"the host refuses {value}")
    {
        public long Value { get; } = value;
    }

    /// <summary>The host side: <c>fail</c> throws for multiples of 7 and doubles the rest; <c>after</c> counts.</summary>
    private sealed class Host
    {
        private long _after;

        public long AfterCalls => Interlocked.Read(ref _after);

        public long Fail(long value) => value % 7 == 0 ? throw new HostFailure(value) : 2 * value;

        public long After(long value)
        {
            Interlocked.Increment(ref _after);
            return 0;
        }
    }

    private static IrFunction Link(int i) =>
        new($"f{i}", [I64], I64, [], [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall($"f{i + 1}", [new IrLocal(0)]), new IrConstI64(1)))]);

    private static byte[] ChainFile(string fail = "fail")
    {
        var functions = new List<IrFunction>();
        for (int i = 0; i < Depth - 1; i++) functions.Add(Link(i));
        functions.Add(new IrFunction($"f{Depth - 1}", [I64], I64, [],
            [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall(fail, [new IrLocal(0)]), new IrCall("after", [new IrLocal(0)])))]));
        var module = new IrModule([new IrImport(fail, [I64], I64), new IrImport("after", [I64], I64)], [], [.. functions]) { Name = "throwing" };
        var builder = new Writer.CacheBuilder(Writer.TargetDescription.LinuxX64);
        IrCompiler.AddTo(builder, module);
        return builder.ToArray();
    }

    private static long Expected(long x) => 2 * x + (Depth - 1);

    private static LoadedModule Load(Host host, LinkMode mode, IImportResolver? more = null)
    {
        var table = new ImportTable().Add("fail", new I64ToI64(host.Fail)).Add("after", new I64ToI64(host.After));
        return LoadedModule.Load(CacheImage.Read(ChainFile()), new LoadOptions
        {
            Imports = more is null ? table : new ChainedResolver(more, table),
            LinkMode = mode,
        });
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void LOAD_11_an_exception_of_a_host_function_comes_out_of_Invoke_and_no_cached_instruction_after_the_call_runs(LinkMode mode)
    {
        var host = new Host();
        using LoadedModule module = Load(host, mode);

        Assert.Equal(Expected(5), module.Invoke("f0", Value.I64(5)).AsI64);
        Assert.Equal(1, host.AfterCalls);

        var e = Assert.Throws<HostFailure>(() => module.Invoke("f0", Value.I64(14)));
        Assert.Equal(14, e.Value);
        Assert.Contains(nameof(Host.Fail), e.StackTrace, StringComparison.Ordinal); // the host function's own frame, kept
        Assert.Equal(1, host.AfterCalls); // f5's call of after() never ran

        // The caller's state is whole again: the same module, the same thread, many times over.
        for (long x = 1; x <= 50; x++)
        {
            if (x % 7 == 0) Assert.Equal(x, Assert.Throws<HostFailure>(() => module.Invoke("f0", Value.I64(x))).Value);
            else Assert.Equal(Expected(x), module.Invoke("f0", Value.I64(x)).AsI64);
        }
        Assert.Equal(1 + 50 - 7, host.AfterCalls);
    }

    [Fact]
    public void LOAD_11_threads_that_throw_and_threads_that_do_not_each_get_their_own_outcome()
    {
        var host = new Host();
        using LoadedModule module = Load(host, LinkMode.Direct);
        const int Threads = 4, Calls = 300;
        var failures = new int[Threads];
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (long i = 1; i <= Calls; i++)
            {
                long x = t % 2 == 0 ? i : 7 * i; // even threads mostly succeed, odd ones always throw
                try
                {
                    long result = module.Invoke("f0", Value.I64(x)).AsI64;
                    if (x % 7 == 0 || result != Expected(x)) failures[t]++;
                }
                catch (HostFailure e)
                {
                    if (x % 7 != 0 || e.Value != x) failures[t]++;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(new int[Threads], failures);
        Assert.Equal(2 * (Calls - Calls / 7), host.AfterCalls);
    }

    [Fact]
    public void LOAD_11_an_exception_crosses_a_host_function_that_reentered_the_module_and_one_it_handles_stays_there()
    {
        var host = new Host();
        LoadedModule? module = null;
        long handled = 0;
        // relay(x): calls f0 again from inside a host function, i.e. a second entry on the same thread.
        var relay = new ImportTable()
            .Add("relay", new I64ToI64(x => module!.Invoke("f0", Value.I64(x)).AsI64))
            .Add("relay_handling", new I64ToI64(x =>
            {
                try
                {
                    return module!.Invoke("f0", Value.I64(x)).AsI64;
                }
                catch (HostFailure)
                {
                    handled++;
                    return -1;
                }
            }));
        var functions = new List<IrFunction>();
        for (int i = 0; i < Depth - 1; i++) functions.Add(Link(i));
        functions.Add(new IrFunction($"f{Depth - 1}", [I64], I64, [],
            [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall("fail", [new IrLocal(0)]), new IrCall("after", [new IrLocal(0)])))]));
        functions.Add(new IrFunction("outer", [I64], I64, [],
            [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall("relay", [new IrLocal(0)]), new IrCall("after", [new IrLocal(0)])))]));
        functions.Add(new IrFunction("outer_handling", [I64], I64, [],
            [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall("relay_handling", [new IrLocal(0)]), new IrConstI64(100)))]));
        ImmutableArray<IrImport> imports =
            [new IrImport("fail", [I64], I64), new IrImport("after", [I64], I64), new IrImport("relay", [I64], I64), new IrImport("relay_handling", [I64], I64)];
        var builder = new Writer.CacheBuilder(Writer.TargetDescription.LinuxX64);
        IrCompiler.AddTo(builder, new IrModule(imports, [], [.. functions]) { Name = "reentering" });
        var table = new ImportTable().Add("fail", new I64ToI64(host.Fail)).Add("after", new I64ToI64(host.After));
        module = LoadedModule.Load(CacheImage.Read(builder.ToArray()), new LoadOptions { Imports = new ChainedResolver(relay, table) });
        using (module)
        {
            // Thrown two entries deep: the inner Invoke rethrows it inside relay, whose guard carries it to the outer one.
            Assert.Equal(21, Assert.Throws<HostFailure>(() => module.Invoke("outer", Value.I64(21))).Value);
            Assert.Equal(0, host.AfterCalls); // neither f5's after() nor outer's

            Assert.Equal(Expected(3), module.Invoke("outer", Value.I64(3)).AsI64);
            Assert.Equal(2, host.AfterCalls);

            // Handled inside the host function: the outer call goes on normally with what it returned.
            Assert.Equal(-1 + 100, module.Invoke("outer_handling", Value.I64(28)).AsI64);
            Assert.Equal(1, handled);
            Assert.Equal(Expected(4) + 100, module.Invoke("outer_handling", Value.I64(4)).AsI64);
        }
    }

    [Fact]
    public void A_generic_delegate_is_refused_by_the_call_that_registers_it()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImportTable().Add("fail", new Func<long, long>(x => x)));
        Assert.Contains("generic delegate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_guard_stubs_decode_to_the_documented_instructions()
    {
        HostCallGuard.AddressOf(new I64ToI64(x => x)); // makes sure a pool exists
        byte[] page = HostCallGuard.NewestPoolCode.ToArray();
        Assert.Equal(4096, page.Length);

        List<string> Decode(int at, int length)
        {
            var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(page, at, length), (ulong)at);
            var formatter = new IntelFormatter();
            var lines = new List<string>();
            while (decoder.IP < (ulong)(at + length))
            {
                decoder.Decode(out Instruction ins);
                Assert.False(ins.IsInvalid);
                var output = new StringOutput();
                formatter.Format(ins, output);
                lines.Add(output.ToStringAndReset());
            }
            return lines;
        }

        // Stub 3: its slot on the next page, then the common part.
        Assert.Equal(["mov r11,[1018h]", $"jmp {HostCallGuard.CommonOffset:X16}h", "int3", "int3", "int3", "int3"], Decode(3 * HostCallGuard.StubSize, HostCallGuard.StubSize));
        List<string> common = Decode(HostCallGuard.CommonOffset, HostCallGuard.CommonCode.Length);
        Assert.Equal(27, common.Count);
        string[] shape = [.. common.Select(l => l.StartsWith("mov r11,", StringComparison.Ordinal) ? "mov r11,imm64" : l)];
        Assert.Equal(
        [
            "push rbp", "mov rbp,rsp", "call r11", "mov r11,imm64", "cmp qword ptr [r11],0", $"jne short {HostCallGuard.CommonOffset + 25:X16}h", "leave", "ret",
            "sub rsp,10h", "mov [rsp],rax", "movsd [rsp+8],xmm0", "mov r11,imm64", "call r11", "test rax,rax", $"jne short {HostCallGuard.CommonOffset + 69:X16}h",
            "mov rax,[rsp]", "movsd xmm0,[rsp+8]", "leave", "ret",
            "mov rsp,[rax]", "mov rbx,[rax+8]", "mov rbp,[rax+10h]", "mov r12,[rax+18h]", "mov r13,[rax+20h]", "mov r14,[rax+28h]", "mov r15,[rax+30h]", "jmp qword ptr [rax+38h]",
        ], shape);
    }
}
