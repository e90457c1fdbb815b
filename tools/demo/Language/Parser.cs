using System.Globalization;
using AotCache.Codegen.Ir;

namespace AotCache.Demo.Language;

/// <summary>
/// Recursive-descent parser for Nib. Operator precedence, lowest first: <c>||</c>, <c>&amp;&amp;</c>,
/// comparisons (not chainable), <c>|</c>, <c>^</c>, <c>&amp;</c>, shifts, <c>+ -</c>, <c>* / %</c>, <c>as</c>,
/// unary <c>- ! ~</c>. The first error inside an item is reported and the parser resumes at the next
/// top-level item, so one typo does not hide the errors of other functions.
/// </summary>
public sealed class Parser
{
    private readonly SourceText _source;
    private readonly List<Token> _tokens;
    private readonly List<Diagnostic> _diagnostics;
    private int _position;

    private Parser(SourceText source, List<Token> tokens, List<Diagnostic> diagnostics)
    {
        _source = source;
        _tokens = tokens;
        _diagnostics = diagnostics;
    }

    /// <summary>Parses a whole file; errors go to <paramref name="diagnostics"/>.</summary>
    public static ProgramSyntax Parse(SourceText source, List<Diagnostic> diagnostics)
    {
        List<Token> tokens = Lexer.Lex(source, diagnostics);
        var parser = new Parser(source, tokens, diagnostics);
        return new ProgramSyntax(source, tokens, parser.Items());
    }

    /// <summary>Signals the first error of an item; caught where the parser resynchronizes.</summary>
    private sealed class ParseError : Exception;

    private Token Current => _tokens[_position];

    private TokenKind Peek(int ahead = 0) => _tokens[Math.Min(_position + ahead, _tokens.Count - 1)].Kind;

    private Token Advance()
    {
        Token t = _tokens[_position];
        if (t.Kind != TokenKind.EndOfFile) _position++;
        return t;
    }

    private bool Accept(TokenKind kind)
    {
        if (Current.Kind != kind) return false;
        Advance();
        return true;
    }

    private Token Expect(TokenKind kind, string context)
    {
        if (Current.Kind == kind) return Advance();
        throw Error(Current.Span, $"expected {Token.Describe(kind)} {context}, found {Describe(Current)}");
    }

    private string Describe(Token t) => t.Kind switch
    {
        TokenKind.Identifier or TokenKind.Integer or TokenKind.Float => $"'{_source[t.Span]}'",
        _ => Token.Describe(t.Kind),
    };

    private ParseError Error(TextSpan span, string message)
    {
        _diagnostics.Add(new Diagnostic(_source, span, message));
        return new ParseError();
    }

    private string Text(Token t) => _source[t.Span].ToString();

    private TextSpan From(int startOffset) => TextSpan.FromBounds(startOffset, _tokens[Math.Max(0, _position - 1)].End);

    // ---- items ----

    private List<ItemSyntax> Items()
    {
        var items = new List<ItemSyntax>();
        while (Current.Kind != TokenKind.EndOfFile)
        {
            int first = _position;
            try
            {
                items.Add(Item());
            }
            catch (ParseError)
            {
                Resynchronize(first);
            }
        }
        return items;
    }

    /// <summary>After an error, skips to the next item keyword outside any braces opened since the item began.</summary>
    private void Resynchronize(int itemStart)
    {
        int depth = 0;
        for (int i = itemStart; i < _position; i++)
            depth += _tokens[i].Kind switch { TokenKind.LeftBrace => 1, TokenKind.RightBrace => -1, _ => 0 };
        if (_position == itemStart) Advance(); // always make progress
        while (Current.Kind != TokenKind.EndOfFile)
        {
            if (depth <= 0 && Current.Kind is TokenKind.Fn or TokenKind.Extern or TokenKind.Var or TokenKind.Const) return;
            depth += Current.Kind switch { TokenKind.LeftBrace => 1, TokenKind.RightBrace => -1, _ => 0 };
            Advance();
        }
    }

