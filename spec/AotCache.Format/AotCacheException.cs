namespace AotCache.Format;

/// <summary>
/// The one exception a reader or loader throws for bad or unusable input, whatever the bytes:
/// a stable <see cref="ErrorCode"/>, the byte offset where the problem was found (−1 when it is not
/// at a byte, e.g. a missing import), and the FORMAT.md requirement broken.
/// </summary>
/// <remarks>Misuse of an API by its caller is an <see cref="ArgumentException"/> or
/// <see cref="InvalidOperationException"/>, never this.</remarks>
public sealed class AotCacheException : Exception
{
    /// <summary>What is wrong, as a stable code (FORMAT.md §15).</summary>
    public ErrorCode Code { get; }

    /// <summary>Byte offset in the file, or −1.</summary>
    public long Offset { get; }

    /// <summary>Requirement ID in FORMAT.md, e.g. <c>REL-3</c>.</summary>
    public string Requirement { get; }

    /// <summary>The message without the code, offset and requirement prefix.</summary>
    public string Detail { get; }

    /// <summary>An error <paramref name="code"/> found at file <paramref name="offset"/> (-1: no single offset), with a message naming the requirement the code reports.</summary>
    public AotCacheException(ErrorCode code, long offset, string detail, Exception? inner = null)
        : base(Format(code, offset, detail), inner)
    {
        Code = code;
        Offset = offset;
        Requirement = ErrorCodes.Requirement(code);
        Detail = detail;
    }

    private static string Format(ErrorCode code, long offset, string detail)
    {
        string at = offset >= 0 ? $" at offset {offset} (0x{offset:x})" : "";
        return $"{code} ({(int)code}){at} [{ErrorCodes.Requirement(code)}]: {detail}";
    }
}
