using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Loader;
using AotCache.Reader;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>Issue 3: the reference interpreter's semantics at the edges, each checked against the IR's
/// documented rules and against compiled code loaded in this process.</summary>
public class IrInterpreterTests
{
    private static IrExpr L(int i) => new IrLocal(i);
    private static IrExpr C(long v) => new IrConstI64(v);
    private static IrExpr F(double v) => new IrConstF64(v);

    private static readonly long[] EdgeI64 = [0, 1, -1, 2, -2, 5, -7, 63, 64, 65, -64, long.MinValue, long.MaxValue, long.MinValue + 1, int.MinValue];

    private static readonly double[] EdgeF64 =
    [
        0.0, -0.0, 1.0, -2.5, 0.5, 1e300, -1e300, double.Epsilon, double.PositiveInfinity, double.NegativeInfinity, double.NaN,
        BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0042), BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001),
        9223372036854775808.0, -9223372036854775808.0, 9.2233720368547748E+18, -9.2233720368547758E+18 - 4096, 2.9, -2.9,
    ];

    /// <summary>One function per operator, over its parameters.</summary>
    private static IrModule Operators()
    {
        var functions = new List<IrFunction>();
        foreach (IrBinaryOp op in Enum.GetValues<IrBinaryOp>())
        {
            functions.Add(new IrFunction($"i_{op}", [I64, I64], I64, [], [new IrReturn(new IrBinary(op, L(0), L(1)))]));
            if (op <= IrBinaryOp.Div)
                functions.Add(new IrFunction($"f_{op}", [F64, F64], F64, [], [new IrReturn(new IrBinary(op, L(0), L(1)))]));
        }
        foreach (IrCompareOp op in Enum.GetValues<IrCompareOp>())
        {
            functions.Add(new IrFunction($"ic_{op}", [I64, I64], I64, [], [new IrReturn(new IrCompare(op, L(0), L(1)))]));
            functions.Add(new IrFunction($"fc_{op}", [F64, F64], I64, [], [new IrReturn(new IrCompare(op, L(0), L(1)))]));
        }
        functions.Add(new IrFunction("i_neg", [I64], I64, [], [new IrReturn(new IrUnary(IrUnaryOp.Neg, L(0)))]));
        functions.Add(new IrFunction("i_not", [I64], I64, [], [new IrReturn(new IrUnary(IrUnaryOp.Not, L(0)))]));
        functions.Add(new IrFunction("i_tof", [I64], F64, [], [new IrReturn(new IrUnary(IrUnaryOp.I64ToF64, L(0)))]));
        functions.Add(new IrFunction("f_neg", [F64], F64, [], [new IrReturn(new IrUnary(IrUnaryOp.Neg, L(0)))]));
        functions.Add(new IrFunction("f_toi", [F64], I64, [], [new IrReturn(new IrUnary(IrUnaryOp.F64ToI64, L(0)))]));
        return new IrModule([], [], [.. functions]);
    }

    [Fact]
    public void ISSUE_3_interpreter_and_compiled_code_agree_bit_for_bit_on_every_operator_at_edge_values()
    {
        IrModule module = Operators();
        using var image = CacheImage.Read(IrCompiler.Compile(module), ReadOptions.Full);
        using var loaded = LoadedModule.Load(image);
        var interpreter = new IrInterpreter(module);
        int compared = 0;
        foreach (IrFunction f in module.Functions)
        {
            IEnumerable<IrValue> Values(IrType t) => t == I64 ? EdgeI64.Select(IrValue.I64) : EdgeF64.Select(IrValue.F64);
            IEnumerable<IrValue[]> argumentSets = f.Parameters.Length == 1
                ? Values(f.Parameters[0]).Select(v => new[] { v })
                : Values(f.Parameters[0]).SelectMany(a => Values(f.Parameters[1]).Select(b => new[] { a, b }));
            foreach (IrValue[] args in argumentSets)
            {
                IrValue expected = interpreter.Invoke(f.Name, args)!.Value;
                Value actual = loaded.Invoke(f.Name, [.. args.Select(a => new Value(IrCompiler.ToScalarType(a.Type), a.Bits))]);
                Assert.True(expected.Bits == actual.Bits,
                    $"{f.Name}({string.Join(", ", args)}): interpreter {expected}, compiled {actual} (0x{actual.Bits:x16})");
                compared++;
            }
        }
        Assert.True(compared > 3000, $"only {compared} cases");
    }

    [Fact]
    public void ISSUE_3_division_is_total_as_the_IR_defines_it()
    {
        var interpreter = new IrInterpreter(Operators());
        long Div(long a, long b) => interpreter.Invoke("i_Div", IrValue.I64(a), IrValue.I64(b))!.Value.AsI64;
        long Rem(long a, long b) => interpreter.Invoke("i_Rem", IrValue.I64(a), IrValue.I64(b))!.Value.AsI64;
        Assert.Equal(3, Div(17, 5));
        Assert.Equal(-3, Div(-17, 5));
        Assert.Equal(-2, Rem(-17, 5));
        Assert.Equal(0, Div(17, 0));
        Assert.Equal(0, Rem(17, 0));
        Assert.Equal(long.MinValue, Div(long.MinValue, -1));
        Assert.Equal(0, Rem(long.MinValue, -1));
        Assert.Equal(-42, Div(42, -1));
    }

    [Fact]
    public void ISSUE_3_shifts_mask_the_count_and_F64ToI64_is_cvttsd2si()
    {
        var interpreter = new IrInterpreter(Operators());
        long Call(string f, long a, long b) => interpreter.Invoke(f, IrValue.I64(a), IrValue.I64(b))!.Value.AsI64;
        long ToI64(double d) => interpreter.Invoke("f_toi", IrValue.F64(d))!.Value.AsI64;
        Assert.Equal(2, Call("i_Shl", 1, 65));
        Assert.Equal(long.MinValue, Call("i_Shl", 1, -1));
        Assert.Equal(-4, Call("i_Shr", -8, 1));
        Assert.Equal(-1, Call("i_Shr", long.MinValue, 63));
        Assert.Equal(long.MinValue, ToI64(double.NaN));
        Assert.Equal(long.MinValue, ToI64(1e19));       // .NET's own (long)1e19 saturates to MaxValue
        Assert.Equal(long.MinValue, ToI64(-1e19));
        Assert.Equal(long.MinValue, ToI64(9223372036854775808.0));
        Assert.Equal(9223372036854774784, ToI64(9.2233720368547748E+18));
        Assert.Equal(-2, ToI64(-2.9));
    }

    [Fact]
    public void ISSUE_3_f64_follows_SSE_NaN_rules_and_comparisons_with_NaN_are_false_except_Ne()
    {
        var interpreter = new IrInterpreter(Operators());
        long Bits(string f, double a, double b) => interpreter.Invoke(f, IrValue.F64(a), IrValue.F64(b))!.Value.Bits;
        double signalling = BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001);
        double payload = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0042);
        Assert.Equal(IrInterpreter.DefaultNaNBits, Bits("f_Div", 0.0, 0.0));
        Assert.Equal(IrInterpreter.DefaultNaNBits, Bits("f_Sub", double.PositiveInfinity, double.PositiveInfinity));
        Assert.Equal(0x7FF8_0000_0000_0001, Bits("f_Add", signalling, payload));   // the left NaN, made quiet
        Assert.Equal(0x7FF8_0000_0000_0042, Bits("f_Mul", 1.0, payload));
        Assert.Equal(long.MinValue, interpreter.Invoke("f_neg", IrValue.F64(0.0))!.Value.Bits);               // −0.0: the sign bit only
        Assert.Equal(unchecked((long)0xFFF8_0000_0000_0042), interpreter.Invoke("f_neg", IrValue.F64(payload))!.Value.Bits);
        foreach (IrCompareOp op in Enum.GetValues<IrCompareOp>())
            Assert.Equal(op == IrCompareOp.Ne ? 1 : 0, Bits($"fc_{op}", double.NaN, 1.0));
        Assert.Equal(1, Bits("fc_Eq", 0.0, -0.0));
    }

    [Fact]
    public void ISSUE_3_logic_short_circuits_locals_start_at_zero_and_falling_off_the_end_returns_zero()
    {
        var module = new IrModule([new IrImport("count", [I64], I64)], [],
        [
            new IrFunction("and", [I64], I64, [], [new IrReturn(new IrLogical(IrLogicalOp.And, L(0), new IrCall("count", [C(1)])))]),
            new IrFunction("or", [I64], I64, [], [new IrReturn(new IrLogical(IrLogicalOp.Or, L(0), new IrCall("count", [C(0)])))]),
            new IrFunction("local", [], F64, [F64], [new IrReturn(L(0))]),
            new IrFunction("none", [I64], F64, [], [new IrIf(L(0), [new IrReturn(F(2.5))], [])]),
        ]);
        int calls = 0;
        var interpreter = new IrInterpreter(module, (import, args) => { calls++; return IrValue.I64(args[0].Bits); });
        Assert.Equal(0, interpreter.Invoke("and", IrValue.I64(0))!.Value.AsI64);
        Assert.Equal(0, calls);
        Assert.Equal(1, interpreter.Invoke("and", IrValue.I64(-5))!.Value.AsI64);
        Assert.Equal(1, calls);
        Assert.Equal(1, interpreter.Invoke("or", IrValue.I64(7))!.Value.AsI64);
        Assert.Equal(1, calls);
        Assert.Equal(0, interpreter.Invoke("or", IrValue.I64(0))!.Value.AsI64);
        Assert.Equal(2, calls);
        Assert.Equal(0L, interpreter.Invoke("local")!.Value.Bits);
        Assert.Equal(0L, interpreter.Invoke("none", IrValue.I64(0))!.Value.Bits);
        Assert.Equal(2.5, interpreter.Invoke("none", IrValue.I64(1))!.Value.AsF64);
    }

    [Fact]
    public void ISSUE_3_writable_globals_persist_across_invocations_until_reset()
    {
        var module = new IrModule([], [new IrGlobal("n", I64, 40, Writable: true)],
        [
            new IrFunction("bump", [], I64, [], [new IrStoreGlobal("n", new IrBinary(IrBinaryOp.Add, new IrLoadGlobal("n"), C(1))), new IrReturn(new IrLoadGlobal("n"))]),
        ]);
        var interpreter = new IrInterpreter(module);
        Assert.Equal(41, interpreter.Invoke("bump")!.Value.AsI64);
        Assert.Equal(42, interpreter.Invoke("bump")!.Value.AsI64);
        Assert.Equal(42, interpreter.GetGlobal("n").AsI64);
        interpreter.ResetGlobals();
        Assert.Equal(40, interpreter.GetGlobal("n").AsI64);
    }

    [Fact]
    public void ISSUE_3_runaway_loops_and_recursion_throw_a_typed_trap_instead_of_hanging()
    {
        var module = new IrModule([], [],
        [
            new IrFunction("spin", [], I64, [I64], [new IrWhile(C(1), [new IrAssign(0, new IrBinary(IrBinaryOp.Add, L(0), C(1)))])]),
            new IrFunction("dive", [I64], I64, [], [new IrReturn(new IrCall("dive", [L(0)]))]),
        ]);
        var interpreter = new IrInterpreter(module, limits: new IrInterpreterLimits { MaxSteps = 100_000, MaxCallDepth = 50 });
        Assert.Equal(IrTrapKind.OutOfFuel, Assert.Throws<IrTrapException>(() => interpreter.Invoke("spin")).Kind);
        Assert.True(interpreter.StepsUsed > 100_000);
        Assert.Equal(IrTrapKind.CallDepthExceeded, Assert.Throws<IrTrapException>(() => interpreter.Invoke("dive", IrValue.I64(1))).Kind);
    }

    [Fact]
    public void ISSUE_3_the_interpreter_refuses_ill_typed_modules_and_arguments()
    {
        var bad = new IrModule([], [], [new IrFunction("f", [I64], I64, [], [new IrReturn(F(1.0))])]);
        Assert.Throws<IrException>(() => new IrInterpreter(bad));
        var interpreter = new IrInterpreter(Operators());
        Assert.Throws<ArgumentException>(() => interpreter.Invoke("i_neg", IrValue.F64(1.0)));
        Assert.Throws<ArgumentException>(() => interpreter.Invoke("missing"));
    }
}
