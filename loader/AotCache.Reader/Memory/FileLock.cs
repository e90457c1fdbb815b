using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Reader.Memory;

/// <summary>
/// Both sides of the protocol that keeps a mapped cache stable: readers that map a file hold a shared flock on
/// it for as long as they map it (<see cref="MappedFile"/>); writers that would write an existing inode
/// (<c>AtomicFile.WriteReusingSpare</c>) first take an exclusive one, and write a fresh file when they cannot.
/// Neither waits. Taken explicitly, because .NET's own locking for FileShare can be switched off by configuration.
/// </summary>
internal static partial class FileLock
{
    private const int Shared = 1, Exclusive = 2, NoWait = 4;

    /// <summary>A shared flock without waiting; false when a writer holds the file.</summary>
    public static bool TryShared(SafeFileHandle handle) => Flock(handle, Shared | NoWait) == 0;

    /// <summary>An exclusive flock without waiting; false when any other open file description holds a lock on it.</summary>
    public static bool TryExclusive(SafeFileHandle handle) => Flock(handle, Exclusive | NoWait) == 0;

    /// <summary>Drops this open file description's lock. Closing a descriptor is not enough when a child process
    /// forked meanwhile still holds a copy of it (until its exec): the lock would outlive the close.</summary>
    public static void Release(SafeFileHandle handle) => _ = Flock(handle, Unlock);

    private const int Unlock = 8;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);
}
