using System.Text;

namespace AotCache.Demo.Language;

/// <summary>A compile error at a place in a source file.</summary>
public sealed record Diagnostic(SourceText Source, TextSpan Span, string Message)
{
    public (int Line, int Column) Position => Source.Position(Span.Start);

    /// <summary><c>path:line:col: error: message</c>, then the source line with a caret under the place.</summary>
    public override string ToString()
    {
        var (line, column) = Position;
        string text = Source.Line(line);
        var caret = new StringBuilder();
        for (int i = 0; i < column - 1 && i < text.Length; i++) caret.Append(text[i] == '\t' ? '\t' : ' ');
        caret.Append('^');
        int width = Math.Min(Span.Length, Math.Max(0, text.Length - (column - 1)));
        if (width > 1) caret.Append('~', width - 1);
        return $"{Source.Path}:{line}:{column}: error: {Message}\n  {text}\n  {caret}";
    }
}

/// <summary>Thrown when a source file has errors; the diagnostics say where and why.</summary>
public sealed class CompileErrorException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception(string.Join("\n", diagnostics.Select(d => d.ToString())))
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
