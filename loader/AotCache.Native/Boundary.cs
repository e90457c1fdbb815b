using AotCache.Format;

namespace AotCache.Native;

/// <summary>
/// The edge between C and .NET: every export runs its body through <see cref="Run"/>, so no exception crosses into
/// native frames (which would end the process). A failure becomes a status and the thread's last error: spec errors
/// keep their code, offset and requirement; a caller's misuse is <see cref="Status.InvalidArgument"/>; anything
/// unforeseen is <see cref="Status.Internal"/> naming the exception.
/// </summary>
internal static class Boundary
{
    public static int Run(Func<Status> body)
    {
        try
        {
            return (int)body();
        }
        catch (Exception e)
        {
            return (int)Record(e);
        }
    }

    private static Status Record(Exception e)
    {
        try
        {
            return e switch
            {
                NativeFailure f => LastError.Set(f.Status, f.Code, f.Offset, f.Message),
                AotCacheException a => LastError.Set((int)a.Code < 200 ? Status.Malformed : Status.Unloadable, a.Code, a.Offset, a.Message),
                KeyNotFoundException => LastError.Set(Status.NotFound, null, -1, e.Message),
                ArgumentException or ObjectDisposedException => LastError.Set(Status.InvalidArgument, null, -1, e.Message),
                InvalidOperationException => LastError.Set(Status.InvalidState, null, -1, e.Message),
                IOException or UnauthorizedAccessException => LastError.Set(Status.Io, null, -1, e.Message),
                _ => LastError.Set(Status.Internal, null, -1, $"internal error ({e.GetType().FullName}): {e.Message}"),
            };
        }
        catch (Exception)
        {
            return Status.Internal; // not even the message could be recorded (out of memory)
        }
    }
}
