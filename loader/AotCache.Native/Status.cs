using AotCache.Format;

namespace AotCache.Native;

/// <summary>What an export returns: <c>aotcache_status</c> in aotcache.h, value for value.</summary>
internal enum Status
{
    Ok = 0,
    InvalidArgument = 1,
    Io = 2,
    Malformed = 3,
    Unloadable = 4,
    SignatureMismatch = 5,
    NotFound = 6,
    Refused = 7,
    Stale = 8,
    Busy = 9,
    InvalidState = 10,
    Internal = 11,
}

/// <summary>
/// A failure an export decided on itself, with the status the C caller gets (where the generic mapping of
/// <see cref="Boundary"/> would say less: an import's signature mismatch, a refused lookup, a refused update).
/// Never leaves the library: <see cref="Boundary"/> turns it into a status and the thread's last error.
/// </summary>
internal sealed class NativeFailure(Status status, string message, ErrorCode? code = null, long offset = -1) : Exception(message)
{
    public Status Status { get; } = status;
    public ErrorCode? Code { get; } = code;
    public long Offset { get; } = offset;

    /// <summary>The same spec error, reported with another status.</summary>
    public static NativeFailure From(AotCacheException e, Status status, string? message = null) =>
        new(status, message ?? e.Message, e.Code, e.Offset);
}
