using System.Buffers;
using AotCache.Reader.Memory;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Writer;

public static partial class AtomicFile
{
    /// <summary>The spare of <paramref name="path"/>: a hidden file beside it that holds an older version.</summary>
    public static string SparePathOf(string path)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.spare");
    }

    /// <summary>
    /// Replaces <paramref name="path"/> as atomically and durably as <see cref="Write(string, IReadOnlyList{ReadOnlyMemory{byte}})"/>,
    /// writing only the 4 KiB pages that changed. The version being replaced is kept as a spare beside the file
    /// (<see cref="SparePathOf"/>); the next version is written into the spare, page by page where it differs from
    /// what the spare holds, flushed, and then the spare and the file swap names in one atomic step
    /// (renameat2 RENAME_EXCHANGE). An edit of a few functions thus writes and flushes a few pages, not the file.
    /// The first version written to a path is written twice, as the file and as its spare.
    /// <para>
    /// Writing a spare reuses the inode of an earlier version, so this takes care to write only a file that is
    /// its own and that nobody reads. One writer at a time holds the lock file <c>.NAME.spare.lock</c>; the spare
    /// is opened without following symbolic links and written only when it is a regular file of this user with
    /// one link, still under the spare's name, and this writer holds an exclusive flock on it. Readers that map a
    /// file hold a shared flock for as long as they map it (<c>MappedFile</c>). When any of that fails (another
    /// writer at work, a reader on the spare, a spare that is not ours), this writes a fresh temporary file
    /// instead, as <see cref="Write(string, IReadOnlyList{ReadOnlyMemory{byte}})"/> does; it never waits. Where
    /// the file system cannot exchange names, the updated spare is renamed over the file (no spare is left).
    /// A crash at any point leaves the file as one complete version; a spare left half-written is only ever
    /// compared against.
    /// </para>
    /// </summary>
    public static SpareWriteResult WriteReusingSpare(string path, IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        long length = 0;
        foreach (ReadOnlyMemory<byte> piece in pieces) length += piece.Length;
        if (!OperatingSystem.IsLinux()) return Fresh(path, pieces, length);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string spare = SparePathOf(full);
        // The lock file first: while it is held, no other writer moves the spare's name to another inode.
        using LockedFile? turn = TryOpenOwnLocked(spare + ".lock");
        if (turn is null) return Fresh(path, pieces, length);
        LockedFile? handle = TryOpenOwnLocked(spare);
        if (handle is null) return Fresh(path, pieces, length);
        long written;
        LinuxFiles.Exchange exchange;
        using (handle)
        {
            written = CopyDifferences(handle.Handle, pieces, length);
            RandomAccess.FlushToDisk(handle.Handle);
            exchange = LinuxFiles.TryExchange(spare, full);
            if (exchange == LinuxFiles.Exchange.NoSuchFile && !File.Exists(spare)) return Fresh(path, pieces, length); // the spare's name was removed
            if (exchange != LinuxFiles.Exchange.Done) File.Move(spare, full, overwrite: true);
        } // unlocked at once: the inode is the file now, and is not written again; readers may lock it
        // A first version has nothing to swap out: give it a spare copy now, so that the first edit after it writes
        // a few pages too. (Where the file system has no exchange, every write is a whole file anyway: no copy.)
        if (exchange == LinuxFiles.Exchange.NoSuchFile) written += WriteSpareCopy(spare, pieces, length);
        LinuxFiles.SyncDirectory(directory);
        return new SpareWriteResult(ReusedSpare: true, written, length);
    }

    /// <summary>Writes a flushed copy of the version just published as the spare; 0 when the spare cannot be had.</summary>
    private static long WriteSpareCopy(string spare, IReadOnlyList<ReadOnlyMemory<byte>> pieces, long length)
    {
        using LockedFile? copy = TryOpenOwnLocked(spare);
        if (copy is null) return 0;
        long written = CopyDifferences(copy.Handle, pieces, length);
        RandomAccess.FlushToDisk(copy.Handle);
        return written;
    }

    private static SpareWriteResult Fresh(string path, IReadOnlyList<ReadOnlyMemory<byte>> pieces, long length)
    {
        Write(path, pieces);
        return new SpareWriteResult(ReusedSpare: false, length, length);
    }

    /// <summary>
    /// Opens (creating) a file by a predictable name for writing, or returns null when it is not safe to write:
    /// the name is a symbolic link (not followed), the file is not a regular file of this user with one link
    /// (a hard link to another file would be written through), somebody holds a lock on it, or after locking
    /// the name no longer refers to the locked inode.
    /// </summary>
    private static LockedFile? TryOpenOwnLocked(string path)
    {
        SafeFileHandle? handle = LinuxFiles.OpenNoFollow(path);
        if (handle is null) return null;
        if (TryLockSoon(handle)
            && FileIdentity.Of(handle) is { IsRegularFile: true, Links: 1 } opened && opened.Owner == FileIdentity.CurrentUser
            && FileIdentity.OfPath(path, followLinks: false) is { } named && named.IsSameFile(opened))
            return new LockedFile(handle);
        FileLock.Release(handle);
        handle.Dispose();
        return null;
    }

    /// <summary>A file this writer holds an exclusive flock on; disposing drops the lock explicitly, then closes.</summary>
    private sealed class LockedFile(SafeFileHandle handle) : IDisposable
    {
        public SafeFileHandle Handle { get; } = handle;

        public void Dispose()
        {
            FileLock.Release(Handle);
            Handle.Dispose();
        }
    }

    /// <summary>An exclusive flock, tried a few times over ~10 ms: a lock can outlive its holder's close for a moment,
    /// when a child process forked in between still has the descriptor until it runs exec.</summary>
    private static bool TryLockSoon(SafeFileHandle handle)
    {
        for (int attempt = 1; ; attempt++)
        {
            if (FileLock.TryExclusive(handle)) return true;
            if (attempt == 4) return false;
            Thread.Sleep(attempt);
        }
    }

    /// <summary>Makes the file behind <paramref name="handle"/> hold <paramref name="pieces"/>, writing only the
    /// pages whose bytes differ (runs of them coalesced into one write); returns the bytes written.</summary>
    private static long CopyDifferences(SafeFileHandle handle, IReadOnlyList<ReadOnlyMemory<byte>> pieces, long length)
    {
        const int Page = 4096, Block = 64 * Page;
        long oldLength = RandomAccess.GetLength(handle);
        byte[] old = ArrayPool<byte>.Shared.Rent(Block);
        long at = 0, written = 0;
        long blockStart = -1;
        int blockLength = 0;
        try
        {
            foreach (ReadOnlyMemory<byte> piece in pieces)
            {
                int offset = 0, runStart = -1; // runStart: where in this piece the pending run of differing bytes starts
                while (offset < piece.Length)
                {
                    if (blockStart < 0 || at >= blockStart + Block)
                    {
                        blockStart = at / Block * Block;
                        blockLength = ReadFully(handle, old.AsSpan(0, (int)Math.Clamp(oldLength - blockStart, 0, Block)), blockStart);
                    }
                    int n = (int)Math.Min(piece.Length - offset, (at / Page + 1) * Page - at);
                    int inBlock = (int)(at - blockStart);
                    bool same = inBlock + n <= blockLength && piece.Span.Slice(offset, n).SequenceEqual(old.AsSpan(inBlock, n));
                    if (!same && runStart < 0) runStart = offset;
                    if (same && runStart >= 0)
                    {
                        written += WriteRun(handle, piece, runStart, offset, at);
                        runStart = -1;
                    }
                    offset += n;
                    at += n;
                }
                if (runStart >= 0) written += WriteRun(handle, piece, runStart, offset, at);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(old);
        }
        if (oldLength != length) RandomAccess.SetLength(handle, length);
        return written;
    }

    /// <summary>Writes <paramref name="piece"/>[<paramref name="from"/>..<paramref name="to"/>), which ends at file offset <paramref name="end"/>.</summary>
    private static int WriteRun(SafeFileHandle handle, ReadOnlyMemory<byte> piece, int from, int to, long end)
    {
        RandomAccess.Write(handle, piece.Span[from..to], end - (to - from));
        return to - from;
    }

    private static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}

/// <summary>What <see cref="AtomicFile.WriteReusingSpare"/> did.</summary>
/// <param name="ReusedSpare">True when the spare was updated and swapped in; false when a fresh file was written.</param>
/// <param name="BytesWritten">Bytes handed to the kernel: the changed pages, or the whole file (twice for a first
/// version, which also gets its spare copy).</param>
/// <param name="Length">The new file's length.</param>
public readonly record struct SpareWriteResult(bool ReusedSpare, long BytesWritten, long Length);
