using System.Collections.Immutable;
using AotCache.Codegen.Ir;
using AotCache.Demo.Build;

namespace AotCache.Demo.Language;

/// <summary>The top-level names of a program, checked: what function bodies are bound against.</summary>
public sealed class DeclarationTable : IDeclarations
{
    private readonly Dictionary<string, Declaration> _byName = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Declaration> ByName => _byName;

    /// <summary>Externs as IR imports, in source order.</summary>
    public List<IrImport> Imports { get; } = [];

    /// <summary>Globals as IR data objects with their initial values, in source order.</summary>
    public List<IrGlobal> Globals { get; } = [];

    internal bool TryAdd(Declaration d) => _byName.TryAdd(d.Name, d);

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Declaration? declaration) =>
        _byName.TryGetValue(name, out declaration);
}

/// <summary>A function checked and lowered to IR, with the top-level names its code refers to (sorted).</summary>
public sealed record BoundFunction(FunctionSyntax Syntax, IrFunction Ir, IReadOnlyList<string> References);

/// <summary>
/// Checks names and types and lowers Nib to the codegen IR. There are no implicit conversions: <c>i64</c>
/// and <c>f64</c> meet only through <c>as</c>. Conditions and the operands of <c>&amp;&amp;</c>, <c>||</c> and
/// <c>!</c> are i64 (zero is false). Functions see each other and the globals regardless of order.
/// </summary>
public sealed class Binder
{
    /// <summary>System V passes at most this many i64 and f64 arguments in registers; the IR supports no more.</summary>
    public const int MaxIntegerParameters = 6, MaxFloatParameters = 8;

    private readonly SourceText _source;
    private readonly IDeclarations _table;
    private readonly FunctionSyntax _function;
    private readonly List<Diagnostic> _diagnostics;
    private readonly List<Dictionary<string, int>> _scopes = [];
    private readonly List<IrType> _localTypes = [];
    private readonly SortedSet<string> _references = new(StringComparer.Ordinal);

    private sealed class BindError : Exception;

    private Binder(SourceText source, IDeclarations table, FunctionSyntax function, List<Diagnostic> diagnostics)
    {
        _source = source;
        _table = table;
        _function = function;
        _diagnostics = diagnostics;
    }

    // ---- declarations ----

    /// <summary>Checks every top-level item's declaration: unique names, parameter limits, externs that the host
    /// provides with another signature, and constant initial values of globals.</summary>
    public static DeclarationTable Declare(ProgramSyntax program, HostLibrary? host, List<Diagnostic> diagnostics)
    {
        var table = new DeclarationTable();
        foreach (ItemSyntax item in program.Items)
        {
            Declaration d = item switch
            {
                FunctionSyntax f => Declaration.ForFunction(f),
                GlobalSyntax g => Declaration.ForGlobal(g),
                _ => throw new InvalidOperationException($"unknown item {item.GetType().Name}"),
            };
            if (!table.TryAdd(d))
            {
                Declaration first = table.ByName[d.Name];
                diagnostics.Add(new Diagnostic(program.Source, item.NameSpan,
                    $"'{d.Name}' is already defined at line {program.Source.Position(first.NameSpan.Start).Line}"));
                continue;
            }
            switch (item)
            {
                case FunctionSyntax f:
                    CheckParameters(program.Source, f, diagnostics);
                    if (f.IsExtern)
                    {
                        if (host is not null && host.Functions.TryGetValue(f.Name, out HostFunction? provided)
                            && !provided.Signature.Equals(d.Signature))
                            diagnostics.Add(new Diagnostic(program.Source, f.NameSpan,
                                $"the host provides '{f.Name}' as '{HostLibrary.Describe(f.Name, provided.Parameters, provided.Result)}', not '{d.Describe()}'"));
                        table.Imports.Add(new IrImport(f.Name, [.. d.Parameters], d.Result));
                    }
                    break;
                case GlobalSyntax g:
                    if (ConstantBits(program.Source, g, diagnostics) is { } bits)
                        table.Globals.Add(new IrGlobal(g.Name, g.Type.Type, bits, g.Writable));
                    break;
            }
        }
        return table;
    }

