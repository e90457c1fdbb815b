namespace AotCache.Codegen.Ir;

/// <summary>An IR module that breaks the IR's typing or shape rules.</summary>
public sealed class IrException(string message) : ArgumentException(message);

/// <summary>
/// Type-checks an IR module, so that the interpreter and the lowering can rely on well-typed input.
/// Also answers "what type is this expression" for both.
/// </summary>
public sealed class IrChecker
{
    private readonly Dictionary<string, (IReadOnlyList<IrType> Parameters, IrType? Result)> _callees = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IrGlobal> _globals = new(StringComparer.Ordinal);

    /// <summary>Checks <paramref name="module"/>: names, types and bodies; a problem is an <see cref="IrException"/>.</summary>
    public IrChecker(IrModule module) : this(module, checkBodies: true) { }

    /// <param name="checkBodies">False: check declarations only; an incremental compiler then checks just the
    /// functions it recompiles with <see cref="CheckFunction"/>.</param>
    public IrChecker(IrModule module, bool checkBodies)
    {
        foreach (IrImport i in module.Imports) Declare(i.Name, i.Parameters, i.Result);
        foreach (IrFunction f in module.Functions) Declare(f.Name, f.Parameters, f.Result);
        foreach (IrGlobal g in module.Globals)
        {
            if (_callees.ContainsKey(g.Name) || !_globals.TryAdd(g.Name, g)) throw new IrException($"'{g.Name}' is defined twice");
        }
        if (checkBodies)
            foreach (IrFunction f in module.Functions) CheckFunction(f);
    }

    private void Declare(string name, IReadOnlyList<IrType> parameters, IrType? result)
    {
        if (string.IsNullOrEmpty(name)) throw new IrException("a function or import needs a name");
        if (!_callees.TryAdd(name, (parameters, result))) throw new IrException($"'{name}' is defined twice");
        if (parameters.Count(t => t == IrType.I64) > 6 || parameters.Count(t => t == IrType.F64) > 8)
            throw new IrException($"'{name}' has more than 6 i64 or 8 f64 parameters (stack arguments are not supported)");
    }

    /// <summary>Checks a module; throws <see cref="IrException"/> naming the function and the problem.</summary>
    public static IrChecker Check(IrModule module) => new(module);

    /// <summary>The parameter and result types of the function or import named <paramref name="name"/>.</summary>
    public (IReadOnlyList<IrType> Parameters, IrType? Result) Callee(string name) =>
        _callees.TryGetValue(name, out var c) ? c : throw new IrException($"call to unknown function '{name}'");

    /// <summary>The global named <paramref name="name"/>.</summary>
    public IrGlobal Global(string name) =>
        _globals.TryGetValue(name, out IrGlobal? g) ? g : throw new IrException($"unknown global '{name}'");

    /// <summary>Type-checks one function's body against the module's declarations.</summary>
    public void CheckFunction(IrFunction f)
    {
        foreach (IrStmt s in f.Body) CheckStmt(f, s);
    }

    private void CheckStmt(IrFunction f, IrStmt s)
    {
        switch (s)
        {
            case IrAssign a:
                if ((uint)a.Local >= (uint)f.LocalCount) throw new IrException($"{f.Name}: local {a.Local} does not exist");
                Expect(f, a.Value, f.LocalType(a.Local), $"assignment to local {a.Local}");
                break;
            case IrStoreGlobal g:
                IrGlobal global = Global(g.Global);
                if (!global.Writable) throw new IrException($"{f.Name}: global '{g.Global}' is read-only");
                Expect(f, g.Value, global.Type, $"store to '{g.Global}'");
                break;
            case IrIf i:
                Expect(f, i.Condition, IrType.I64, "if condition");
                foreach (IrStmt t in i.Then) CheckStmt(f, t);
                foreach (IrStmt t in i.Else) CheckStmt(f, t);
                break;
            case IrWhile w:
                Expect(f, w.Condition, IrType.I64, "while condition");
                foreach (IrStmt t in w.Body) CheckStmt(f, t);
                break;
            case IrReturn r:
                if (f.Result is null)
                {
                    if (r.Value is not null) throw new IrException($"{f.Name} has no result but returns a value");
                }
                else if (r.Value is null) throw new IrException($"{f.Name} must return a {f.Result}");
                else Expect(f, r.Value, f.Result.Value, "return value");
                break;
            case IrExprStmt e:
                if (e.Value is IrCall call) CheckCall(f, call);
                else TypeOf(f, e.Value);
                break;
            default:
                throw new IrException($"{f.Name}: unknown statement {s.GetType().Name}");
        }
    }

