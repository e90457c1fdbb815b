using AotCache.Codegen.Ir;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.Demo;

/// <summary>The demo's functions, in the IR the Iced backend lowers.</summary>
internal static class DemoProgram
{
    private static IrExpr L(int i) => new IrLocal(i);
    private static IrExpr C(long v) => new IrConstI64(v);
    private static IrExpr Bin(IrBinaryOp op, IrExpr a, IrExpr b) => new IrBinary(op, a, b);
    private static IrExpr Cmp(IrCompareOp op, IrExpr a, IrExpr b) => new IrCompare(op, a, b);
    private static IrExpr Call(string f, params IrExpr[] args) => new IrCall(f, [.. args]);

    /// <summary>(function, arguments) the demo runs in the fresh process.</summary>
    public static readonly (string Function, long[] Arguments)[] Runs =
    [
        ("fib", [30]),
        ("collatz_steps", [27]),
        ("leibniz_pi_millionths", [1_000_000]),
        ("main", []),
    ];

    public static IrModule Module() => new(
        [new IrImport("print_i64", [I64], null), new IrImport("labs", [I64], I64)],
        [new IrGlobal("main_calls", I64, 0, Writable: true)],
        [
            // fib(n): the classic doubly recursive one.
            new IrFunction("fib", [I64], I64, [],
            [
                new IrIf(Cmp(IrCompareOp.Lt, L(0), C(2)), [new IrReturn(L(0))], []),
                new IrReturn(Bin(IrBinaryOp.Add, Call("fib", Bin(IrBinaryOp.Sub, L(0), C(1))), Call("fib", Bin(IrBinaryOp.Sub, L(0), C(2))))),
            ]),
            // collatz_steps(n): a while loop with division and remainder.
            new IrFunction("collatz_steps", [I64], I64, [I64],
            [
                new IrWhile(Cmp(IrCompareOp.Gt, L(0), C(1)),
                [
                    new IrIf(Cmp(IrCompareOp.Eq, Bin(IrBinaryOp.Rem, L(0), C(2)), C(0)),
                        [new IrAssign(0, Bin(IrBinaryOp.Div, L(0), C(2)))],
                        [new IrAssign(0, Bin(IrBinaryOp.Add, Bin(IrBinaryOp.Mul, L(0), C(3)), C(1)))]),
                    new IrAssign(1, Bin(IrBinaryOp.Add, L(1), C(1))),
                ]),
                new IrReturn(L(1)),
            ]),
            // leibniz_pi_millionths(terms): f64 arithmetic, pi = 4 * sum (-1)^k / (2k+1), returned as an integer.
            new IrFunction("leibniz_pi_millionths", [I64], I64, [I64, F64, F64],
            [
                new IrAssign(3, new IrConstF64(1.0)),
                new IrWhile(Cmp(IrCompareOp.Lt, L(1), L(0)),
                [
                    new IrAssign(2, Bin(IrBinaryOp.Add, L(2), Bin(IrBinaryOp.Div, L(3),
                        new IrUnary(IrUnaryOp.I64ToF64, Bin(IrBinaryOp.Add, Bin(IrBinaryOp.Mul, L(1), C(2)), C(1)))))),
                    new IrAssign(3, new IrUnary(IrUnaryOp.Neg, L(3))),
                    new IrAssign(1, Bin(IrBinaryOp.Add, L(1), C(1))),
                ]),
                new IrReturn(new IrUnary(IrUnaryOp.F64ToI64, Bin(IrBinaryOp.Mul, L(2), new IrConstF64(4_000_000.0)))),
            ]),
            // main(): calls the others, a host callback and a libc export, and counts its calls in a global.
            new IrFunction("main", [], I64, [],
            [
                new IrStoreGlobal("main_calls", Bin(IrBinaryOp.Add, new IrLoadGlobal("main_calls"), C(1))),
                new IrExprStmt(Call("print_i64", Call("fib", C(20)))),
                new IrExprStmt(Call("print_i64", Call("collatz_steps", C(97)))),
                new IrExprStmt(Call("print_i64", Call("labs", C(-12345)))),
                new IrReturn(new IrLoadGlobal("main_calls")),
            ]),
        ])
    {
        Name = "demo",
    };
}
