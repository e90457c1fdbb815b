using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using AotCache.Format;

namespace AotCache.ConformanceTests.Vectors;

/// <summary>
/// One vector of <c>spec/vectors</c>, read as spec/vectors/README.md defines the text form: comments,
/// <c>@</c> directives, and data lines <c>OFFSET: HEX BYTES ; comment</c> or <c>OFFSET: .. N zero bytes ..</c>,
/// each OFFSET equal to the number of bytes before it. The bytes are returned after the @fixup directive.
/// </summary>
public sealed partial class VectorFile
{
    /// <summary>Path relative to <c>spec/vectors</c>, with '/' separators: <c>malformed/sec-3-sections-overlap.txt</c>.</summary>
    public required string Name { get; init; }
    public required byte[] Bytes { get; init; }
    public bool ExpectValid { get; private set; }
    public string ErrorCode { get; private set; } = "";
    public int ErrorNumber { get; private set; }
    public long ErrorOffset { get; private set; }
    public List<string> Requirements { get; } = [];
    public string Fixup { get; private set; } = "none";
    public List<(string Name, byte[] Secret)> TrustedHmacKeys { get; } = [];
    public bool RequireSignature { get; private set; }
    public List<string> MessageContains { get; } = [];

    /// <summary>The recommendation IDs <c>cachedump --verify --strict</c> reports, sorted (one per finding); null when the vector does not say.</summary>
    public List<string>? Findings { get; private set; }

    /// <summary>The directory holding the vectors.</summary>
    public static string Root { get; } = Path.Combine(GoldenFile.RepositoryRoot(), "spec", "vectors");

    /// <summary>Every vector's name, in a stable order.</summary>
    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(Root, "*.txt", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Root, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);

    public static VectorFile Load(string name) => Parse(File.ReadAllText(Path.Combine(Root, name)), name);

    [GeneratedRegex(@"^(?<offset>[0-9A-Fa-f]{8}):\s+(?<body>[^;]*?)\s*(?:;.*)?$")]
    private static partial Regex DataLine();

    [GeneratedRegex(@"^\.\.\s+(?<n>\d+)\s+zero bytes\s+\.\.$")]
    private static partial Regex ZeroRun();

    [GeneratedRegex(@"^[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})*$")]
    private static partial Regex HexBytes();

    /// <summary>Reads a vector; a line that breaks the grammar is an <see cref="FormatException"/> naming the line.</summary>
    public static VectorFile Parse(string text, string name)
    {
        var bytes = new List<byte>();
        var directives = new List<(string Line, string Where)>();
        string[] lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            string where = $"{name}:{n + 1}";
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('@'))
            {
                directives.Add((line, where));
                continue;
            }
            Match m = DataLine().Match(line);
            if (!m.Success) throw new FormatException($"{where}: not a directive, comment or data line: {line}");
            long offset = long.Parse(m.Groups["offset"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (offset != bytes.Count)
                throw new FormatException($"{where}: the line says offset 0x{offset:X}, but {bytes.Count} (0x{bytes.Count:X}) bytes precede it");
            string body = m.Groups["body"].Value.Trim();
            Match run = ZeroRun().Match(body);
            if (run.Success) bytes.AddRange(new byte[int.Parse(run.Groups["n"].Value, CultureInfo.InvariantCulture)]);
            else if (HexBytes().IsMatch(body)) bytes.AddRange(Convert.FromHexString(body.Replace(" ", "", StringComparison.Ordinal)));
            else throw new FormatException($"{where}: neither hex bytes nor a zero run: '{body}'");
        }
        var vector = new VectorFile { Name = name, Bytes = [.. bytes] };
        foreach ((string line, string where) in directives) vector.Apply(line, where);
        if (!vector.ExpectValid && vector.ErrorCode.Length == 0) throw new FormatException($"{name}: no @expect directive");
        if (!vector.ExpectValid && vector.Requirements.Count != 1)
            throw new FormatException($"{name}: an error vector names exactly one @requirement, the error's");
        ApplyFixup(vector.Bytes, vector.Fixup, name);
        return vector;
    }

    private void Apply(string line, string where)
    {
        string[] w = line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (w)
        {
            case ["expect", "valid"]:
                ExpectValid = true;
                break;
            case ["expect", "error", var code, var number, "at", var offset]:
                ErrorCode = code;
                ErrorNumber = int.Parse(number, CultureInfo.InvariantCulture);
                ErrorOffset = offset.StartsWith("0x", StringComparison.Ordinal)
                    ? long.Parse(offset[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                    : long.Parse(offset, CultureInfo.InvariantCulture);
                break;
            case ["requirement", .. var ids] when ids.Length > 0:
                Requirements.AddRange(ids);
                break;
            case ["fixup", "none" or "checksums" or "file-checksum"]:
                Fixup = w[1];
                break;
            case ["trust", "hmac-sha256", var key, var secret]:
                TrustedHmacKeys.Add((key, Convert.FromHexString(secret)));
                break;
            case ["require-signature"]:
                RequireSignature = true;
                break;
            case ["findings", "none"]:
                Findings = [];
                break;
            case ["findings", .. var ids] when ids.Length > 0:
                Findings = [.. ids.Order(StringComparer.Ordinal)];
                break;
            case ["message-contains", ..] when w.Length > 1:
                MessageContains.Add(line["@message-contains".Length..].Trim());
                break;
            default:
                throw new FormatException($"{where}: unknown or malformed directive: {line}");
        }
    }

    /// <summary>
    /// <c>checksums</c>: each directory entry's checksum, in directory order, for entries whose section lies inside
    /// the file; then the file checksum. <c>file-checksum</c>: the file checksum only. The directory must be
    /// readable for <c>checksums</c> (at most 64 entries, all inside the file): a vector that breaks it writes its
    /// section checksums out.
    /// </summary>
    private static void ApplyFixup(byte[] b, string fixup, string name)
    {
        if (b.Length < FormatConstants.HeaderSize) return;
        if (fixup == "checksums")
        {
            // The same fixup the fuzz corpus applies: section checksums in directory order, then the file checksum.
            if (!AotCache.Fuzz.Target.FixChecksums(b))
                throw new FormatException($"{name}: @fixup checksums needs a readable directory; write the section checksums out and use @fixup file-checksum");
        }
        else if (fixup == "file-checksum")
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(b));
    }

    /// <summary>SHA-256 of the assembled bytes, for comparing with another parser of the text form.</summary>
    public string Sha256() => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Bytes));

    public override string ToString() => Name;
}
