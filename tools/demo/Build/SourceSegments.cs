using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using AotCache.Demo.Language;

namespace AotCache.Demo.Build;

public enum SegmentKind : byte
{
    Function = 1,
    Extern = 2,
    Global = 3,
    /// <summary>Whitespace and comments after the last item; always the last segment.</summary>
    Trailing = 4,
}

/// <summary>A segment of a source file: one top-level item with the whitespace and comments before it.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public readonly record struct Segment(int Length, SegmentKind Kind, ulong Hash)
{
    public const int RecordSize = 16;
}

/// <summary>
/// Cuts a parsed program into segments that tile its UTF-8 bytes: each item with the trivia before it, then
/// the trivia after the last item. Segment boundaries are item ends, where the lexer holds no state, so a
/// segment whose bytes are unchanged lexes and parses exactly as before wherever it now sits.
/// </summary>
public static class SourceSegments
{
    public static ulong Hash(ReadOnlySpan<byte> bytes) => XxHash3.HashToUInt64(bytes);

    public static List<Segment> Compute(ProgramSyntax program, ReadOnlySpan<byte> utf8)
    {
        string text = program.Source.Text;
        var segments = new List<Segment>(program.Items.Count + 1);
        int chars = 0, bytes = 0;
        for (int i = 0; i <= program.Items.Count; i++)
        {
            bool trailing = i == program.Items.Count;
            SegmentKind kind = trailing ? SegmentKind.Trailing : program.Items[i] switch
            {
                FunctionSyntax { IsExtern: true } => SegmentKind.Extern,
                FunctionSyntax => SegmentKind.Function,
                _ => SegmentKind.Global,
            };
            int charEnd = trailing ? text.Length : program.Items[i].Span.End;
            int length = Encoding.UTF8.GetByteCount(text.AsSpan(chars, charEnd - chars));
            segments.Add(new Segment(length, kind, Hash(utf8.Slice(bytes, length))));
            chars = charEnd;
            bytes += length;
        }
        return segments;
    }
}
