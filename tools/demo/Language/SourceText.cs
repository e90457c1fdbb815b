namespace AotCache.Demo.Language;

/// <summary>A range of characters in a source file.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    public int End => Start + Length;

    public static TextSpan FromBounds(int start, int end) => new(start, end - start);
}

/// <summary>
/// The text of one source file, with the line starts computed once so that any offset can be named as
/// line and column (both from 1, columns counted in characters).
/// </summary>
public sealed class SourceText
{
    private readonly int[] _lineStarts;

    public SourceText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        Path = path;
        Text = text;
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    /// <summary>The path as given, for messages.</summary>
    public string Path { get; }

    public string Text { get; }

    public int Length => Text.Length;

    public ReadOnlySpan<char> this[TextSpan span] => Text.AsSpan(span.Start, span.Length);

    /// <summary>1-based line and column of a character offset.</summary>
    public (int Line, int Column) Position(int offset)
    {
        int line = Array.BinarySearch(_lineStarts, offset);
        if (line < 0) line = ~line - 1;
        return (line + 1, offset - _lineStarts[line] + 1);
    }

    /// <summary>The text of a 1-based line, without its line break.</summary>
    public string Line(int line)
    {
        int start = _lineStarts[line - 1];
        int end = line < _lineStarts.Length ? _lineStarts[line] : Text.Length;
        return Text[start..end].TrimEnd('\n', '\r');
    }
}
