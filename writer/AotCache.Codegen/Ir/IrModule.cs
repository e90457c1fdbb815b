using System.Collections.Immutable;

namespace AotCache.Codegen.Ir;

/// <summary>The two value types of the IR.</summary>
public enum IrType
{
    /// <summary>A 64-bit two's-complement integer (also truth values and pointers).</summary>
    I64,
    /// <summary>An IEEE 754 double.</summary>
    F64,
}

/// <summary>
/// A module of the small typed IR: host imports, globals (data objects) and functions. The semantics
/// are total (no undefined behaviour), so the reference interpreter (<see cref="IrInterpreter"/>) and compiled code
/// must agree, bit for bit, on every input:
/// <list type="bullet">
/// <item>i64 arithmetic wraps; <c>x / 0 == 0</c>, <c>x % 0 == 0</c>, <c>MIN / -1 == MIN</c>, <c>MIN % -1 == 0</c>;
/// shift counts are taken modulo 64; <c>Shr</c> is arithmetic.</item>
/// <item>f64 follows IEEE 754 (round to nearest) with SSE2's NaN results (the left operand's NaN, quieted, then the
/// right one's, else the default NaN 0xFFF8000000000000); comparisons with NaN are false except <c>Ne</c>;
/// <c>F64ToI64</c> truncates toward zero and gives <c>long.MinValue</c> for NaN and out-of-range values
/// (x86 <c>cvttsd2si</c>); <c>I64ToF64</c> rounds to nearest.</item>
/// <item>Comparisons yield i64 1 or 0; a condition is true when non-zero.</item>
/// <item>A function that ends without <c>return</c> returns 0 (or 0.0).</item>
/// <item>Locals start at zero; writable globals keep their values across calls for the life of a loaded module.</item>
/// </list>
/// </summary>
public sealed record IrModule(ImmutableArray<IrImport> Imports, ImmutableArray<IrGlobal> Globals, ImmutableArray<IrFunction> Functions)
{
    /// <summary>The module's name, written to the cache file's header.</summary>
    public string Name { get; init; } = "module";
}

/// <summary>A host function. <paramref name="Result"/> null: no result.</summary>
public sealed record IrImport(string Name, ImmutableArray<IrType> Parameters, IrType? Result);

/// <summary>A global: a data object of 8 bytes, read-only or writable, with an initial value.</summary>
public sealed record IrGlobal(string Name, IrType Type, long InitialBits, bool Writable);

/// <summary>
/// A function. Locals 0..n-1 are the parameters; <paramref name="Locals"/> lists the types of the
/// further locals. At most 6 i64 and 8 f64 parameters (all in registers under System V).
/// </summary>
public sealed record IrFunction(
    string Name,
    ImmutableArray<IrType> Parameters,
    IrType? Result,
    ImmutableArray<IrType> Locals,
    ImmutableArray<IrStmt> Body,
    bool Exported = true)
{
    /// <summary>Type of local <paramref name="index"/> (parameters first).</summary>
    public IrType LocalType(int index) => index < Parameters.Length ? Parameters[index] : Locals[index - Parameters.Length];

    /// <summary>Number of locals, parameters included.</summary>
    public int LocalCount => Parameters.Length + Locals.Length;
}

// ---- statements -----------------------------------------------------------------------------

/// <summary>A statement of a function body.</summary>
public abstract record IrStmt;

/// <summary><c>local[Local] = Value</c>.</summary>
public sealed record IrAssign(int Local, IrExpr Value) : IrStmt;

/// <summary><c>global = Value</c>; the global must be writable.</summary>
public sealed record IrStoreGlobal(string Global, IrExpr Value) : IrStmt;

/// <summary>Runs <paramref name="Then"/> when <paramref name="Condition"/> (i64) is non-zero, else <paramref name="Else"/>.</summary>
/// <param name="Condition">An i64 truth value.</param>
/// <param name="Then">The statements run when it is non-zero.</param>
/// <param name="Else">The statements run when it is zero (may be empty).</param>
public sealed record IrIf(IrExpr Condition, ImmutableArray<IrStmt> Then, ImmutableArray<IrStmt> Else) : IrStmt;

/// <summary>Runs <paramref name="Body"/> while <paramref name="Condition"/> (i64) is non-zero.</summary>
/// <param name="Condition">An i64 truth value, evaluated before each iteration.</param>
/// <param name="Body">The loop's statements.</param>
public sealed record IrWhile(IrExpr Condition, ImmutableArray<IrStmt> Body) : IrStmt;

