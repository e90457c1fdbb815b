using System.Globalization;
using System.Text;

namespace AotCache.Format;

/// <summary>
/// Names and strings from a file, made safe to put in a message or on a terminal. A file's names are any valid
/// UTF-8 [STR-1], so a name may hold a line break (and forge another line of a tool's output, such as an
/// <c>OK:</c> verdict), an escape sequence for the terminal, or characters that print as nothing or reorder the
/// text around them. Every message of the reader, the loader and the tools that quotes a name from a file goes
/// through <see cref="Quote"/> or <see cref="Escape"/>.
/// </summary>
public static class Names
{
    /// <summary>
    /// <paramref name="text"/> with every character that does not print as itself escaped: a backslash as <c>\\</c>;
    /// tab, line feed and carriage return as <c>\t</c>, <c>\n</c>, <c>\r</c>; other control characters, format
    /// characters (bidirectional overrides, zero-width characters), line and paragraph separators, spaces other than
    /// U+0020, private-use, unassigned and lone surrogate code points as <c>\uXXXX</c> (<c>\UXXXXXXXX</c> beyond the
    /// BMP). Printable text comes back as it is, without allocating.
    /// </summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return NeedsEscape(text, '\\') ? Append(new StringBuilder(text.Length + 16), text, quote: null).ToString() : text;
    }

    /// <summary><paramref name="text"/> between single quotes, escaped as by <see cref="Escape"/> and with a single
    /// quote inside escaped as <c>\'</c>, so the quotes always delimit the whole name: <c>'main'</c>.</summary>
    public static string Quote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!NeedsEscape(text, '\'')) return string.Concat("'", text, "'");
        var sb = new StringBuilder(text.Length + 18).Append('\'');
        return Append(sb, text, quote: '\'').Append('\'').ToString();
    }

    /// <summary>False when every character is printable ASCII other than a backslash and <paramref name="quote"/>.</summary>
    private static bool NeedsEscape(string text, char quote)
    {
        foreach (char c in text)
            if (c < 0x20 || c > 0x7E || c == '\\' || c == quote) return true;
        return false;
    }

    private static StringBuilder Append(StringBuilder sb, string text, char? quote)
    {
        for (int i = 0; i < text.Length;)
        {
            // Lone surrogates (impossible in validated UTF-8, possible in a caller's string) are escaped by value.
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)text[i]:x4}");
                i++;
                continue;
            }
            i += used;
            int v = rune.Value;
            if (v == '\\') sb.Append(@"\\");
            else if (quote is { } q && v == q) sb.Append('\\').Append(q);
            else if (v == '\n') sb.Append(@"\n");
            else if (v == '\r') sb.Append(@"\r");
            else if (v == '\t') sb.Append(@"\t");
            else if (Prints(rune)) sb.Append(rune.ToString());
            else if (v <= 0xFFFF) sb.Append(CultureInfo.InvariantCulture, $"\\u{v:x4}");
            else sb.Append(CultureInfo.InvariantCulture, $"\\U{v:x8}");
        }
        return sb;
    }

    /// <summary>Whether a character prints as itself: not a control, format, separator (other than the space),
    /// private-use, surrogate or unassigned code point.</summary>
    private static bool Prints(Rune rune)
    {
        if (rune.Value == ' ') return true;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator or UnicodeCategory.PrivateUse
                or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned => false,
            _ => true,
        };
    }
}
