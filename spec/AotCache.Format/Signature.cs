using System.Collections.Immutable;
using System.IO.Hashing;
using System.Text;

namespace AotCache.Format;

/// <summary>
/// A function type in its canonical form (FORMAT.md §6): calling convention, parameter types and
/// result types. Its <see cref="Hash"/> is the signature hash that callers record.
/// </summary>
/// <remarks>
/// Canonical encoding: <c>u8 convention, u8 n, n × u8 parameter type, u8 m, m × u8 result type</c>
/// with m ≤ 1. The encoding is the identity: two signatures are the same exactly when their
/// encodings are equal bytes.
/// </remarks>
public sealed class Signature : IEquatable<Signature>
{
    /// <summary>Largest number of parameters (the count is one byte).</summary>
    public const int MaxParameters = 255;

    /// <summary>Largest number of results.</summary>
    public const int MaxResults = 1;

    /// <summary>Longest canonical encoding: 1 + 1 + 255 + 1 + 1 bytes.</summary>
    public const int MaxEncodedLength = 3 + MaxParameters + MaxResults;

    /// <summary>The calling convention.</summary>
    public CallingConvention Convention { get; }
    /// <summary>The parameter types, in order.</summary>
    public ImmutableArray<ScalarType> Parameters { get; }
    /// <summary>The result types (none or one).</summary>
    public ImmutableArray<ScalarType> Results { get; }

    /// <summary>A signature with <paramref name="convention"/>, <paramref name="parameters"/> and <paramref name="results"/>.</summary>
    public Signature(CallingConvention convention, ReadOnlySpan<ScalarType> parameters, ReadOnlySpan<ScalarType> results)
    {
        if (!Enum.IsDefined(convention))
            throw new ArgumentOutOfRangeException(nameof(convention), convention, "unknown calling convention");
        if (parameters.Length > MaxParameters)
            throw new ArgumentException($"a signature has at most {MaxParameters} parameters, not {parameters.Length}", nameof(parameters));
        if (results.Length > MaxResults)
            throw new ArgumentException($"a signature has at most {MaxResults} result, not {results.Length}", nameof(results));
        foreach (ScalarType t in parameters)
            if (!Enum.IsDefined(t)) throw new ArgumentOutOfRangeException(nameof(parameters), t, "unknown value type");
        foreach (ScalarType t in results)
            if (!Enum.IsDefined(t)) throw new ArgumentOutOfRangeException(nameof(results), t, "unknown value type");
        Convention = convention;
        Parameters = [.. parameters];
        Results = [.. results];
        Encoding = Encode();
        Hash = HashEncoding(Encoding.AsSpan());
    }

    /// <summary>System V signature.</summary>
    public static Signature SysV(ReadOnlySpan<ScalarType> parameters, ReadOnlySpan<ScalarType> results) =>
        new(CallingConvention.SysV, parameters, results);

    /// <summary>The canonical encoding.</summary>
    public ImmutableArray<byte> Encoding { get; }

    /// <summary>The signature hash: XxHash3-64 with seed 0 of <see cref="Encoding"/> [SIG-2].</summary>
    public ulong Hash { get; }

    /// <summary>The signature hash of a canonical encoding.</summary>
    public static ulong HashEncoding(ReadOnlySpan<byte> encoding) => XxHash3.HashToUInt64(encoding, FormatConstants.HashSeed);

    private ImmutableArray<byte> Encode()
    {
        var bytes = new byte[3 + Parameters.Length + Results.Length];
        bytes[0] = (byte)Convention;
        bytes[1] = (byte)Parameters.Length;
        for (int i = 0; i < Parameters.Length; i++) bytes[2 + i] = (byte)Parameters[i];
        bytes[2 + Parameters.Length] = (byte)Results.Length;
        for (int i = 0; i < Results.Length; i++) bytes[3 + Parameters.Length + i] = (byte)Results[i];
        return ImmutableArray.Create(bytes);
    }

    /// <summary>
    /// Checks that <paramref name="encoding"/> is exactly one well-formed canonical encoding [SIG-1],
    /// without allocating. On failure gives the reason and the offset inside the encoding.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> encoding, out string? error, out int errorOffset)
    {
        error = null;
        errorOffset = 0;
        if (encoding.Length < 3) { error = $"encoding is {encoding.Length} bytes, shorter than the 3-byte minimum"; return false; }
        if (!Enum.IsDefined((CallingConvention)encoding[0])) { error = $"unknown calling convention {encoding[0]}"; return false; }
        int n = encoding[1];
        if (encoding.Length < 3 + n) { error = $"{n} parameters do not fit in {encoding.Length} bytes"; errorOffset = 1; return false; }
        int m = encoding[2 + n];
        if (m > MaxResults) { error = $"{m} results, at most {MaxResults} allowed"; errorOffset = 2 + n; return false; }
        if (encoding.Length != 3 + n + m) { error = $"encoding is {encoding.Length} bytes, expected {3 + n + m}"; errorOffset = 2 + n; return false; }
        for (int i = 0; i < n + m; i++)
        {
            int at = i < n ? 2 + i : 3 + i;
            if (!Enum.IsDefined((ScalarType)encoding[at])) { error = $"unknown value type {encoding[at]}"; errorOffset = at; return false; }
        }
        return true;
    }

    /// <summary>
    /// Decodes a canonical encoding. Returns null and a reason when the bytes are not exactly one
    /// well-formed encoding [SIG-1].
    /// </summary>
    public static Signature? TryDecode(ReadOnlySpan<byte> encoding, out string? error, out int errorOffset)
    {
        if (!IsWellFormed(encoding, out error, out errorOffset)) return null;
        int n = encoding[1];
        int m = encoding[2 + n];
        var parameters = new ScalarType[n];
        var results = new ScalarType[m];
        for (int i = 0; i < n; i++) parameters[i] = (ScalarType)encoding[2 + i];
        for (int i = 0; i < m; i++) results[i] = (ScalarType)encoding[3 + n + i];
        return new Signature((CallingConvention)encoding[0], parameters, results);
    }

    /// <summary>Whether <paramref name="other"/> has the same canonical encoding.</summary>
    public bool Equals(Signature? other) =>
        other is not null && Encoding.AsSpan().SequenceEqual(other.Encoding.AsSpan());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Signature);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)Hash;

    /// <summary>Text form used by tools: <c>sysv (i64, f64) -> i64</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Convention == CallingConvention.SysV ? "sysv" : "win64").Append(" (");
        for (int i = 0; i < Parameters.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(TypeName(Parameters[i]));
        }
        sb.Append(") -> ");
        sb.Append(Results.Length == 0 ? "void" : TypeName(Results[0]));
        return sb.ToString();
    }

    /// <summary>The name of a type as signatures print it (e.g. <c>i64</c>).</summary>
    public static string TypeName(ScalarType t) => t switch
    {
        ScalarType.I32 => "i32",
        ScalarType.I64 => "i64",
        ScalarType.F32 => "f32",
        ScalarType.F64 => "f64",
        ScalarType.Ptr => "ptr",
        _ => $"type{(byte)t}",
    };
}
