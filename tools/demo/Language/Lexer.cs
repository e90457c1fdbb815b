namespace AotCache.Demo.Language;

/// <summary>
/// Turns source text into tokens. Whitespace and <c>//</c> comments separate tokens and are dropped. A
/// character that starts no token becomes an <see cref="TokenKind.Invalid"/> token and a diagnostic, and
/// lexing goes on, so that one stray character does not hide the errors after it.
/// </summary>
public static class Lexer
{
    private static readonly Dictionary<string, TokenKind> Keywords = new(StringComparer.Ordinal)
    {
        ["fn"] = TokenKind.Fn,
        ["extern"] = TokenKind.Extern,
        ["let"] = TokenKind.Let,
        ["var"] = TokenKind.Var,
        ["const"] = TokenKind.Const,
        ["if"] = TokenKind.If,
        ["else"] = TokenKind.Else,
        ["while"] = TokenKind.While,
        ["return"] = TokenKind.Return,
        ["as"] = TokenKind.As,
        ["true"] = TokenKind.True,
        ["false"] = TokenKind.False,
        ["i64"] = TokenKind.I64,
        ["f64"] = TokenKind.F64,
    };

    private static readonly Dictionary<string, TokenKind>.AlternateLookup<ReadOnlySpan<char>> KeywordLookup =
        Keywords.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The tokens of <paramref name="source"/> from <paramref name="start"/> to <paramref name="end"/>,
    /// ending with <see cref="TokenKind.EndOfFile"/> at <paramref name="end"/>.</summary>
    public static List<Token> Lex(SourceText source, List<Diagnostic> diagnostics, int start = 0, int end = -1)
    {
        ReadOnlySpan<char> text = source.Text;
        if (end < 0) end = text.Length;
        var tokens = new List<Token>(Math.Max(16, (end - start) / 4));
        int i = start;
        while (true)
        {
            i = SkipTrivia(text, i, end);
            if (i >= end)
            {
                tokens.Add(new Token(TokenKind.EndOfFile, end, 0));
                return tokens;
            }
            int tokenStart = i;
            char c = text[i];
            TokenKind kind;
            if (IsIdentifierStart(c))
            {
                while (i < end && IsIdentifierPart(text[i])) i++;
                kind = KeywordLookup.TryGetValue(text[tokenStart..i], out TokenKind keyword) ? keyword : TokenKind.Identifier;
            }
            else if (char.IsAsciiDigit(c))
            {
                kind = Number(source, text, ref i, end, diagnostics);
            }
            else
            {
                kind = Punctuation(text, ref i, end);
                if (kind == TokenKind.Invalid)
                {
                    bool pair = char.IsHighSurrogate(c) && tokenStart + 1 < end && char.IsLowSurrogate(text[tokenStart + 1]);
                    int codePoint = pair ? char.ConvertToUtf32(c, text[tokenStart + 1]) : c;
                    i = tokenStart + (pair ? 2 : 1);
                    diagnostics.Add(new Diagnostic(source, TextSpan.FromBounds(tokenStart, i),
                        $"unexpected character '{text[tokenStart..i]}' (U+{codePoint:X4})"));
                }
            }
            tokens.Add(new Token(kind, tokenStart, i - tokenStart));
        }
    }

    /// <summary>Skips whitespace and line comments; returns the offset of the next token or <paramref name="end"/>.</summary>
    public static int SkipTrivia(ReadOnlySpan<char> text, int i, int end)
    {
        while (i < end)
        {
            char c = text[i];
            if (c is ' ' or '\t' or '\r' or '\n') { i++; continue; }
            if (c == '/' && i + 1 < end && text[i + 1] == '/')
            {
                int newline = text[i..end].IndexOf('\n');
                i = newline < 0 ? end : i + newline + 1;
                continue;
            }
            break;
        }
        return i;
    }

    public static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    public static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static TokenKind Number(SourceText source, ReadOnlySpan<char> text, ref int i, int end, List<Diagnostic> diagnostics)
    {
        int start = i;
        if (text[i] == '0' && i + 1 < end && (text[i + 1] is 'x' or 'X'))
        {
            i += 2;
            while (i < end && (char.IsAsciiHexDigit(text[i]) || text[i] == '_')) i++;
            if (i == start + 2) diagnostics.Add(new Diagnostic(source, TextSpan.FromBounds(start, i), "a hexadecimal number needs digits after '0x'"));
            return TokenKind.Integer;
        }
        bool isFloat = false;
        while (i < end && (char.IsAsciiDigit(text[i]) || text[i] == '_')) i++;
        if (i + 1 < end && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
        {
            isFloat = true;
            i++;
            while (i < end && (char.IsAsciiDigit(text[i]) || text[i] == '_')) i++;
        }
        if (i < end && text[i] is 'e' or 'E')
        {
            int exponent = i + 1;
            if (exponent < end && text[exponent] is '+' or '-') exponent++;
            if (exponent < end && char.IsAsciiDigit(text[exponent]))
            {
                isFloat = true;
                i = exponent;
                while (i < end && char.IsAsciiDigit(text[i])) i++;
            }
        }
        if (i < end && IsIdentifierPart(text[i]))
        {
            int bad = i;
            while (i < end && IsIdentifierPart(text[i])) i++;
            diagnostics.Add(new Diagnostic(source, TextSpan.FromBounds(bad, i), $"unexpected '{text[bad..i]}' after a number"));
        }
        return isFloat ? TokenKind.Float : TokenKind.Integer;
    }

    private static TokenKind Punctuation(ReadOnlySpan<char> text, ref int i, int end)
    {
        char c = text[i];
        char next = i + 1 < end ? text[i + 1] : '\0';
        (TokenKind kind, int length) = c switch
        {
            '(' => (TokenKind.LeftParen, 1),
            ')' => (TokenKind.RightParen, 1),
            '{' => (TokenKind.LeftBrace, 1),
            '}' => (TokenKind.RightBrace, 1),
            ',' => (TokenKind.Comma, 1),
            ';' => (TokenKind.Semicolon, 1),
            ':' => (TokenKind.Colon, 1),
            '+' => (TokenKind.Plus, 1),
            '*' => (TokenKind.Star, 1),
            '/' => (TokenKind.Slash, 1),
            '%' => (TokenKind.Percent, 1),
            '^' => (TokenKind.Caret, 1),
            '~' => (TokenKind.Tilde, 1),
            '-' => next == '>' ? (TokenKind.Arrow, 2) : (TokenKind.Minus, 1),
            '=' => next == '=' ? (TokenKind.Equal, 2) : (TokenKind.Assign, 1),
            '!' => next == '=' ? (TokenKind.NotEqual, 2) : (TokenKind.Bang, 1),
            '<' => next == '=' ? (TokenKind.LessEqual, 2) : next == '<' ? (TokenKind.ShiftLeft, 2) : (TokenKind.Less, 1),
            '>' => next == '=' ? (TokenKind.GreaterEqual, 2) : next == '>' ? (TokenKind.ShiftRight, 2) : (TokenKind.Greater, 1),
            '&' => next == '&' ? (TokenKind.AmpersandAmpersand, 2) : (TokenKind.Ampersand, 1),
            '|' => next == '|' ? (TokenKind.PipePipe, 2) : (TokenKind.Pipe, 1),
            _ => (TokenKind.Invalid, 0),
        };
        i += length;
        return kind;
    }
}
