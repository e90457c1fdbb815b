using System.Globalization;
using System.Numerics;

namespace AotCache.Codegen.Ir;

/// <summary>A value of the IR: an i64, or an f64 kept as its exact bit pattern (NaN payloads included).</summary>
public readonly record struct IrValue(IrType Type, long Bits)
{
    /// <summary>An i64 value.</summary>
    public static IrValue I64(long value) => new(IrType.I64, value);
    /// <summary>An f64 value.</summary>
    public static IrValue F64(double value) => new(IrType.F64, BitConverter.DoubleToInt64Bits(value));
    /// <summary>An f64 value given by its bits (to keep a NaN's payload).</summary>
    public static IrValue F64Bits(long bits) => new(IrType.F64, bits);

    /// <summary>Zero of a type: what locals start as and what a function without <c>return</c> yields.</summary>
    public static IrValue Zero(IrType type) => new(type, 0);

    /// <summary>The value of an i64; an <see cref="InvalidOperationException"/> for an f64.</summary>
    public long AsI64 => Type == IrType.I64 ? Bits : throw new InvalidOperationException($"{this} is not an i64");
    /// <summary>The value of an f64; an <see cref="InvalidOperationException"/> for an i64.</summary>
    public double AsF64 => Type == IrType.F64 ? BitConverter.Int64BitsToDouble(Bits) : throw new InvalidOperationException($"{this} is not an f64");

    /// <inheritdoc/>
    public override string ToString() => Type == IrType.I64
        ? Bits.ToString(CultureInfo.InvariantCulture)
        : $"{BitConverter.Int64BitsToDouble(Bits).ToString("R", CultureInfo.InvariantCulture)} (0x{Bits:x16})";
}

/// <summary>Why the interpreter stopped a program.</summary>
public enum IrTrapKind
{
    /// <summary>The program ran more steps than <see cref="IrInterpreterLimits.MaxSteps"/> (a runaway loop or recursion).</summary>
    OutOfFuel,
    /// <summary>Calls nested deeper than <see cref="IrInterpreterLimits.MaxCallDepth"/> (compiled code would use up its stack).</summary>
    CallDepthExceeded,
}

/// <summary>The interpreter stopped a program that compiled code would not finish (or not finish in
/// reasonable time). The IR itself has no traps: every operation is total (see <see cref="IrModule"/>).</summary>
public sealed class IrTrapException(IrTrapKind kind, string message) : Exception(message)
{
    /// <summary>Why execution stopped.</summary>
    public IrTrapKind Kind { get; } = kind;
}

/// <summary>Resource limits of one <see cref="IrInterpreter.Invoke(string, ReadOnlySpan{IrValue})"/>.</summary>
public sealed record IrInterpreterLimits
{
    /// <summary>Statements executed plus expressions evaluated, per invocation.</summary>
    public long MaxSteps { get; init; } = 10_000_000;

    /// <summary>Nesting of IR calls. The interpreter recurses on the .NET stack, so keep this modest.</summary>
    public int MaxCallDepth { get; init; } = 200;
}

/// <summary>The host side of an import: called with the import's declaration and arguments (typed as
/// declared); returns the result (ignored for an import without one).</summary>
public delegate IrValue IrImportHandler(IrImport import, ReadOnlySpan<IrValue> arguments);

