namespace AotCache.Demo.Language;

/// <summary>What a token is. Keywords and punctuation have their own kinds; names and numbers carry their text.</summary>
public enum TokenKind : byte
{
    EndOfFile,
    Identifier,
    Integer,
    Float,
    /// <summary>A character that starts no token; the lexer reports it.</summary>
    Invalid,

    // keywords
    Fn, Extern, Let, Var, Const, If, Else, While, Return, As, True, False, I64, F64,

    // punctuation
    LeftParen, RightParen, LeftBrace, RightBrace, Comma, Semicolon, Colon, Arrow,
    Assign, Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
    Plus, Minus, Star, Slash, Percent, Ampersand, Pipe, Caret, Tilde, Bang,
    AmpersandAmpersand, PipePipe, ShiftLeft, ShiftRight,
}

/// <summary>A token: its kind and where it is. Its text is read from the source when needed.</summary>
public readonly record struct Token(TokenKind Kind, int Start, int Length)
{
    public TextSpan Span => new(Start, Length);

    public int End => Start + Length;

    /// <summary>True for the kinds whose text matters beyond their kind (names and numbers).</summary>
    public bool HasText => Kind is TokenKind.Identifier or TokenKind.Integer or TokenKind.Float;

    /// <summary>How a token kind is written, for messages.</summary>
    public static string Describe(TokenKind kind) => kind switch
    {
        TokenKind.EndOfFile => "end of file",
        TokenKind.Identifier => "a name",
        TokenKind.Integer => "an integer",
        TokenKind.Float => "a number",
        TokenKind.Invalid => "an invalid character",
        TokenKind.LeftParen => "'('",
        TokenKind.RightParen => "')'",
        TokenKind.LeftBrace => "'{'",
        TokenKind.RightBrace => "'}'",
        TokenKind.Comma => "','",
        TokenKind.Semicolon => "';'",
        TokenKind.Colon => "':'",
        TokenKind.Arrow => "'->'",
        TokenKind.Assign => "'='",
        TokenKind.Equal => "'=='",
        TokenKind.NotEqual => "'!='",
        TokenKind.Less => "'<'",
        TokenKind.LessEqual => "'<='",
        TokenKind.Greater => "'>'",
        TokenKind.GreaterEqual => "'>='",
        TokenKind.Plus => "'+'",
        TokenKind.Minus => "'-'",
        TokenKind.Star => "'*'",
        TokenKind.Slash => "'/'",
        TokenKind.Percent => "'%'",
        TokenKind.Ampersand => "'&'",
        TokenKind.Pipe => "'|'",
        TokenKind.Caret => "'^'",
        TokenKind.Tilde => "'~'",
        TokenKind.Bang => "'!'",
        TokenKind.AmpersandAmpersand => "'&&'",
        TokenKind.PipePipe => "'||'",
        TokenKind.ShiftLeft => "'<<'",
        TokenKind.ShiftRight => "'>>'",
        _ => $"'{kind.ToString().ToLowerInvariant()}'",
    };
}