/// <summary>Returns <paramref name="Value"/> (null for a function without result).</summary>
public sealed record IrReturn(IrExpr? Value) : IrStmt;

/// <summary>Evaluates an expression for its effects (a call) and drops the value.</summary>
public sealed record IrExprStmt(IrExpr Value) : IrStmt;

// ---- expressions ----------------------------------------------------------------------------

/// <summary>An expression; every expression has one <see cref="IrType"/>.</summary>
public abstract record IrExpr;

/// <summary>An i64 constant.</summary>
/// <param name="Value">The constant.</param>
public sealed record IrConstI64(long Value) : IrExpr;

/// <summary>An f64 constant.</summary>
/// <param name="Value">The constant.</param>
public sealed record IrConstF64(double Value) : IrExpr;

/// <summary>The value of a local (parameters first).</summary>
/// <param name="Index">The local's index.</param>
public sealed record IrLocal(int Index) : IrExpr;

/// <summary>The value of a global.</summary>
/// <param name="Global">The global's name.</param>
public sealed record IrLoadGlobal(string Global) : IrExpr;

/// <summary>Operators of <see cref="IrUnary"/>.</summary>
public enum IrUnaryOp
{
    /// <summary>i64 or f64 negation (f64: flips the sign bit).</summary>
    Neg,
    /// <summary>i64 bitwise not.</summary>
    Not,
    /// <summary>i64 to f64, rounding to nearest.</summary>
    I64ToF64,
    /// <summary>f64 to i64, truncating toward zero; NaN and out-of-range values give <c>long.MinValue</c>.</summary>
    F64ToI64,
}

/// <summary>A unary operation.</summary>
/// <param name="Op">The operator.</param>
/// <param name="Operand">The operand.</param>
public sealed record IrUnary(IrUnaryOp Op, IrExpr Operand) : IrExpr;

/// <summary>Operators of <see cref="IrBinary"/>.</summary>
public enum IrBinaryOp
{
    /// <summary>Addition (i64 wraps).</summary>
    Add,
    /// <summary>Subtraction (i64 wraps).</summary>
    Sub,
    /// <summary>Multiplication (i64 wraps).</summary>
    Mul,
    /// <summary>Division: i64 truncates, <c>x / 0 == 0</c> and <c>MIN / -1 == MIN</c>; f64 is IEEE 754.</summary>
    Div,
    /// <summary>i64 only.</summary>
    Rem,
    /// <summary>i64 only.</summary>
    And,
    /// <summary>i64 only.</summary>
    Or,
    /// <summary>i64 only.</summary>
    Xor,
    /// <summary>i64 only.</summary>
    Shl,
    /// <summary>i64 only, arithmetic.</summary>
    Shr,
}

/// <summary>Both operands have the same type, which is the result's.</summary>
public sealed record IrBinary(IrBinaryOp Op, IrExpr Left, IrExpr Right) : IrExpr;

/// <summary>Operators of <see cref="IrCompare"/>; with an f64 NaN operand only <see cref="IrCompareOp.Ne"/> is true.</summary>
public enum IrCompareOp
{
    /// <summary>Equal.</summary>
    Eq,
    /// <summary>Not equal.</summary>
    Ne,
    /// <summary>Less than (signed for i64).</summary>
    Lt,
    /// <summary>Less than or equal (signed for i64).</summary>
    Le,
    /// <summary>Greater than (signed for i64).</summary>
    Gt,
    /// <summary>Greater than or equal (signed for i64).</summary>
    Ge,
}

/// <summary>Both operands have the same type; the result is i64 1 or 0.</summary>
public sealed record IrCompare(IrCompareOp Op, IrExpr Left, IrExpr Right) : IrExpr;

/// <summary>Operators of <see cref="IrLogical"/>.</summary>
public enum IrLogicalOp
{
    /// <summary>Short-circuit and.</summary>
    And,
    /// <summary>Short-circuit or.</summary>
    Or,
}

/// <summary>Short-circuit logic on i64 truth values: <c>And</c> evaluates <paramref name="Right"/> only when
/// <paramref name="Left"/> is non-zero, <c>Or</c> only when it is zero. The result is i64 1 or 0.</summary>
public sealed record IrLogical(IrLogicalOp Op, IrExpr Left, IrExpr Right) : IrExpr;

/// <summary>Calls a function of the module or an import, by name. A call to a function without a result
/// is only allowed as an <see cref="IrExprStmt"/>.</summary>
public sealed record IrCall(string Callee, ImmutableArray<IrExpr> Arguments) : IrExpr;