/// <summary>
/// The reference interpreter of the IR: defines what compiled code (<see cref="IrCompiler"/>) must compute,
/// bit for bit. It follows the semantics documented on <see cref="IrModule"/>, which are those of the
/// lowering in <c>FunctionLowering</c>:
/// <list type="bullet">
/// <item>Evaluation is left to right: binary operands, then call arguments in order; statements in order.</item>
/// <item>i64: wrapping add/sub/mul/neg; <c>x/0 = x%0 = 0</c>, <c>x/−1 = −x</c> (so <c>MIN/−1 = MIN</c>),
/// <c>x%−1 = 0</c>; <c>Shl</c>/<c>Shr</c> (arithmetic) take the count modulo 64.</item>
/// <item>f64 arithmetic is SSE2's, NaN payloads included: if the left operand is a NaN the result is that
/// NaN made quiet, else the right one's made quiet, else an invalid operation (0/0, ∞−∞, 0×∞) gives the
/// default NaN <c>0xFFF8000000000000</c>. <c>Neg</c> flips the sign bit only.</item>
/// <item>f64 comparisons are false when either side is NaN, except <c>Ne</c>, which is true.</item>
/// <item><c>F64ToI64</c> is <c>cvttsd2si</c>: truncation, and <c>long.MinValue</c> for NaN and values outside
/// the i64 range. (.NET's own <c>(long)double</c> saturates instead, so it is not used for those.)</item>
/// <item><c>And</c>/<c>Or</c> short-circuit and yield 1 or 0.</item>
/// <item>Locals start at zero; a function that ends without <c>return</c> returns zero; writable globals keep
/// their values across invocations of one interpreter, as they do across calls into one loaded module.</item>
/// </list>
/// Runaway programs throw <see cref="IrTrapException"/> rather than hang (<see cref="IrInterpreterLimits"/>).
/// </summary>
public sealed class IrInterpreter
{
    /// <summary>x86's "real indefinite": the NaN SSE produces for an invalid operation on non-NaN operands.</summary>
    public const long DefaultNaNBits = unchecked((long)0xFFF8_0000_0000_0000);

    private const long QuietBit = 0x0008_0000_0000_0000;

    private readonly IrChecker _checker;
    private readonly Dictionary<string, IrFunction> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IrImport> _imports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _globals = new(StringComparer.Ordinal);
    private readonly Dictionary<IrExpr, IrType> _types = new(ReferenceEqualityComparer.Instance);
    private readonly IrModule _module;
    private readonly IrImportHandler? _host;
    private long _steps;
    private int _depth, _maxDepth;

    /// <param name="host">Called for every call of an import; null: calling an import is an error.</param>
    public IrInterpreter(IrModule module, IrImportHandler? host = null, IrInterpreterLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        _checker = IrChecker.Check(module);
        _module = module;
        _host = host;
        Limits = limits ?? new IrInterpreterLimits();
        foreach (IrFunction f in module.Functions) _functions[f.Name] = f;
        foreach (IrImport i in module.Imports) _imports[i.Name] = i;
        ResetGlobals();
    }

    /// <summary>The step and depth limits a run may not exceed.</summary>
    public IrInterpreterLimits Limits { get; }

    /// <summary>Steps the last <see cref="Invoke(string, ReadOnlySpan{IrValue})"/> took (also when it trapped).</summary>
    public long StepsUsed => _steps;

    /// <summary>The deepest nesting of calls in the last <see cref="Invoke(string, ReadOnlySpan{IrValue})"/> (1: the called function made no calls).</summary>
    public int CallDepthReached => _maxDepth;

    /// <summary>Puts every global back to its initial value, as loading the module afresh would.</summary>
    public void ResetGlobals()
    {
        foreach (IrGlobal g in _module.Globals) _globals[g.Name] = g.InitialBits;
    }

    /// <summary>The current value of a global.</summary>
    public IrValue GetGlobal(string name) => new(_checker.Global(name).Type, _globals[name]);

    /// <summary>Runs function <paramref name="name"/> (see <see cref="Invoke(string, ReadOnlySpan{IrValue})"/>); for C#
    /// before 13, where <c>params</c> takes only arrays.</summary>
    public IrValue? Invoke(string name, params IrValue[] arguments) => Invoke(name, arguments.AsSpan());

    /// <summary>Runs function <paramref name="name"/>; returns its result, or null for a function without one.</summary>
    public IrValue? Invoke(string name, params ReadOnlySpan<IrValue> arguments)
    {
        if (!_functions.TryGetValue(name, out IrFunction? f)) throw new ArgumentException($"the module has no function '{name}'", nameof(name));
        if (arguments.Length != f.Parameters.Length)
            throw new ArgumentException($"'{name}' takes {f.Parameters.Length} arguments, {arguments.Length} given", nameof(arguments));
        var args = new long[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            if (arguments[i].Type != f.Parameters[i])
                throw new ArgumentException($"argument {i} of '{name}' must be {f.Parameters[i]}, not {arguments[i].Type}", nameof(arguments));
            args[i] = arguments[i].Bits;
        }
        _steps = 0;
        _depth = _maxDepth = 0;
        long result = Run(f, args);
        return f.Result is IrType t ? new IrValue(t, result) : null;
    }

