using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Reader.Memory;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Writer;

/// <summary>
/// The Linux file calls <see cref="AtomicFile"/> needs and .NET does not offer: an atomic exchange of two
/// names (renameat2 with RENAME_EXCHANGE, Linux 3.15, ext4/xfs/btrfs/tmpfs), open without
/// following a symbolic link, and fsync of a directory, which makes a rename durable. (flock is the loader's
/// the reader's <c>FileLock</c>, whose other side its readers take.) Plain P/Invoke with marshalled strings: no unsafe code.
/// </summary>
internal static class LinuxFiles
{
    private const int AtCurrentDirectory = -100;
    private const uint RenameExchange = 2;
    private const int OpenReadOnly = 0, OpenReadWrite = 2, OpenCreate = 0x40, OpenDirectory = 0x10000, OpenNoFollowLinks = 0x20000, OpenCloseOnExec = 0x80000;
    private const int NewFileMode = 0x1B6; // 0666 before the umask, as .NET creates files

    /// <summary>What <see cref="TryExchange"/> did.</summary>
    public enum Exchange { Done, NoSuchFile, Unsupported }

    /// <summary>Swaps what two names in one directory refer to, atomically. When a name does not exist (ENOENT), or
    /// the file system or kernel cannot (EINVAL, ENOSYS, EOPNOTSUPP, …), nothing happens and the caller falls back.</summary>
    public static Exchange TryExchange(string a, string b)
    {
        try
        {
            return RenameAt2(AtCurrentDirectory, a, AtCurrentDirectory, b, RenameExchange) == 0 ? Exchange.Done
                : Marshal.GetLastPInvokeError() == NoSuchFile ? Exchange.NoSuchFile : Exchange.Unsupported;
        }
        catch (EntryPointNotFoundException)
        {
            return Exchange.Unsupported; // a libc without renameat2 (glibc before 2.28)
        }
    }

    /// <summary>Opens a file for reading and writing, creating it, without following a symbolic link in its last
    /// component (open with O_NOFOLLOW: a planted link fails with ELOOP); null on any failure.</summary>
    public static SafeFileHandle? OpenNoFollow(string path)
    {
        int fd = Open(path, OpenReadWrite | OpenCreate | OpenNoFollowLinks | OpenCloseOnExec, NewFileMode);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    private const int NoSuchFile = 2, TooManyLinks = 40, OpenNonBlocking = 0x800;

    /// <summary>Opens (creating) a lock file for reading and writing without following a symbolic link in its last
    /// component, and only if it is a regular file: a planted symbolic link is an <see cref="IOException"/> and nothing
    /// is created at its target; a planted FIFO or device is a <see cref="NotRegularFileException"/> (opened without
    /// blocking, never read).</summary>
    public static SafeFileHandle OpenLockFile(string path)
    {
        int fd = Open(path, OpenReadWrite | OpenCreate | OpenNoFollowLinks | OpenCloseOnExec | OpenNonBlocking, NewFileMode);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException(errno == TooManyLinks
                ? $"the lock file {Names.Quote(path)} is a symbolic link, which is not followed"
                : $"cannot open the lock file {Names.Quote(path)}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FileIdentity.Of(handle) is { IsRegularFile: false } identity)
        {
            handle.Dispose();
            throw new NotRegularFileException(path, identity.TypeName);
        }
        return handle;
    }

    /// <summary>fsync of a directory: a rename in it survives a power loss once this returns. Failure is an
    /// <see cref="IOException"/>: the new version may not be durable yet.</summary>
    public static void SyncDirectory(string directory)
    {
        int fd = Open(directory, OpenReadOnly | OpenDirectory | OpenCloseOnExec, 0);
        if (fd < 0) throw new IOException($"cannot open the directory '{directory}' to make a rename durable: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of the directory '{directory}' failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            _ = Close(fd);
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport generates unsafe code; the writer has none.
    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Open(string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
#pragma warning restore SYSLIB1054
}
