using System.Text;
using System.Text.Json;
using AotCache.Reader;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// <c>--hex KIND</c>: a section's bytes, sixteen to a line, like <c>readelf -x</c> and <c>xxd</c>: the file offset,
/// the bytes in hex, and the bytes as ASCII (anything not printable as '.'). Private sections too, by number.
/// </summary>
internal static class HexDump
{
    private const int LineBytes = 16;

    /// <summary>The section of <paramref name="kind"/>'s bytes and file offset, or false when the file has none.</summary>
    public static bool TryFind(CacheImage image, uint kind, out int offset, out ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<Format.SectionEntry> directory = image.Directory;
        for (int i = 0; i < directory.Length; i++)
            if (directory[i].Kind == kind)
            {
                offset = (int)directory[i].Offset;
                bytes = image.File.Slice(offset, (int)directory[i].Size);
                return true;
            }
        offset = 0;
        bytes = default;
        return false;
    }

    /// <summary>The kinds the file has, for an error that names a missing one.</summary>
    public static string KindsPresent(CacheImage image) =>
        string.Join(", ", image.Directory.ToArray().Select(e => SectionKinds.Name(e.Kind)));

    public static void WriteText(TextWriter output, uint kind, int offset, ReadOnlySpan<byte> bytes)
    {
        output.Write($"\nHex dump of section {SectionKinds.Name(kind)} ({bytes.Length} bytes at file offset 0x{offset:x8}):\n");
        var line = new StringBuilder();
        for (int at = 0; at < bytes.Length; at += LineBytes)
        {
            ReadOnlySpan<byte> chunk = bytes.Slice(at, Math.Min(LineBytes, bytes.Length - at));
            line.Clear();
            line.Append($"  {offset + at:x8}  ");
            for (int i = 0; i < LineBytes; i++)
            {
                line.Append(i < chunk.Length ? $"{chunk[i]:x2} " : "   ");
                if (i == 7) line.Append(' ');
            }
            line.Append(" |");
            foreach (byte b in chunk) line.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            line.Append('|');
            output.Write(line.ToString());
            output.Write('\n');
        }
    }

    public static void WriteJson(Utf8JsonWriter json, uint kind, int offset, ReadOnlySpan<byte> bytes)
    {
        json.WriteStartObject();
        json.WriteString("section", SectionKinds.Name(kind));
        json.WriteNumber("offset", offset);
        json.WriteNumber("size", bytes.Length);
        json.WriteString("bytes", Convert.ToHexStringLower(bytes));
        json.WriteEndObject();
    }
}
