using AotCache.Codegen.Ir;

namespace AotCache.Demo.Language;

// The syntax tree of a Nib program. Every node knows its place in the source, for messages.

/// <summary>A written type: <c>i64</c> or <c>f64</c>.</summary>
public sealed record TypeSyntax(IrType Type, TextSpan Span);

/// <summary>A top-level item. <see cref="Tokens"/> is its range in the program's token list: the cache key
/// of a function hashes exactly these tokens, so whitespace and comments never change it.</summary>
public abstract record ItemSyntax(string Name, TextSpan NameSpan, TextSpan Span, Range Tokens);

public sealed record ParameterSyntax(string Name, TextSpan NameSpan, TypeSyntax Type);

/// <summary><c>fn name(params) -> result { body }</c>, or <c>extern fn name(params) -> result;</c> (no body).</summary>
public sealed record FunctionSyntax(
    string Name, TextSpan NameSpan, TextSpan Span, Range Tokens,
    IReadOnlyList<ParameterSyntax> Parameters, TypeSyntax? Result, BlockSyntax? Body)
    : ItemSyntax(Name, NameSpan, Span, Tokens)
{
    public bool IsExtern => Body is null;

    /// <summary>The body did not parse (the error is reported); the declaration is kept so that callers do not
    /// also report the function as unknown.</summary>
    public bool BodyHasErrors { get; init; }
}

/// <summary><c>var name: type = value;</c> (writable) or <c>const name: type = value;</c> (read-only).</summary>
public sealed record GlobalSyntax(
    string Name, TextSpan NameSpan, TextSpan Span, Range Tokens, TypeSyntax Type, ExprSyntax Value, bool Writable)
    : ItemSyntax(Name, NameSpan, Span, Tokens);

// ---- statements ----

public abstract record StmtSyntax(TextSpan Span);

public sealed record BlockSyntax(IReadOnlyList<StmtSyntax> Statements, TextSpan Span) : StmtSyntax(Span);

public sealed record LetSyntax(string Name, TextSpan NameSpan, TypeSyntax? Type, ExprSyntax Value, TextSpan Span) : StmtSyntax(Span);

public sealed record AssignSyntax(string Name, TextSpan NameSpan, ExprSyntax Value, TextSpan Span) : StmtSyntax(Span);

/// <summary><paramref name="Else"/> is a block, another <c>if</c>, or null.</summary>
public sealed record IfSyntax(ExprSyntax Condition, BlockSyntax Then, StmtSyntax? Else, TextSpan Span) : StmtSyntax(Span);

public sealed record WhileSyntax(ExprSyntax Condition, BlockSyntax Body, TextSpan Span) : StmtSyntax(Span);

public sealed record ReturnSyntax(ExprSyntax? Value, TextSpan Span) : StmtSyntax(Span);

public sealed record ExprStmtSyntax(ExprSyntax Value, TextSpan Span) : StmtSyntax(Span);

// ---- expressions ----

public abstract record ExprSyntax(TextSpan Span);

/// <summary>An integer literal as written. Hexadecimal literals are 64-bit patterns (0xFFFF_FFFF_FFFF_FFFF is −1);
/// decimal values above <see cref="long.MaxValue"/> are only valid right
/// after a unary minus (<c>-9223372036854775808</c>).</summary>
public sealed record IntegerSyntax(ulong Value, bool Hexadecimal, TextSpan Span) : ExprSyntax(Span);

public sealed record FloatSyntax(double Value, TextSpan Span) : ExprSyntax(Span);

public sealed record NameSyntax(string Name, TextSpan Span) : ExprSyntax(Span);

public sealed record CallSyntax(string Callee, TextSpan CalleeSpan, IReadOnlyList<ExprSyntax> Arguments, TextSpan Span) : ExprSyntax(Span);

public enum UnaryOperator { Negate, Not, BitwiseNot }

public sealed record UnarySyntax(UnaryOperator Operator, ExprSyntax Operand, TextSpan Span) : ExprSyntax(Span);

public enum BinaryOperator
{
    Add, Subtract, Multiply, Divide, Remainder,
    BitwiseAnd, BitwiseOr, BitwiseXor, ShiftLeft, ShiftRight,
    Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
    LogicalAnd, LogicalOr,
}

public sealed record BinarySyntax(BinaryOperator Operator, ExprSyntax Left, ExprSyntax Right, TextSpan OperatorSpan, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>value as type</c>.</summary>
public sealed record CastSyntax(ExprSyntax Value, TypeSyntax Type, TextSpan Span) : ExprSyntax(Span);

/// <summary>A parsed program: its items in source order, and the tokens they index into.</summary>
public sealed record ProgramSyntax(SourceText Source, IReadOnlyList<Token> Tokens, IReadOnlyList<ItemSyntax> Items);
