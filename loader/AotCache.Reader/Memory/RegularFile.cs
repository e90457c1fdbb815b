using System.Runtime.InteropServices;
using AotCache.Format;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Reader.Memory;

/// <summary>
/// Opens a file for reading only if it is a regular file. A cache path may name a FIFO, a pipe (<c>/dev/stdin</c>
/// under <c>cat f |</c>), a device (<c>/dev/zero</c>) or a directory, planted or by mistake: reading one blocks
/// forever (a FIFO without a writer blocks in <c>open</c> itself), never ends, or has no length to map. So the file
/// is opened with <c>O_NONBLOCK</c>, which makes <c>open</c> of a FIFO return at once, and <c>fstat</c> of the open
/// descriptor decides: no race between a check of the name and the open. Anything but a regular file is an
/// <see cref="IOException"/> naming what it is (the file system is not input). <c>O_NONBLOCK</c> changes nothing for
/// a regular file. Part of the reader's memory layer: stat's buffer is read through a pointer
/// (<see cref="FileIdentity"/>).
/// </summary>
internal static partial class RegularFile
{
    private const int OpenReadOnly = 0, OpenNonBlocking = 0x800, OpenCloseOnExec = 0x80000;
    private const int NoSuchFile = 2, NotADirectory = 20, AccessDenied = 13, NotPermitted = 1;

    /// <summary>Opens <paramref name="path"/> for reading (following symbolic links: what a link names is checked),
    /// or throws: <see cref="FileNotFoundException"/>, <see cref="DirectoryNotFoundException"/>,
    /// <see cref="UnauthorizedAccessException"/>, or <see cref="NotRegularFileException"/> for a FIFO, pipe, device,
    /// socket or directory. Elsewhere than on Linux, .NET's own open.</summary>
    public static SafeFileHandle OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux()) return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        int fd = Open(path, OpenReadOnly | OpenNonBlocking | OpenCloseOnExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string reason = Marshal.GetPInvokeErrorMessage(errno);
            throw errno switch
            {
                NoSuchFile => new FileNotFoundException($"cannot open {Names.Quote(path)}: {reason}", path),
                NotADirectory => new DirectoryNotFoundException($"cannot open {Names.Quote(path)}: {reason}"),
                AccessDenied or NotPermitted => new UnauthorizedAccessException($"cannot open {Names.Quote(path)}: {reason}"),
                _ => new IOException($"cannot open {Names.Quote(path)}: {reason} (errno {errno})"),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            FileIdentity identity = FileIdentity.Of(handle) ?? throw new IOException($"cannot fstat {Names.Quote(path)}: errno {Marshal.GetLastPInvokeError()}");
            if (!identity.IsRegularFile) throw new NotRegularFileException(path, identity.TypeName);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