    private ItemSyntax Item()
    {
        int first = _position;
        int start = Current.Start;
        switch (Current.Kind)
        {
            case TokenKind.Fn:
                Advance();
                return Function(first, start, isExtern: false);
            case TokenKind.Extern:
                Advance();
                Expect(TokenKind.Fn, "after 'extern'");
                return Function(first, start, isExtern: true);
            case TokenKind.Var:
            case TokenKind.Const:
            {
                bool writable = Advance().Kind == TokenKind.Var;
                Token name = Expect(TokenKind.Identifier, $"after '{(writable ? "var" : "const")}'");
                Expect(TokenKind.Colon, "before the type of a global (globals are declared as 'var name: i64 = 0;')");
                TypeSyntax type = Type("of the global");
                Expect(TokenKind.Assign, "before the initial value of a global");
                ExprSyntax value = Expression();
                Expect(TokenKind.Semicolon, "after a global");
                return new GlobalSyntax(Text(name), name.Span, From(start), first.._position, type, value, writable);
            }
            default:
                throw Error(Current.Span, $"expected 'fn', 'extern fn', 'var' or 'const' at the top level, found {Describe(Current)}");
        }
    }

    private FunctionSyntax Function(int first, int start, bool isExtern)
    {
        Token name = Expect(TokenKind.Identifier, "after 'fn'");
        Expect(TokenKind.LeftParen, $"after the function name '{Text(name)}'");
        var parameters = new List<ParameterSyntax>();
        if (Current.Kind != TokenKind.RightParen)
        {
            do
            {
                Token parameter = Expect(TokenKind.Identifier, "(a parameter name)");
                Expect(TokenKind.Colon, $"after parameter '{Text(parameter)}' (parameters are written 'name: i64')");
                parameters.Add(new ParameterSyntax(Text(parameter), parameter.Span, Type($"of parameter '{Text(parameter)}'")));
            }
            while (Accept(TokenKind.Comma));
        }
        Expect(TokenKind.RightParen, "after the parameters");
        TypeSyntax? result = Accept(TokenKind.Arrow) ? Type("of the result") : null;
        if (isExtern)
        {
            Expect(TokenKind.Semicolon, "after an extern function (it has no body)");
            return new FunctionSyntax(Text(name), name.Span, From(start), first.._position, parameters, result, null);
        }
        if (Current.Kind != TokenKind.LeftBrace)
            throw Error(Current.Span, $"expected '{{' to begin the body of '{Text(name)}', found {Describe(Current)}");
        int bodyStart = _position;
        try
        {
            BlockSyntax body = Block();
            return new FunctionSyntax(Text(name), name.Span, From(start), first.._position, parameters, result, body);
        }
        catch (ParseError)
        {
            // The header is fine: declare the function with an empty body marked broken, so its callers are checked
            // against its signature instead of reporting it unknown.
            Resynchronize(bodyStart);
            var empty = new BlockSyntax([], From(start));
            return new FunctionSyntax(Text(name), name.Span, From(start), first.._position, parameters, result, empty) { BodyHasErrors = true };
        }
    }

    private TypeSyntax Type(string context)
    {
        Token t = Current;
        if (t.Kind == TokenKind.I64) { Advance(); return new TypeSyntax(IrType.I64, t.Span); }
        if (t.Kind == TokenKind.F64) { Advance(); return new TypeSyntax(IrType.F64, t.Span); }
        throw Error(t.Span, $"expected a type (i64 or f64) {context}, found {Describe(t)}");
    }

    // ---- statements ----

    private BlockSyntax Block()
    {
        int start = Expect(TokenKind.LeftBrace, "to begin a block").Start;
        var statements = new List<StmtSyntax>();
        while (Current.Kind is not (TokenKind.RightBrace or TokenKind.EndOfFile))
            statements.Add(Statement());
        if (Current.Kind == TokenKind.EndOfFile)
            throw Error(Current.Span, $"the block opened at line {_source.Position(start).Line} is never closed: expected '}}'");
        Advance();
        return new BlockSyntax(statements, From(start));
    }

