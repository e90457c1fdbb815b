using System.Runtime.InteropServices;
using AotCache.Codegen;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.Linking;
using AotCache.Reader;
using AotCache.Writer;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace AotCache.ConformanceTests.Loading;

/// <summary>
/// Lenient loading that never runs on made-up values (FORMAT.md §16.5): a call into a refused function never returns
/// to its caller, registers and an odd stack survive the refusal stub, and a compiler can give a refused function a
/// body on its first call, which then continues the original call.
/// </summary>
public sealed class LenientTests
{
    private static readonly Signature TwoToOne = Signature.SysV([ScalarType.I64, ScalarType.I64], [ScalarType.I64]);
    private static readonly Signature None = Signature.SysV([], [ScalarType.I64]);
    private static readonly Signature OldLeaf = Signature.SysV([ScalarType.I64], [ScalarType.I64]);

    /// <summary>
    /// leaf(a, b) = a − b, whose signature changed; mid(a, b) calls leaf compiled against the old one (stale: refused in
    /// lenient mode); outer() calls mid with the stack 8 bytes off the ABI's 16 and live values in r8–r11 and
    /// xmm1–xmm15 that it checks afterwards (1 when all survived, else 0, plus 1000 × mid's result); after_refusal()
    /// calls mid and then sets `flag`, which a refused call must never let it reach.
    /// </summary>
    private static byte[] Module()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "lenient" };
        b.AddData("flag", DataKind.Writable, new byte[8]);
        b.AddFunction("leaf", new FunctionBody([0x48, 0x89, 0xF8, 0x48, 0x29, 0xF0, 0xC3], TwoToOne)); // mov rax, rdi; sub rax, rsi; ret
        SymbolHandle mid = b.DeclareFunction("mid", b.AddDeclaration(TwoToOne));
        var fa = new FunctionAssembler(b);
        fa.Asm.sub(rsp, 8);
        fa.Call("leaf", OldLeaf.Hash); // compiled against leaf(i64) -> i64: stale [LOAD-5]
        fa.Asm.add(rsp, 8);
        fa.Asm.ret();
        b.DefineFunction(mid, fa.Finish(TwoToOne));

        fa = new FunctionAssembler(b);
        Assembler a = fa.Asm;
        a.push(rbx);
        a.sub(rsp, 8);                        // rsp ≡ 8 (mod 16) at the call below: off by 8
        a.mov(r8, 0x1111); a.mov(r9, 0x2222); a.mov(r10, 0x3333); a.mov(r11, 0x4444);
        for (int x = 1; x < 16; x++)
        {
            a.mov(rax, 0x100 + x);
            a.movq(Xmm(x), rax);
        }
        a.mov(rdi, 50); a.mov(rsi, 8);
        fa.Call("mid");
        a.imul(rbx, rax, 1000);
        Label bad = a.CreateLabel(), done = a.CreateLabel();
        a.cmp(r8, 0x1111); a.jne(bad);
        a.cmp(r9, 0x2222); a.jne(bad);
        a.cmp(r10, 0x3333); a.jne(bad);
        a.cmp(r11, 0x4444); a.jne(bad);
        for (int x = 1; x < 16; x++)
        {
            a.movq(rax, Xmm(x));
            a.cmp(rax, 0x100 + x);
            a.jne(bad);
        }
        a.lea(rax, __[rbx + 1]);
        a.jmp(done);
        a.Label(ref bad);
        a.mov(rax, rbx);
        a.Label(ref done);
        a.add(rsp, 8);
        a.pop(rbx);
        a.ret();
        b.AddFunction("outer", fa.Finish(None));

        fa = new FunctionAssembler(b);
        fa.Asm.sub(rsp, 8);
        fa.Asm.mov(rdi, 1); fa.Asm.mov(rsi, 2);
        fa.Call("mid");
        fa.DataAccess(Instruction.Create(Code.Mov_rm64_imm32, FunctionAssembler.RipOperand(), 1), "flag"); // never reached
        fa.Asm.add(rsp, 8);
        fa.Asm.ret();
        b.AddFunction("after_refusal", fa.Finish(None));
        return b.ToArray();
    }

    private static AssemblerRegisterXMM Xmm(int n) => new((Register)((int)Register.XMM0 + n));

    /// <summary>mid's new body: a + b (lea rax, [rdi + rsi]; ret): touches nothing but rax.</summary>
    private static FunctionBody Sum => new([0x48, 0x8D, 0x04, 0x37, 0xC3], TwoToOne);

    private static LoadOptions Lenient(LinkMode mode, Func<RefusedFunction, FunctionBody?>? compiler = null) =>
        new() { StalePolicy = StalePolicy.Lenient, LinkMode = mode, CompileOnCall = compiler };

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void LOAD_9_a_call_into_a_refused_function_never_returns_to_its_caller(LinkMode mode)
    {
        using CacheImage image = CacheImage.Read(Module());
        using LoadedModule module = LoadedModule.Load(image, Lenient(mode));
        Assert.Equal("mid", Assert.Single(module.RefusedFunctions).Name);
        var e = Assert.Throws<AotCacheException>(() => module.Invoke("after_refusal"));
        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        Assert.Contains("'mid'", e.Message);
        Assert.Equal(0, Marshal.ReadInt64(module.GetSymbolAddress("flag"))); // the instruction after the call never ran
        // The module is still usable: calls that reach no refused function run.
        Assert.Equal(7, module.Invoke("leaf", Value.I64(10), Value.I64(3)).AsI64);
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void LOAD_8_the_stub_realigns_the_stack_and_keeps_every_register_a_caller_could_rely_on(LinkMode mode)
    {
        using CacheImage image = CacheImage.Read(Module());
        using LoadedModule module = LoadedModule.Load(image, Lenient(mode, _ => Sum));
        // outer calls mid with the stack off by 8 and live r8–r11, xmm1–15: mid is compiled on that call, the call
        // continues into the new body with its arguments, and every live value survives.
        Assert.Equal(58 * 1000 + 1, module.Invoke("outer").AsI64);
        Assert.Equal(["mid"], module.CompiledOnCall);
        // Later calls go through the stub's slot straight to the body.
        Assert.Equal(58 * 1000 + 1, module.Invoke("outer").AsI64);
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void Compile_on_call_continues_the_original_call_and_compiles_once_for_concurrent_first_calls(LinkMode mode)
    {
        using CacheImage image = CacheImage.Read(Module());
        int compiles = 0;
        using var ready = new ManualResetEventSlim();
        using LoadedModule module = LoadedModule.Load(image, Lenient(mode, refused =>
        {
            Assert.Equal("mid", refused.Name);
            Interlocked.Increment(ref compiles);
            ready.Wait(); // hold the first compile until every thread has reached the stub
            return Sum;
        }));
        const int threads = 4;
        using var arrived = new CountdownEvent(threads);
        var results = new long[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            arrived.Signal();
            results[t] = module.Invoke("mid", Value.I64(t), Value.I64(100)).AsI64;
        })).ToList();
        workers.ForEach(w => w.Start());
        arrived.Wait();
        ready.Set();
        workers.ForEach(w => w.Join());
        Assert.Equal(1, compiles);
        Assert.Equal(Enumerable.Range(0, threads).Select(t => t + 100L), results);
        Assert.Equal(1 + 2, module.Invoke("after_refusal").AsI64 - 0); // mid(1, 2) = 3 now, and the flag is set
        Assert.Equal(1, Marshal.ReadInt64(module.GetSymbolAddress("flag")));
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void A_compiler_that_fails_or_returns_another_signature_leaves_the_call_refused(LinkMode mode)
    {
        using CacheImage image = CacheImage.Read(Module());
        using (LoadedModule throwing = LoadedModule.Load(image, Lenient(mode, _ => throw new InvalidOperationException("no"))))
            Assert.Equal(ErrorCode.StaleCaller, Assert.Throws<AotCacheException>(() => throwing.Invoke("after_refusal")).Code);
        using (LoadedModule wrongType = LoadedModule.Load(image, Lenient(mode, _ => new FunctionBody([0xC3], None))))
            Assert.Equal(ErrorCode.StaleCaller, Assert.Throws<AotCacheException>(() => wrongType.Invoke("after_refusal")).Code);
        using LoadedModule nothing = LoadedModule.Load(image, Lenient(mode, _ => null));
        Assert.Equal(ErrorCode.StaleCaller, Assert.Throws<AotCacheException>(() => nothing.Invoke("after_refusal")).Code);
        Assert.Empty(nothing.CompiledOnCall);
    }

    private static LoadedModule? s_nested;

    [UnmanagedCallersOnly]
    private static long CallRefusedAndCatch()
    {
        try
        {
            return s_nested!.Invoke("after_refusal").AsI64;
        }
        catch (AotCacheException)
        {
            return 100; // the inner entry reported the refusal; control is back in this callback
        }
    }

    [Fact]
    public void LOAD_9_a_refusal_under_a_host_callback_goes_back_to_the_innermost_entry_only()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "nested" };
        b.AddData("flag", DataKind.Writable, new byte[8]);
        b.AddImportFunction("host", b.AddDeclaration(None));
        b.AddFunction("leaf", new FunctionBody([0x48, 0x89, 0xF8, 0x48, 0x29, 0xF0, 0xC3], TwoToOne));
        var fa = new FunctionAssembler(b);
        fa.Asm.sub(rsp, 8);
        fa.Call("leaf", OldLeaf.Hash);
        fa.Asm.add(rsp, 8);
        fa.Asm.ret();
        b.AddFunction("mid", fa.Finish(TwoToOne));
        fa = new FunctionAssembler(b);
        fa.Asm.sub(rsp, 8);
        fa.Asm.mov(rdi, 1); fa.Asm.mov(rsi, 2);
        fa.Call("mid");
        fa.DataAccess(Instruction.Create(Code.Mov_rm64_imm32, FunctionAssembler.RipOperand(), 1), "flag");
        fa.Asm.add(rsp, 8);
        fa.Asm.ret();
        b.AddFunction("after_refusal", fa.Finish(None));
        // outer() = host() + 1: the host calls back into the module, which reaches the refused function.
        fa = new FunctionAssembler(b);
        fa.Asm.sub(rsp, 8);
        fa.Call("host");
        fa.Asm.add(rax, 1);
        fa.Asm.add(rsp, 8);
        fa.Asm.ret();
        b.AddFunction("outer", fa.Finish(None));
        using CacheImage image = CacheImage.Read(b.ToArray());
        unsafe
        {
            var imports = new ImportTable().Add("host", (nint)(delegate* unmanaged<long>)&CallRefusedAndCatch, None);
            using LoadedModule module = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient, Imports = imports });
            s_nested = module;
            Assert.Equal(101, module.Invoke("outer").AsI64); // the outer call went on normally after the callback
            Assert.Equal(0, Marshal.ReadInt64(module.GetSymbolAddress("flag")));
            s_nested = null;
        }
    }

    /// <summary>A number as Iced's Intel formatter writes it: decimal below 10, else hex with an h (and a 0 before a letter).</summary>
    private static string Hex(int value)
    {
        if (value < 10) return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string hex = value.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        return (char.IsAsciiLetter(hex[0]) ? "0" : "") + hex + "h";
    }

    [Fact]
    public void LOAD_8_the_refusal_stubs_decode_to_the_documented_instructions()
    {
        var memory = new byte[StubCode.StubSize + StubCode.CommonSize];
        StubCode.WriteStub(memory, 0, 7, slotAt: 0x1000, commonAt: StubCode.StubSize);
        StubCode.WriteCommon(memory, StubCode.StubSize, handlerSlotAt: 0x2000, moduleId: 0x1234);
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(memory));
        var formatter = new IntelFormatter();
        var lines = new List<string>();
        while (decoder.IP < (ulong)memory.Length)
        {
            decoder.Decode(out Instruction ins);
            Assert.False(ins.IsInvalid, $"invalid instruction at {ins.IP:x}");
            if (ins.Code == Code.Int3) break; // padding after the last instruction
            var output = new StringOutput();
            formatter.Format(ins, output);
            lines.Add(output.ToStringAndReset());
        }
        string[] gprs = ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"];
        var expected = new List<string>
        {
            "jmp qword ptr [1000h]", "push 7", "jmp 0000000000000010h",
            "push rbp", "mov rbp,rsp", "and rsp,0FFFFFFFFFFFFFFF0h", "sub rsp,150h",
        };
        for (int i = 0; i < gprs.Length; i++) expected.Add($"mov [rsp{(i == 0 ? "" : "+" + Hex(8 * i))}],{gprs[i]}");
        for (int x = 0; x < 16; x++) expected.Add($"movups [rsp+{Hex(0x50 + 16 * x)}],xmm{x}");
        expected.AddRange(["mov rdi,1234h", "mov rsi,[rbp+8]", "call qword ptr [2000h]", "test rax,rax"]);
        int jz = expected.Count;
        expected.Add("je"); // checked by prefix below
        expected.Add("mov [rbp+8],rax");
        for (int x = 15; x >= 0; x--) expected.Add($"movups xmm{x},[rsp+{Hex(0x50 + 16 * x)}]");
        for (int i = gprs.Length - 1; i >= 0; i--) expected.Add($"mov {gprs[i]},[rsp{(i == 0 ? "" : "+" + Hex(8 * i))}]");
        expected.AddRange(["mov rsp,rbp", "pop rbp", "ret",
            "mov rsp,[rdx]", "mov rbx,[rdx+8]", "mov rbp,[rdx+10h]", "mov r12,[rdx+18h]", "mov r13,[rdx+20h]", "mov r14,[rdx+28h]", "mov r15,[rdx+30h]",
            "jmp qword ptr [rdx+38h]"]);
        Assert.Equal(expected.Count, lines.Count);
        for (int i = 0; i < expected.Count; i++)
            if (i == jz) Assert.StartsWith("je ", lines[i]);
            else Assert.Equal(expected[i], lines[i]);
    }
}
