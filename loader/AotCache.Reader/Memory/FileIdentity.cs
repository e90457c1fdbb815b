using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Reader.Memory;

/// <summary>
/// Which file an open descriptor or a name refers to (device and inode), and what kind of file it is: what a
/// reader checks after locking a file (is the name still this inode?) and what a writer checks before writing one
/// it opened by a predictable name (a regular file of ours, one link, still under that name). Linux only; null
/// where the facts cannot be had (another platform, a failed call, an old libc), which callers treat as "unsafe".
/// </summary>
internal readonly partial record struct FileIdentity(ulong Device, ulong Inode, ulong Links, uint Mode, uint Owner)
{
    private const uint TypeMask = 0xF000, RegularFile = 0x8000;

    public bool IsRegularFile => (Mode & TypeMask) == RegularFile;

    /// <summary>What kind of file this is, in words for messages: "a regular file", "a FIFO or pipe", ….</summary>
    public string TypeName => (Mode & TypeMask) switch
    {
        RegularFile => "a regular file",
        0x1000 => "a FIFO or pipe",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xA000 => "a symbolic link",
        0xC000 => "a socket",
        uint type => $"a file of type {type >> 12}",
    };

    public bool IsSameFile(FileIdentity other) => Device == other.Device && Inode == other.Inode;

    /// <summary>The effective user of this process, or null where unknown.</summary>
    public static uint? CurrentUser => OperatingSystem.IsLinux() ? Native.GetEuid() : null;

    /// <summary>fstat of an open file.</summary>
    public static FileIdentity? Of(SafeFileHandle handle) => OperatingSystem.IsLinux() ? Native.Query(handle, null, false) : null;

    /// <summary>stat (following a symbolic link) or lstat (not following it) of a name; null when it does not exist.</summary>
    public static FileIdentity? OfPath(string path, bool followLinks) =>
        OperatingSystem.IsLinux() ? Native.Query(null, path, followLinks) : null;

    /// <summary>The calls, with struct stat read as x86-64 Linux lays it out (144 bytes: dev, ino, nlink, mode, uid, …).</summary>
    private static unsafe partial class Native
    {
        public static FileIdentity? Query(SafeFileHandle? handle, string? path, bool followLinks)
        {
            byte* buffer = stackalloc byte[144];
            int result;
            try
            {
                result = handle is not null ? FStat(handle, buffer) : followLinks ? Stat(path!, buffer) : LStat(path!, buffer);
            }
            catch (EntryPointNotFoundException)
            {
                return null; // glibc before 2.33 exports only __fxstat and friends
            }
            return result != 0 ? null
                : new FileIdentity(*(ulong*)buffer, *(ulong*)(buffer + 8), *(ulong*)(buffer + 16), *(uint*)(buffer + 24), *(uint*)(buffer + 28));
        }

        [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
        private static partial int FStat(SafeFileHandle fd, byte* buffer);

        [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Stat(string path, byte* buffer);

        [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int LStat(string path, byte* buffer);

        [LibraryImport("libc", EntryPoint = "geteuid")]
        public static partial uint GetEuid();
    }
}