    private StmtSyntax Statement()
    {
        int start = Current.Start;
        switch (Current.Kind)
        {
            case TokenKind.LeftBrace:
                return Block();
            case TokenKind.Let:
            {
                Advance();
                Token name = Expect(TokenKind.Identifier, "after 'let'");
                TypeSyntax? type = Accept(TokenKind.Colon) ? Type($"of '{Text(name)}'") : null;
                Expect(TokenKind.Assign, $"after 'let {Text(name)}' (every variable starts with a value)");
                ExprSyntax value = Expression();
                Expect(TokenKind.Semicolon, "after a let statement");
                return new LetSyntax(Text(name), name.Span, type, value, From(start));
            }
            case TokenKind.If:
                return If();
            case TokenKind.While:
            {
                Advance();
                ExprSyntax condition = Expression();
                return new WhileSyntax(condition, Block(), From(start));
            }
            case TokenKind.Return:
            {
                Advance();
                ExprSyntax? value = Current.Kind == TokenKind.Semicolon ? null : Expression();
                Expect(TokenKind.Semicolon, "after a return statement");
                return new ReturnSyntax(value, From(start));
            }
            case TokenKind.Identifier when Peek(1) == TokenKind.Assign:
            {
                Token name = Advance();
                Advance();
                ExprSyntax value = Expression();
                Expect(TokenKind.Semicolon, "after an assignment");
                return new AssignSyntax(Text(name), name.Span, value, From(start));
            }
            case TokenKind.Fn or TokenKind.Extern or TokenKind.Var or TokenKind.Const:
                throw Error(Current.Span, $"{Describe(Current)} cannot appear inside a function; is a '}}' missing above?");
            default:
            {
                ExprSyntax value = Expression();
                Expect(TokenKind.Semicolon, "after an expression statement");
                return new ExprStmtSyntax(value, From(start));
            }
        }
    }

    private IfSyntax If()
    {
        int start = Expect(TokenKind.If, "").Start;
        ExprSyntax condition = Expression();
        BlockSyntax then = Block();
        StmtSyntax? otherwise = null;
        if (Accept(TokenKind.Else))
            otherwise = Current.Kind == TokenKind.If ? If() : Block();
        return new IfSyntax(condition, then, otherwise, From(start));
    }

    // ---- expressions ----

    private ExprSyntax Expression() => LogicalOr();

    private ExprSyntax LogicalOr()
    {
        ExprSyntax left = LogicalAnd();
        while (Current.Kind == TokenKind.PipePipe)
        {
            Token op = Advance();
            left = Binary(BinaryOperator.LogicalOr, left, LogicalAnd(), op);
        }
        return left;
    }

    private ExprSyntax LogicalAnd()
    {
        ExprSyntax left = Comparison();
        while (Current.Kind == TokenKind.AmpersandAmpersand)
        {
            Token op = Advance();
            left = Binary(BinaryOperator.LogicalAnd, left, Comparison(), op);
        }
        return left;
    }

    private ExprSyntax Comparison()
    {
        ExprSyntax left = BitwiseOr();
        if (ComparisonOperator(Current.Kind) is not { } first) return left;
        Token op = Advance();
        ExprSyntax result = Binary(first, left, BitwiseOr(), op);
        if (ComparisonOperator(Current.Kind) is not null)
            throw Error(Current.Span, "comparisons cannot be chained: write 'a < b && b < c'");
        return result;
    }

    private static BinaryOperator? ComparisonOperator(TokenKind kind) => kind switch
    {
        TokenKind.Equal => BinaryOperator.Equal,
        TokenKind.NotEqual => BinaryOperator.NotEqual,
        TokenKind.Less => BinaryOperator.Less,
        TokenKind.LessEqual => BinaryOperator.LessEqual,
        TokenKind.Greater => BinaryOperator.Greater,
        TokenKind.GreaterEqual => BinaryOperator.GreaterEqual,
        _ => null,
    };

    private ExprSyntax BitwiseOr() => LeftAssociative(BitwiseXor, k => k == TokenKind.Pipe ? BinaryOperator.BitwiseOr : null);

    private ExprSyntax BitwiseXor() => LeftAssociative(BitwiseAnd, k => k == TokenKind.Caret ? BinaryOperator.BitwiseXor : null);

