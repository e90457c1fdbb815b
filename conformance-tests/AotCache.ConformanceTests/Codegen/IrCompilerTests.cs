using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.ConformanceTests.Loading;
using AotCache.Loader;
using AotCache.Reader;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Codegen;

public class IrCompilerTests
{
    private static IrExpr L(int i) => new IrLocal(i);
    private static IrExpr C(long v) => new IrConstI64(v);
    private static IrExpr F(double v) => new IrConstF64(v);
    private static IrExpr Bin(IrBinaryOp op, IrExpr a, IrExpr b) => new IrBinary(op, a, b);
    private static IrExpr Cmp(IrCompareOp op, IrExpr a, IrExpr b) => new IrCompare(op, a, b);
    private static IrExpr CallE(string f, params IrExpr[] args) => new IrCall(f, [.. args]);

    /// <summary>fib (recursive), sum of i*x over a loop in f64, a counter in a writable global, and a host import.</summary>
    private static IrModule Sample() => new(
        [new IrImport("host_count", [I64], I64)],
        [new IrGlobal("counter", I64, 100, Writable: true), new IrGlobal("scale", F64, BitConverter.DoubleToInt64Bits(0.5), Writable: false)],
        [
            new IrFunction("fib", [I64], I64, [],
            [
                new IrIf(Cmp(IrCompareOp.Lt, L(0), C(2)), [new IrReturn(L(0))], []),
                new IrReturn(Bin(IrBinaryOp.Add, CallE("fib", Bin(IrBinaryOp.Sub, L(0), C(1))), CallE("fib", Bin(IrBinaryOp.Sub, L(0), C(2))))),
            ]),
            new IrFunction("weighted", [I64, F64], F64, [I64, F64],
            [
                new IrWhile(Cmp(IrCompareOp.Lt, L(2), L(0)),
                [
                    new IrAssign(3, Bin(IrBinaryOp.Add, L(3), Bin(IrBinaryOp.Mul, new IrUnary(IrUnaryOp.I64ToF64, L(2)), L(1)))),
                    new IrAssign(2, Bin(IrBinaryOp.Add, L(2), C(1))),
                ]),
                new IrReturn(Bin(IrBinaryOp.Mul, L(3), new IrLoadGlobal("scale"))),
            ]),
            new IrFunction("bump", [I64], I64, [],
            [
                new IrStoreGlobal("counter", Bin(IrBinaryOp.Add, new IrLoadGlobal("counter"), CallE("host_count", L(0)))),
                new IrReturn(new IrLoadGlobal("counter")),
            ]),
            new IrFunction("divs", [I64, I64], I64, [],
            [
                new IrReturn(Bin(IrBinaryOp.Add, Bin(IrBinaryOp.Mul, Bin(IrBinaryOp.Div, L(0), L(1)), C(1000)), Bin(IrBinaryOp.Rem, L(0), L(1)))),
            ]),
        ]);

    public static TheoryData<ImportCallStyle, GlobalAccessStyle> Styles => new()
    {
        { ImportCallStyle.Thunk, GlobalAccessStyle.RipRelative },
        { ImportCallStyle.Slot, GlobalAccessStyle.Absolute },
        { ImportCallStyle.Mixed, GlobalAccessStyle.Mixed },
    };

    [Theory]
    [MemberData(nameof(Styles))]
    public void Compiled_IR_runs_after_write_and_load(ImportCallStyle imports, GlobalAccessStyle globals)
    {
        byte[] file = IrCompiler.Compile(Sample(), new IrCompileOptions { ImportCalls = imports, GlobalAccess = globals });
        using var image = CacheImage.Read(file, ReadOptions.Full);
        var resolver = new ImportTable().Add("host_count", HostCallbacks.CountingCallbackAddress);
        using var module = LoadedModule.Load(image, new LoadOptions { Imports = resolver });

        Assert.Equal(6765, module.Invoke("fib", Value.I64(20)).AsI64);
        Assert.Equal((0 + 1 + 2 + 3) * 1.5 * 0.5, module.Invoke("weighted", Value.I64(4), Value.F64(1.5)).AsF64);
        Assert.Equal(100 + 1005, module.Invoke("bump", Value.I64(5)).AsI64);
        Assert.Equal(100 + 1005 + 1001, module.Invoke("bump", Value.I64(1)).AsI64); // the writable global persists
        Assert.Equal(3 * 1000 + 2, module.Invoke("divs", Value.I64(17), Value.I64(5)).AsI64);
        Assert.Equal(0, module.Invoke("divs", Value.I64(17), Value.I64(0)).AsI64);
        Assert.Equal(unchecked(long.MinValue * 1000), module.Invoke("divs", Value.I64(long.MinValue), Value.I64(-1)).AsI64);
    }

    [Fact]
    public void Compiling_is_deterministic()
    {
        Assert.Equal(IrCompiler.Compile(Sample()), IrCompiler.Compile(Sample()));
    }

    [Fact]
    public void Ill_typed_IR_is_refused_with_the_function_named()
    {
        var bad = new IrModule([], [], [new IrFunction("f", [I64], I64, [], [new IrReturn(F(1.0))])]);
        var e = Assert.Throws<IrException>(() => IrCompiler.Compile(bad));
        Assert.Contains("f: return value is F64, expected I64", e.Message);
    }
}