    private void Expect(IrFunction f, IrExpr e, IrType type, string what)
    {
        IrType actual = TypeOf(f, e);
        if (actual != type) throw new IrException($"{f.Name}: {what} is {actual}, expected {type}");
    }

    /// <summary>Checks a call's arguments; returns the callee's result type (null: none).</summary>
    public IrType? CheckCall(IrFunction f, IrCall call)
    {
        var (parameters, result) = Callee(call.Callee);
        if (parameters.Count != call.Arguments.Length)
            throw new IrException($"{f.Name}: '{call.Callee}' takes {parameters.Count} arguments, {call.Arguments.Length} given");
        for (int i = 0; i < parameters.Count; i++) Expect(f, call.Arguments[i], parameters[i], $"argument {i} of '{call.Callee}'");
        return result;
    }

    /// <summary>The type of an expression inside function <paramref name="f"/>.</summary>
    public IrType TypeOf(IrFunction f, IrExpr e)
    {
        switch (e)
        {
            case IrConstI64: return IrType.I64;
            case IrConstF64: return IrType.F64;
            case IrLocal l:
                if ((uint)l.Index >= (uint)f.LocalCount) throw new IrException($"{f.Name}: local {l.Index} does not exist");
                return f.LocalType(l.Index);
            case IrLoadGlobal g: return Global(g.Global).Type;
            case IrUnary u:
            {
                IrType t = TypeOf(f, u.Operand);
                return u.Op switch
                {
                    IrUnaryOp.Neg => t,
                    IrUnaryOp.Not when t == IrType.I64 => IrType.I64,
                    IrUnaryOp.I64ToF64 when t == IrType.I64 => IrType.F64,
                    IrUnaryOp.F64ToI64 when t == IrType.F64 => IrType.I64,
                    _ => throw new IrException($"{f.Name}: {u.Op} does not apply to {t}"),
                };
            }
            case IrBinary b:
            {
                IrType l = TypeOf(f, b.Left), r = TypeOf(f, b.Right);
                if (l != r) throw new IrException($"{f.Name}: {b.Op} of {l} and {r}");
                if (l == IrType.F64 && b.Op is not (IrBinaryOp.Add or IrBinaryOp.Sub or IrBinaryOp.Mul or IrBinaryOp.Div))
                    throw new IrException($"{f.Name}: {b.Op} does not apply to f64");
                return l;
            }
            case IrCompare c:
            {
                IrType l = TypeOf(f, c.Left), r = TypeOf(f, c.Right);
                if (l != r) throw new IrException($"{f.Name}: comparison of {l} and {r}");
                return IrType.I64;
            }
            case IrLogical g:
                if (TypeOf(f, g.Left) != IrType.I64 || TypeOf(f, g.Right) != IrType.I64)
                    throw new IrException($"{f.Name}: {g.Op} needs i64 operands");
                return IrType.I64;
            case IrCall call:
                return CheckCall(f, call) ?? throw new IrException($"{f.Name}: '{call.Callee}' has no result and cannot be used as a value");
            default:
                throw new IrException($"{f.Name}: unknown expression {e.GetType().Name}");
        }
    }
}