    private ExprSyntax BitwiseAnd() => LeftAssociative(Shift, k => k == TokenKind.Ampersand ? BinaryOperator.BitwiseAnd : null);

    private ExprSyntax Shift() => LeftAssociative(Additive, k => k switch
    {
        TokenKind.ShiftLeft => BinaryOperator.ShiftLeft,
        TokenKind.ShiftRight => BinaryOperator.ShiftRight,
        _ => null,
    });

    private ExprSyntax Additive() => LeftAssociative(Multiplicative, k => k switch
    {
        TokenKind.Plus => BinaryOperator.Add,
        TokenKind.Minus => BinaryOperator.Subtract,
        _ => null,
    });

    private ExprSyntax Multiplicative() => LeftAssociative(Cast, k => k switch
    {
        TokenKind.Star => BinaryOperator.Multiply,
        TokenKind.Slash => BinaryOperator.Divide,
        TokenKind.Percent => BinaryOperator.Remainder,
        _ => null,
    });

    private ExprSyntax LeftAssociative(Func<ExprSyntax> operand, Func<TokenKind, BinaryOperator?> match)
    {
        ExprSyntax left = operand();
        while (match(Current.Kind) is { } op)
        {
            Token token = Advance();
            left = Binary(op, left, operand(), token);
        }
        return left;
    }

    private static BinarySyntax Binary(BinaryOperator op, ExprSyntax left, ExprSyntax right, Token token) =>
        new(op, left, right, token.Span, TextSpan.FromBounds(left.Span.Start, right.Span.End));

    private ExprSyntax Cast()
    {
        ExprSyntax value = Unary();
        while (Accept(TokenKind.As))
        {
            TypeSyntax type = Type("after 'as'");
            value = new CastSyntax(value, type, TextSpan.FromBounds(value.Span.Start, type.Span.End));
        }
        return value;
    }

    private ExprSyntax Unary()
    {
        UnaryOperator? op = Current.Kind switch
        {
            TokenKind.Minus => UnaryOperator.Negate,
            TokenKind.Bang => UnaryOperator.Not,
            TokenKind.Tilde => UnaryOperator.BitwiseNot,
            _ => null,
        };
        if (op is null) return Primary();
        int start = Advance().Start;
        ExprSyntax operand = Unary();
        return new UnarySyntax(op.Value, operand, TextSpan.FromBounds(start, operand.Span.End));
    }

    private ExprSyntax Primary()
    {
        Token t = Current;
        switch (t.Kind)
        {
            case TokenKind.Integer:
                Advance();
                return Integer(t);
            case TokenKind.Float:
                Advance();
                return Float(t);
            case TokenKind.True:
                Advance();
                return new IntegerSyntax(1, false, t.Span);
            case TokenKind.False:
                Advance();
                return new IntegerSyntax(0, false, t.Span);
            case TokenKind.Identifier:
            {
                Advance();
                if (!Accept(TokenKind.LeftParen)) return new NameSyntax(Text(t), t.Span);
                var arguments = new List<ExprSyntax>();
                if (Current.Kind != TokenKind.RightParen)
                {
                    do arguments.Add(Expression());
                    while (Accept(TokenKind.Comma));
                }
                Expect(TokenKind.RightParen, $"after the arguments of '{Text(t)}'");
                return new CallSyntax(Text(t), t.Span, arguments, From(t.Start));
            }
            case TokenKind.LeftParen:
            {
                Advance();
                ExprSyntax inner = Expression();
                Expect(TokenKind.RightParen, "to close '('");
                return inner;
            }
            default:
                throw Error(t.Span, $"expected an expression, found {Describe(t)}");
        }
    }

    private IntegerSyntax Integer(Token t)
    {
        string text = Text(t).Replace("_", "", StringComparison.Ordinal);
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        bool ok = hex
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok) throw Error(t.Span, $"the integer '{Text(t)}' does not fit in 64 bits");
        return new IntegerSyntax(value, hex, t.Span);
    }

    private FloatSyntax Float(Token t)
    {
        double value = double.Parse(Text(t).Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value)) throw Error(t.Span, $"the number '{Text(t)}' is too large for f64");
        return new FloatSyntax(value, t.Span);
    }
}