    /// <summary>Unique parameter names and the register limits; also run on functions an incremental build re-parses.</summary>
    internal static void CheckParameters(SourceText source, FunctionSyntax f, List<Diagnostic> diagnostics)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int ints = 0, floats = 0;
        foreach (ParameterSyntax p in f.Parameters)
        {
            if (!seen.Add(p.Name))
                diagnostics.Add(new Diagnostic(source, p.NameSpan, $"'{f.Name}' has two parameters named '{p.Name}'"));
            if (p.Type.Type == IrType.I64 ? ++ints == MaxIntegerParameters + 1 : ++floats == MaxFloatParameters + 1)
                diagnostics.Add(new Diagnostic(source, p.NameSpan,
                    $"'{f.Name}' has more than {MaxIntegerParameters} i64 or {MaxFloatParameters} f64 parameters (all are passed in registers)"));
        }
    }

    /// <summary>The initial value of a global: a literal, possibly negated, of the declared type.</summary>
    private static long? ConstantBits(SourceText source, GlobalSyntax g, List<Diagnostic> diagnostics)
    {
        ExprSyntax e = g.Value;
        bool negate = false;
        if (e is UnarySyntax { Operator: UnaryOperator.Negate } u) { negate = true; e = u.Operand; }
        switch (e)
        {
            case IntegerSyntax i when g.Type.Type == IrType.I64:
                if (IntegerValue(i, negate) is { } v) return v;
                break;
            case FloatSyntax f when g.Type.Type == IrType.F64:
                return BitConverter.DoubleToInt64Bits(negate ? -f.Value : f.Value);
            case IntegerSyntax or FloatSyntax:
                diagnostics.Add(new Diagnostic(source, g.Value.Span,
                    $"the initial value of '{g.Name}' must be an {Declaration.TypeName(g.Type.Type)} literal (write {(g.Type.Type == IrType.F64 ? "0.0" : "0")}, not {source[g.Value.Span]})"));
                return null;
        }
        if (e is IntegerSyntax)
            diagnostics.Add(new Diagnostic(source, g.Value.Span, $"the integer '{source[g.Value.Span]}' does not fit in i64"));
        else
            diagnostics.Add(new Diagnostic(source, g.Value.Span, $"the initial value of global '{g.Name}' must be a literal number"));
        return null;
    }

    /// <summary>The i64 value of a literal, or null when it does not fit.</summary>
    private static long? IntegerValue(IntegerSyntax i, bool negate)
    {
        if (i.Hexadecimal) return negate ? unchecked(-(long)i.Value) : unchecked((long)i.Value);
        if (i.Value <= long.MaxValue) return negate ? -(long)i.Value : (long)i.Value;
        if (negate && i.Value == 1UL << 63) return long.MinValue;
        return null;
    }

    // ---- functions ----

    /// <summary>Checks one function's body against the declarations and lowers it; null (and diagnostics) on errors.</summary>
    public static BoundFunction? BindFunction(SourceText source, FunctionSyntax function, IDeclarations table, List<Diagnostic> diagnostics)
    {
        if (function.Body is null) throw new ArgumentException("an extern function has no body to bind", nameof(function));
        var binder = new Binder(source, table, function, diagnostics);
        try
        {
            return binder.Bind();
        }
        catch (BindError)
        {
            return null;
        }
    }

    private BoundFunction Bind()
    {
        var parameters = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ParameterSyntax p in _function.Parameters)
            parameters.TryAdd(p.Name, parameters.Count);
        _scopes.Add(parameters);
        ImmutableArray<IrStmt> body = Block(_function.Body!, newScope: true);
        var ir = new IrFunction(_function.Name, [.. _function.Parameters.Select(p => p.Type.Type)], _function.Result?.Type,
            [.. _localTypes], body);
        return new BoundFunction(_function, ir, [.. _references]);
    }

    private BindError Error(TextSpan span, string message)
    {
        _diagnostics.Add(new Diagnostic(_source, span, $"in '{_function.Name}': {message}"));
        return new BindError();
    }

    private ImmutableArray<IrStmt> Block(BlockSyntax block, bool newScope)
    {
        if (newScope) _scopes.Add(new Dictionary<string, int>(StringComparer.Ordinal));
        var statements = ImmutableArray.CreateBuilder<IrStmt>(block.Statements.Count);
        foreach (StmtSyntax s in block.Statements) Statement(s, statements);
        if (newScope) _scopes.RemoveAt(_scopes.Count - 1);
        return statements.ToImmutable();
    }

    private void Statement(StmtSyntax s, ImmutableArray<IrStmt>.Builder output)
    {
        switch (s)
        {
            case BlockSyntax b:
                output.AddRange(Block(b, newScope: true));
                break;
            case LetSyntax let:
            {
                var (value, type) = Expression(let.Value);
                if (let.Type is { } declared && declared.Type != type)
                    throw Error(let.Value.Span, $"'{let.Name}' is declared {Declaration.TypeName(declared.Type)} but its value is {Declaration.TypeName(type)}; convert with 'as {Declaration.TypeName(declared.Type)}'");
                Dictionary<string, int> scope = _scopes[^1];
                if (scope.ContainsKey(let.Name))
                    throw Error(let.NameSpan, $"'{let.Name}' is already defined in this block");
                int local = _function.Parameters.Count + _localTypes.Count;
                _localTypes.Add(type);
                scope.Add(let.Name, local);
                output.Add(new IrAssign(local, value));
                break;
            }
            case AssignSyntax assign:
            {
                var (value, type) = Expression(assign.Value);
                if (Local(assign.Name) is { } local)
                {
                    IrType localType = LocalType(local);
                    if (localType != type)
                        throw Error(assign.Value.Span, $"'{assign.Name}' is {Declaration.TypeName(localType)}, the value is {Declaration.TypeName(type)}");
                    output.Add(new IrAssign(local, value));
                    break;
                }
                Declaration d = TopLevel(assign.Name, assign.NameSpan);
                if (d.Kind != DeclarationKind.Global) throw Error(assign.NameSpan, $"'{assign.Name}' is a function, not a variable");
                if (!d.Writable) throw Error(assign.NameSpan, $"'{assign.Name}' is a const; declare it with 'var' to assign to it");
                if (d.GlobalType != type)
                    throw Error(assign.Value.Span, $"'{assign.Name}' is {Declaration.TypeName(d.GlobalType)}, the value is {Declaration.TypeName(type)}");
                output.Add(new IrStoreGlobal(assign.Name, value));
                break;
            }
            case IfSyntax i:
                output.Add(If(i));
                break;
            case WhileSyntax w:
                output.Add(new IrWhile(Condition(w.Condition, "while"), Block(w.Body, newScope: true)));
                break;
            case ReturnSyntax r:
                output.Add(Return(r));
                break;
            case ExprStmtSyntax e:
                output.Add(new IrExprStmt(e.Value is CallSyntax call ? Call(call, asStatement: true).Value : Expression(e.Value).Value));
                break;
            default:
                throw Error(s.Span, $"unknown statement {s.GetType().Name}");
        }
    }

    private IrIf If(IfSyntax i)
    {
        IrExpr condition = Condition(i.Condition, "if");
        ImmutableArray<IrStmt> then = Block(i.Then, newScope: true);
        ImmutableArray<IrStmt> otherwise = i.Else switch
        {
            null => [],
            IfSyntax nested => [If(nested)],
            BlockSyntax b => Block(b, newScope: true),
            _ => throw Error(i.Else.Span, "expected a block or 'if' after 'else'"),
        };
        return new IrIf(condition, then, otherwise);
    }

    private IrReturn Return(ReturnSyntax r)
    {
        IrType? result = _function.Result?.Type;
        if (r.Value is null)
        {
            if (result is { } expected) throw Error(r.Span, $"'{_function.Name}' returns {Declaration.TypeName(expected)}: 'return' needs a value");
            return new IrReturn(null);
        }
        if (result is null) throw Error(r.Value.Span, $"'{_function.Name}' has no result type, so 'return' takes no value");
        var (value, type) = Expression(r.Value);
        if (type != result) throw Error(r.Value.Span, $"'{_function.Name}' returns {Declaration.TypeName(result.Value)}, but this is {Declaration.TypeName(type)}");
        return new IrReturn(value);
    }

    private IrExpr Condition(ExprSyntax e, string what)
    {
        var (value, type) = Expression(e);
        if (type != IrType.I64) throw Error(e.Span, $"the condition of '{what}' must be i64 (non-zero is true), not f64; compare explicitly, e.g. 'x != 0.0'");
        return value;
    }

    // ---- names ----

    private int? Local(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
            if (_scopes[i].TryGetValue(name, out int local)) return local;
        return null;
    }

    private IrType LocalType(int local) =>
        local < _function.Parameters.Count ? _function.Parameters[local].Type.Type : _localTypes[local - _function.Parameters.Count];

    private Declaration TopLevel(string name, TextSpan span)
    {
        if (!_table.TryGet(name, out Declaration? d))
            throw Error(span, $"unknown name '{name}'");
        _references.Add(name);
        return d;
    }

    // ---- expressions ----

    private (IrExpr Value, IrType Type) Expression(ExprSyntax e)
    {
        switch (e)
        {
            case IntegerSyntax i:
                return (new IrConstI64(IntegerValue(i, negate: false) ?? throw Error(i.Span, $"the integer '{_source[i.Span]}' does not fit in i64 (only -9223372036854775808 may be written past i64's maximum)")), IrType.I64);
            case FloatSyntax f:
                return (new IrConstF64(f.Value), IrType.F64);
            case NameSyntax n:
            {
                if (Local(n.Name) is { } local) return (new IrLocal(local), LocalType(local));
                Declaration d = TopLevel(n.Name, n.Span);
                if (d.Kind != DeclarationKind.Global) throw Error(n.Span, $"'{n.Name}' is a function; call it with '{n.Name}(...)'");
                return (new IrLoadGlobal(n.Name), d.GlobalType);
            }
            case CallSyntax call:
            {
                var (value, type) = Call(call, asStatement: false);
                return (value, type!.Value);
            }
            case UnarySyntax u:
                return Unary(u);
            case BinarySyntax b:
                return Binary(b);
            case CastSyntax c:
            {
                var (value, type) = Expression(c.Value);
                if (type == c.Type.Type) return (value, type);
                return (new IrUnary(type == IrType.I64 ? IrUnaryOp.I64ToF64 : IrUnaryOp.F64ToI64, value), c.Type.Type);
            }
            default:
                throw Error(e.Span, $"unknown expression {e.GetType().Name}");
        }
    }

    private (IrExpr Value, IrType? Type) Call(CallSyntax call, bool asStatement)
    {
        if (Local(call.Callee) is not null) throw Error(call.CalleeSpan, $"'{call.Callee}' is a variable, not a function");
        Declaration d = TopLevel(call.Callee, call.CalleeSpan);
        if (!d.IsFunction) throw Error(call.CalleeSpan, $"'{call.Callee}' is a global, not a function");
        if (call.Arguments.Count != d.Parameters.Count)
            throw Error(call.Span, $"'{call.Callee}' takes {d.Parameters.Count} argument{(d.Parameters.Count == 1 ? "" : "s")}, {call.Arguments.Count} given ({d.Describe()})");
        var arguments = ImmutableArray.CreateBuilder<IrExpr>(call.Arguments.Count);
        for (int i = 0; i < call.Arguments.Count; i++)
        {
            var (value, type) = Expression(call.Arguments[i]);
            if (type != d.Parameters[i])
                throw Error(call.Arguments[i].Span, $"argument {i + 1} of '{call.Callee}' must be {Declaration.TypeName(d.Parameters[i])}, not {Declaration.TypeName(type)}");
            arguments.Add(value);
        }
        if (d.Result is null && !asStatement)
            throw Error(call.Span, $"'{call.Callee}' returns nothing, so its call has no value");
        return (new IrCall(call.Callee, arguments.MoveToImmutable()), d.Result);
    }

    private (IrExpr Value, IrType Type) Unary(UnarySyntax u)
    {
        // A negated literal is a constant: this is how -9223372036854775808 is written.
        if (u.Operator == UnaryOperator.Negate && u.Operand is IntegerSyntax literal)
            return (new IrConstI64(IntegerValue(literal, negate: true) ?? throw Error(literal.Span, $"the integer '{_source[literal.Span]}' does not fit in i64")), IrType.I64);
        if (u.Operator == UnaryOperator.Negate && u.Operand is FloatSyntax f)
            return (new IrConstF64(-f.Value), IrType.F64);
        var (value, type) = Expression(u.Operand);
        switch (u.Operator)
        {
            case UnaryOperator.Negate:
                return (new IrUnary(IrUnaryOp.Neg, value), type);
            case UnaryOperator.BitwiseNot when type == IrType.I64:
                return (new IrUnary(IrUnaryOp.Not, value), type);
            case UnaryOperator.Not when type == IrType.I64:
                return (new IrCompare(IrCompareOp.Eq, value, new IrConstI64(0)), IrType.I64);
            default:
                throw Error(u.Span, $"'{(u.Operator == UnaryOperator.Not ? "!" : "~")}' needs an i64 operand, not f64");
        }
    }

    private (IrExpr Value, IrType Type) Binary(BinarySyntax b)
    {
        var (left, leftType) = Expression(b.Left);
        var (right, rightType) = Expression(b.Right);
        string symbol = _source[b.OperatorSpan].ToString();
        if (b.Operator is BinaryOperator.LogicalAnd or BinaryOperator.LogicalOr)
        {
            if (leftType != IrType.I64 || rightType != IrType.I64)
                throw Error(leftType != IrType.I64 ? b.Left.Span : b.Right.Span, $"the operands of '{symbol}' must be i64 (non-zero is true)");
            return (new IrLogical(b.Operator == BinaryOperator.LogicalAnd ? IrLogicalOp.And : IrLogicalOp.Or, left, right), IrType.I64);
        }
        if (leftType != rightType)
            throw Error(b.OperatorSpan, $"'{symbol}' needs operands of one type, but the left is {Declaration.TypeName(leftType)} and the right {Declaration.TypeName(rightType)}; convert one with 'as'");
        IrCompareOp? compare = b.Operator switch
        {
            BinaryOperator.Equal => IrCompareOp.Eq,
            BinaryOperator.NotEqual => IrCompareOp.Ne,
            BinaryOperator.Less => IrCompareOp.Lt,
            BinaryOperator.LessEqual => IrCompareOp.Le,
            BinaryOperator.Greater => IrCompareOp.Gt,
            BinaryOperator.GreaterEqual => IrCompareOp.Ge,
            _ => null,
        };
        if (compare is { } c) return (new IrCompare(c, left, right), IrType.I64);
        IrBinaryOp op = b.Operator switch
        {
            BinaryOperator.Add => IrBinaryOp.Add,
            BinaryOperator.Subtract => IrBinaryOp.Sub,
            BinaryOperator.Multiply => IrBinaryOp.Mul,
            BinaryOperator.Divide => IrBinaryOp.Div,
            BinaryOperator.Remainder => IrBinaryOp.Rem,
            BinaryOperator.BitwiseAnd => IrBinaryOp.And,
            BinaryOperator.BitwiseOr => IrBinaryOp.Or,
            BinaryOperator.BitwiseXor => IrBinaryOp.Xor,
            BinaryOperator.ShiftLeft => IrBinaryOp.Shl,
            BinaryOperator.ShiftRight => IrBinaryOp.Shr,
            _ => throw Error(b.OperatorSpan, $"unknown operator '{symbol}'"),
        };
        if (leftType == IrType.F64 && op is not (IrBinaryOp.Add or IrBinaryOp.Sub or IrBinaryOp.Mul or IrBinaryOp.Div))
            throw Error(b.OperatorSpan, $"'{symbol}' works on i64 only, and both operands are f64");
        return (new IrBinary(op, left, right), leftType);
    }
}
