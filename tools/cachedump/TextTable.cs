using System.Text;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// Rows of cells printed in aligned columns, two spaces apart, like readelf's tables. Numbers are right-aligned
/// (columns named in the constructor with a leading '>'), text left-aligned; trailing spaces are trimmed so
/// the output is stable under any editor.
/// </summary>
internal sealed class TextTable
{
    private readonly string[] _headings;
    private readonly bool[] _rightAligned;
    private readonly List<string[]> _rows = [];

    /// <param name="headings">Column headings; a leading <c>&gt;</c> right-aligns the column.</param>
    public TextTable(params string[] headings)
    {
        _rightAligned = [.. headings.Select(h => h.StartsWith('>'))];
        _headings = [.. headings.Select(h => h.TrimStart('>'))];
    }

    public int Count => _rows.Count;

    public void Add(params string[] cells)
    {
        if (cells.Length != _headings.Length)
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {_headings.Length} columns", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>Writes the heading and the rows, each line starting with <paramref name="indent"/>.</summary>
    public void WriteTo(TextWriter output, string indent = "  ")
    {
        int[] widths = new int[_headings.Length];
        foreach (string[] row in _rows.Prepend(_headings))
            for (int c = 0; c < row.Length; c++)
                widths[c] = Math.Max(widths[c], row[c].Length);
        foreach (string[] row in _rows.Prepend(_headings))
        {
            var line = new StringBuilder(indent);
            for (int c = 0; c < row.Length; c++)
            {
                if (c > 0) line.Append("  ");
                line.Append(_rightAligned[c] ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
            }
            output.Write(line.ToString().TrimEnd());
            output.Write('\n');
        }
    }
}
