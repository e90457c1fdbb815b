using System.Globalization;

namespace AotCache.DiffRunner;

/// <summary>Arguments of one call of a program's entry, <c>entry(i64 depth, i64 a, i64 b, f64 x, f64 y)</c>; f64s as bits.</summary>
public readonly record struct EntryArguments(long Depth, long A, long B, long XBits, long YBits)
{
    public double X => BitConverter.Int64BitsToDouble(XBits);
    public double Y => BitConverter.Int64BitsToDouble(YBits);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"depth={Depth}, a={A}, b={B}, x={X:R} (0x{XBits:x16}), y={Y:R} (0x{YBits:x16})");
}

/// <summary>What one call of the entry produced: its result's bits, the host callbacks' count and checksum
/// during the call, and every writable global's bits after it.</summary>
public sealed record EntryOutcome(long ResultBits, long HostCalls, long HostChecksum, IReadOnlyList<long> GlobalBits)
{
    public bool Equals(EntryOutcome? other) => other is not null && ResultBits == other.ResultBits && HostCalls == other.HostCalls
        && HostChecksum == other.HostChecksum && GlobalBits.SequenceEqual(other.GlobalBits);

    public override int GetHashCode() => HashCode.Combine(ResultBits, HostCalls, HostChecksum, GlobalBits.Count);
}

/// <summary>One program to run: a cache file, the type of its entry's result, the writable globals to report
/// and the argument sets, called in order on one loaded module (globals persist between the calls).</summary>
public sealed record DiffRequest(string Path, bool ResultIsF64, IReadOnlyList<string> Globals, IReadOnlyList<EntryArguments> Calls)
{
    public const string EntryName = "entry";

    /// <summary>The line the runner prints once it is started and reading requests.</summary>
    public const string Ready = "ready";

    /// <summary>One line: path, result type, globals, calls; tab-separated, numbers in hex.</summary>
    public string Format() => string.Join('\t',
        Path,
        ResultIsF64 ? "f64" : "i64",
        Globals.Count == 0 ? "-" : string.Join(',', Globals),
        string.Join(';', Calls.Select(c => string.Join(',', Hex(c.Depth), Hex(c.A), Hex(c.B), Hex(c.XBits), Hex(c.YBits)))));

    public static DiffRequest Parse(string line)
    {
        string[] fields = line.Split('\t');
        if (fields.Length != 4) throw new FormatException($"a request has 4 tab-separated fields, not {fields.Length}");
        var calls = fields[3].Split(';').Select(c =>
        {
            long[] n = c.Split(',').Select(ParseHex).ToArray();
            if (n.Length != 5) throw new FormatException($"a call has 5 arguments, not {n.Length}");
            return new EntryArguments(n[0], n[1], n[2], n[3], n[4]);
        }).ToList();
        return new DiffRequest(fields[0], fields[1] == "f64", fields[2] == "-" ? [] : fields[2].Split(','), calls);
    }

    /// <summary>The reply: <c>ok</c> and one outcome per call, or <c>error</c> and a message on one line.</summary>
    public static string FormatReply(IEnumerable<EntryOutcome> outcomes) =>
        "ok\t" + string.Join(';', outcomes.Select(o =>
            string.Join(',', new[] { o.ResultBits, o.HostCalls, o.HostChecksum }.Concat(o.GlobalBits).Select(Hex))));

    public static string FormatError(string message) => "error\t" + message.ReplaceLineEndings(" | ");

    /// <summary>Outcomes from a reply; throws with the child's message for an error reply.</summary>
    public static IReadOnlyList<EntryOutcome> ParseReply(string reply)
    {
        if (reply.StartsWith("error\t", StringComparison.Ordinal)) throw new InvalidOperationException("the runner failed: " + reply[6..]);
        if (!reply.StartsWith("ok\t", StringComparison.Ordinal)) throw new FormatException($"not a reply: {reply}");
        return reply[3..].Split(';').Select(o =>
        {
            long[] n = o.Split(',').Select(ParseHex).ToArray();
            return new EntryOutcome(n[0], n[1], n[2], n[3..]);
        }).ToList();
    }

    private static string Hex(long value) => value.ToString("x", CultureInfo.InvariantCulture);

    private static long ParseHex(string text) => long.Parse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}
