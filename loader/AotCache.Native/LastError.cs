using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.Native;

/// <summary>
/// The calling thread's last failure, as <c>aotcache_last_error</c> gives it: status, spec error code, offset,
/// requirement and message. The strings are native UTF-8 copies that live until the thread's next failure replaces
/// them (a thread's last pair is never freed; two short strings per thread that ever failed).
/// </summary>
internal static class LastError
{
    [ThreadStatic] private static Status t_status;
    [ThreadStatic] private static int t_code;
    [ThreadStatic] private static long t_offset;
    [ThreadStatic] private static nint t_requirement;
    [ThreadStatic] private static nint t_message;

    private static readonly nint s_empty = Marshal.StringToCoTaskMemUTF8(""); // for threads that never failed

    /// <summary>Records a failure on this thread and returns its status.</summary>
    public static Status Set(Status status, ErrorCode? code, long offset, string message)
    {
        nint requirement = Marshal.StringToCoTaskMemUTF8(code is { } c ? ErrorCodes.Requirement(c) : "");
        nint text = Marshal.StringToCoTaskMemUTF8(message);
        Free(t_requirement);
        Free(t_message);
        t_status = status;
        t_code = code is { } n ? (int)n : 0;
        t_offset = code is null ? -1 : offset;
        t_requirement = requirement;
        t_message = text;
        return status;
    }

    /// <summary>Writes the record into the caller's <c>aotcache_error</c>.</summary>
    public static void CopyTo(nint error)
    {
        Marshal.WriteInt32(error, CLayout.Error.Status, (int)t_status);
        Marshal.WriteInt32(error, CLayout.Error.Code, t_code);
        Marshal.WriteInt64(error, CLayout.Error.Offset, t_status == Status.Ok ? -1 : t_offset);
        Marshal.WriteIntPtr(error, CLayout.Error.Requirement, t_requirement != 0 ? t_requirement : s_empty);
        Marshal.WriteIntPtr(error, CLayout.Error.Message, t_message != 0 ? t_message : s_empty);
    }

    private static void Free(nint text)
    {
        if (text != 0) Marshal.FreeCoTaskMem(text);
    }
}
