using System.Buffers;
using System.Runtime.InteropServices;
using AotCache.Format;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Reader.Memory;

/// <summary>
/// A file mapped read-only into memory (or, when others could change it, read into a private copy) and exposed as
/// <see cref="ReadOnlyMemory{T}"/>, so the reader views it in place. On Linux the mapping is made with <c>MAP_POPULATE</c>: the pages are
/// mapped in one system call instead of one page fault per 4 KiB, which on this kind of VM is the
/// difference between ~20 GB/s and ~0.4 GB/s (measured with C probes). Part of the reader's memory layer: the
/// only reason for <c>unsafe</c> here is turning the mapping's base pointer into a span.
/// <para>
/// A mapping of a file is only as stable as the file: a private mapping still shows later writes to pages
/// it has not copied. So the descriptor stays open, holding a shared flock, for as long as the mapping lives:
/// writers that reuse an older version's inode (<c>AtomicFile.WriteReusingSpare</c>) take an exclusive flock
/// first and write a fresh file instead when they cannot have it. The lock is taken before the length is read,
/// and the name is checked to still refer to the locked inode (<see cref="OpenRead"/>).
/// </para>
/// </summary>
internal sealed unsafe partial class MappedFile : MemoryManager<byte>
{
    private const int ProtRead = 1, MapPrivate = 0x02, MapPopulate = 0x8000;

    private readonly byte* _pointer;
    private readonly int _length;
    private bool _disposed;

    private MappedFile(byte* pointer, int length)
    {
        _pointer = pointer;
        _length = length;
    }

    /// <summary>
    /// Opens a whole file for reading: mapped read-only when only this user (or root) can change it, else read into
    /// a private copy (FORMAT.md §16.3): every byte a reader checks, and every byte a loader later runs, comes from
    /// memory no other user can write. Files larger than a cache file may be are refused [LIM-2]. I/O failures are
    /// <see cref="IOException"/>s: the file system is not input.
    /// </summary>
    /// <param name="allowMapping">False always takes the private copy.</param>
    public static MappedFile OpenRead(string path, bool allowMapping = true)
    {
        // A writer that swaps versions (AtomicFile.WriteReusingSpare) can move the name to another inode between
        // our open and our lock, and then write the inode we opened. So: lock, check that the name still refers to
        // the locked inode, and otherwise open again. A writer holds its lock only while it writes or swaps.
        for (int attempt = 1; ; attempt++)
        {
            SafeFileHandle handle;
            try
            {
                handle = RegularFile.OpenRead(path); // a FIFO, pipe or device is refused before it is read
            }
            catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or NotRegularFileException) && attempt < OpenAttempts)
            {
                Thread.Sleep(attempt); // .NET's own shared flock would block: a writer is at that inode
                continue;
            }
            try
            {
                if (OperatingSystem.IsLinux() && !LockedAndStillNamed(handle, path))
                {
                    handle.Dispose();
                    if (attempt < OpenAttempts)
                    {
                        Thread.Sleep(attempt);
                        continue;
                    }
                    throw new IOException($"'{path}' was being rewritten each of the {OpenAttempts} times it was opened");
                }
                return Map(path, handle, allowMapping);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
    }

    private const int OpenAttempts = 8;

    /// <summary>Takes a shared flock (<see cref="FileLock"/>) and checks that
    /// <paramref name="path"/> still names the locked inode. Where the identity cannot be had, or the name is gone
    /// (replaced by a rename, so the inode is an old version that nobody writes), the lock alone decides.</summary>
    private static bool LockedAndStillNamed(SafeFileHandle handle, string path)
    {
        if (!FileLock.TryShared(handle)) return false;
        FileIdentity? opened = FileIdentity.Of(handle), named = FileIdentity.OfPath(path, followLinks: true);
        return opened is not { } o || named is not { } n || o.IsSameFile(n);
    }

    /// <summary>
    /// True when no one but this process's user or root can change the file's bytes: a regular file owned by one of
    /// them with no write permission for group or others. Permissions belong to the inode, so other names of it
    /// (links) and the directory (which can only rename or remove the name, never change an open inode) do not
    /// matter. The file's owner, or root, can still write or truncate it: the same contract as a shared library that
    /// a process has mapped, and the toolkit's own writers never write an inode a reader holds locked.
    /// </summary>
    internal static bool IsImmutableToOthers(FileIdentity? identity) =>
        identity is { IsRegularFile: true } id && (id.Owner == 0 || id.Owner == FileIdentity.CurrentUser) && (id.Mode & GroupOrOtherWrite) == 0;

    private const uint GroupOrOtherWrite = 0x12; // 0o022

    private static MappedFile Map(string path, SafeFileHandle handle, bool allowMapping)
    {
        long length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            handle.Dispose();
            return new MappedFile(null, 0); // an empty file cannot be mapped; the reader reports it as truncated
        }
        if (length > FormatConstants.MaxFileSize)
            throw new AotCacheException(ErrorCode.FileTooLarge, FormatConstants.MaxFileSize,
                $"'{path}' is {length} bytes, more than the {FormatConstants.MaxFileSize} a file may hold");
        if (!OperatingSystem.IsLinux() || !allowMapping || !IsImmutableToOthers(FileIdentity.Of(handle)))
        {
            // A private copy, taken before anything is hashed: later writes to the file cannot reach it. (Elsewhere
            // than Linux, too: still no per-record parsing afterwards.)
            byte[] buffer = GC.AllocateUninitializedArray<byte>((int)length, pinned: true);
            int read = 0;
            while (read < buffer.Length)
            {
                int n = RandomAccess.Read(handle, buffer.AsSpan(read), read);
                if (n == 0) break; // shrunk meanwhile: the header's file size tells the reader
                read += n;
            }
            Release(handle);
            fixed (byte* p = buffer) return new MappedFile(p, read) { _pinned = buffer };
        }
        nint address = Mmap(0, (nuint)length, ProtRead, MapPrivate | MapPopulate, (int)handle.DangerousGetHandle(), 0);
        if (address == -1)
            throw new IOException($"mmap of '{path}' failed: errno {Marshal.GetLastPInvokeError()}");
        // A rename over the path (AtomicFile) leaves this mapping on the old inode, and the lock keeps writers
        // that reuse inodes off it: never a torn view.
        return new MappedFile((byte*)address, (int)length) { _mapped = true, _handle = handle };
    }

    private static void Release(SafeFileHandle handle)
    {
        if (OperatingSystem.IsLinux()) FileLock.Release(handle);
        handle.Dispose();
    }

    private bool _mapped;
    private SafeFileHandle? _handle;
    private byte[]? _pinned;

    /// <summary>True when the bytes are the file's own pages (a mapping), false for a private copy.</summary>
    public bool IsMapped => _mapped;

    /// <summary>The open, share-locked file behind a mapping, for a loader that maps parts of it again (its code);
    /// null for a private copy.</summary>
    public SafeFileHandle? Handle => _mapped ? _handle : null;

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _length == 0 ? Span<byte>.Empty : new Span<byte>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (_mapped) Munmap((nint)_pointer, (nuint)_length);
        if (_handle is not null)
        {
            FileLock.Release(_handle); // after the unmapping: the lock lasts as long as the view, and not longer in a forked child
            _handle.Dispose();
        }
        GC.KeepAlive(_pinned); // the pinned buffer (non-Linux) lives exactly as long as the span over it
        _pinned = null;
    }

    public void Dispose() => ((IDisposable)this).Dispose();

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