    // ---- functions and statements ------------------------------------------------------------

    private long Run(IrFunction f, long[] args)
    {
        if (++_depth > Limits.MaxCallDepth)
            throw new IrTrapException(IrTrapKind.CallDepthExceeded, $"calls nested deeper than {Limits.MaxCallDepth} (in '{f.Name}')");
        _maxDepth = Math.Max(_maxDepth, _depth);
        var frame = new Frame(f, new long[f.LocalCount]);
        args.CopyTo(frame.Locals, 0);
        long result = ExecBlock(frame, f.Body) ? frame.Result : 0; // falling off the end returns zero (0.0 has bits 0)
        _depth--;
        return result;
    }

    private sealed class Frame(IrFunction function, long[] locals)
    {
        public IrFunction Function { get; } = function;
        public long[] Locals { get; } = locals;
        public long Result;
    }

    /// <summary>Runs statements; true when one of them returned.</summary>
    private bool ExecBlock(Frame frame, IReadOnlyList<IrStmt> block)
    {
        foreach (IrStmt s in block)
            if (Exec(frame, s)) return true;
        return false;
    }

    private bool Exec(Frame frame, IrStmt s)
    {
        Step();
        switch (s)
        {
            case IrAssign a:
                frame.Locals[a.Local] = Eval(frame, a.Value);
                return false;
            case IrStoreGlobal g:
                _globals[g.Global] = Eval(frame, g.Value);
                return false;
            case IrIf i:
                return ExecBlock(frame, Eval(frame, i.Condition) != 0 ? i.Then : i.Else);
            case IrWhile w:
                while (Eval(frame, w.Condition) != 0)
                {
                    if (ExecBlock(frame, w.Body)) return true;
                    Step();
                }
                return false;
            case IrReturn r:
                frame.Result = r.Value is null ? 0 : Eval(frame, r.Value);
                return true;
            case IrExprStmt e:
                if (e.Value is IrCall call) Call(frame, call);
                else Eval(frame, e.Value);
                return false;
            default:
                throw new IrException($"{frame.Function.Name}: unknown statement {s.GetType().Name}");
        }
    }

    private void Step()
    {
        if (++_steps > Limits.MaxSteps)
            throw new IrTrapException(IrTrapKind.OutOfFuel, $"the program ran more than {Limits.MaxSteps} steps");
    }

    // ---- expressions: values as raw 64-bit patterns; the checker has fixed every type ---------

    private long Eval(Frame frame, IrExpr e)
    {
        Step();
        switch (e)
        {
            case IrConstI64 c: return c.Value;
            case IrConstF64 c: return BitConverter.DoubleToInt64Bits(c.Value);
            case IrLocal l: return frame.Locals[l.Index];
            case IrLoadGlobal g: return _globals[g.Global];
            case IrUnary u: return Unary(u.Op, TypeOf(frame, u.Operand), Eval(frame, u.Operand));
            case IrBinary b:
            {
                IrType t = TypeOf(frame, b.Left);
                long left = Eval(frame, b.Left);
                long right = Eval(frame, b.Right);
                return t == IrType.I64 ? BinaryI64(b.Op, left, right) : BinaryF64(b.Op, left, right);
            }
            case IrCompare c:
            {
                IrType t = TypeOf(frame, c.Left);
                long left = Eval(frame, c.Left);
                long right = Eval(frame, c.Right);
                bool result = t == IrType.I64 ? Compare(c.Op, left, right) : Compare(c.Op, Double(left), Double(right));
                return result ? 1 : 0;
            }
            case IrLogical g:
            {
                bool left = Eval(frame, g.Left) != 0;
                if (g.Op == IrLogicalOp.And ? !left : left) return left ? 1 : 0;
                return Eval(frame, g.Right) != 0 ? 1 : 0;
            }
            case IrCall call:
                return Call(frame, call);
            default:
                throw new IrException($"{frame.Function.Name}: unknown expression {e.GetType().Name}");
        }
    }

    /// <summary>The checker's answer, remembered per expression node (by reference: records compare by value).</summary>
    private IrType TypeOf(Frame frame, IrExpr e)
    {
        if (!_types.TryGetValue(e, out IrType t)) _types[e] = t = _checker.TypeOf(frame.Function, e);
        return t;
    }

    private long Call(Frame frame, IrCall call)
    {
        var args = new long[call.Arguments.Length];
        for (int i = 0; i < args.Length; i++) args[i] = Eval(frame, call.Arguments[i]);
        if (_functions.TryGetValue(call.Callee, out IrFunction? callee)) return Run(callee, args);

        IrImport import = _imports[call.Callee];
        if (_host is null) throw new InvalidOperationException($"'{call.Callee}' is an import and the interpreter was given no host");
        var values = new IrValue[args.Length];
        for (int i = 0; i < args.Length; i++) values[i] = new IrValue(import.Parameters[i], args[i]);
        IrValue result = _host(import, values);
        if (import.Result is not IrType r) return 0;
        if (result.Type != r) throw new InvalidOperationException($"host function '{import.Name}' returned {result.Type}, declared {r}");
        return result.Bits;
    }

    private static double Double(long bits) => BitConverter.Int64BitsToDouble(bits);

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    private static long Unary(IrUnaryOp op, IrType operandType, long x) => op switch
    {
        IrUnaryOp.Neg when operandType == IrType.I64 => unchecked(-x),
        IrUnaryOp.Neg => x ^ long.MinValue, // the sign bit only, for zeros and NaNs alike
        IrUnaryOp.Not => ~x,
        IrUnaryOp.I64ToF64 => Bits((double)x), // round to nearest, as cvtsi2sd
        IrUnaryOp.F64ToI64 => TruncateToI64(Double(x)),
        _ => throw new IrException($"unknown unary operator {op}"),
    };

    /// <summary><c>cvttsd2si</c>: truncation toward zero; NaN and anything outside [−2⁶³, 2⁶³) give 0x8000000000000000.</summary>
    public static long TruncateToI64(double value) =>
        double.IsNaN(value) || value >= 9223372036854775808.0 || value < -9223372036854775808.0 ? long.MinValue : (long)value;

    private static long BinaryI64(IrBinaryOp op, long x, long y) => op switch
    {
        IrBinaryOp.Add => unchecked(x + y),
        IrBinaryOp.Sub => unchecked(x - y),
        IrBinaryOp.Mul => unchecked(x * y),
        IrBinaryOp.Div => y == 0 ? 0 : y == -1 ? unchecked(-x) : x / y,
        IrBinaryOp.Rem => y == 0 || y == -1 ? 0 : x % y,
        IrBinaryOp.And => x & y,
        IrBinaryOp.Or => x | y,
        IrBinaryOp.Xor => x ^ y,
        IrBinaryOp.Shl => x << (int)(y & 63),
        IrBinaryOp.Shr => x >> (int)(y & 63),
        _ => throw new IrException($"unknown binary operator {op}"),
    };

    /// <summary>SSE2 <c>addsd/subsd/mulsd/divsd xmm(left), xmm(right)</c>, with its NaN rules.</summary>
    public static long BinaryF64(IrBinaryOp op, long left, long right)
    {
        double x = Double(left), y = Double(right);
        if (double.IsNaN(x)) return left | QuietBit;
        if (double.IsNaN(y)) return right | QuietBit;
        double r = op switch
        {
            IrBinaryOp.Add => x + y,
            IrBinaryOp.Sub => x - y,
            IrBinaryOp.Mul => x * y,
            IrBinaryOp.Div => x / y,
            _ => throw new IrException($"{op} does not apply to f64"),
        };
        return double.IsNaN(r) ? DefaultNaNBits : Bits(r);
    }

    // One rule for both types: on doubles the operators are IEEE's, so with a NaN on either side everything but
    // Ne is false (ucomisd and the branches the lowering picks).
    private static bool Compare<T>(IrCompareOp op, T x, T y) where T : IComparisonOperators<T, T, bool> => op switch
    {
        IrCompareOp.Eq => x == y,
        IrCompareOp.Ne => x != y,
        IrCompareOp.Lt => x < y,
        IrCompareOp.Le => x <= y,
        IrCompareOp.Gt => x > y,
        IrCompareOp.Ge => x >= y,
        _ => throw new IrException($"unknown comparison {op}"),
    };
}
