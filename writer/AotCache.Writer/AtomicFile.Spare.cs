using System.Buffers;
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
    /// Writing a spare reuses the inode of an earlier version, so this takes care not to write one that
    /// somebody reads: the writer holds an exclusive flock on the spare, and readers that map a file hold a
    /// shared one for as long as they map it (<c>MappedFile</c>); when the spare is locked, or another writer is at
    /// work, or the platform has no exchange, this falls back to writing a fresh temporary file. A crash at any
    /// point leaves the file as one complete version; a spare left half-written is only ever compared against.
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
        // Writers take turns on a lock file first, so the spare's name cannot move to another inode between
        // opening it and locking it; a writer that finds the lock taken writes a fresh file instead of waiting.
        using SafeFileHandle? turn = TryOpenLocked(spare + ".lock");
        if (turn is null) return Fresh(path, pieces, length);
        using SafeFileHandle? handle = TryOpenLocked(spare);
        if (handle is null) return Fresh(path, pieces, length); // a reader still maps the older version
        long written = CopyDifferences(handle, pieces, length);
        RandomAccess.FlushToDisk(handle);
        LinuxFiles.Exchange exchange = LinuxFiles.TryExchange(spare, full);
        if (exchange != LinuxFiles.Exchange.Done) File.Move(spare, full, overwrite: true);
        // A first version has nothing to swap out: give it a spare copy now, so that the first edit after it writes
        // a few pages too. (Where the file system has no exchange, every write is a whole file anyway: no copy.)
        if (exchange == LinuxFiles.Exchange.NoSuchFile) written += WriteSpareCopy(spare, pieces, length);
        LinuxFiles.SyncDirectory(directory);
        return new SpareWriteResult(ReusedSpare: true, written, length);
    }

    /// <summary>Writes a flushed copy of the version just published as the spare; 0 when the spare is in use.</summary>
    private static long WriteSpareCopy(string spare, IReadOnlyList<ReadOnlyMemory<byte>> pieces, long length)
    {
        using SafeFileHandle? copy = TryOpenLocked(spare);
        if (copy is null) return 0;
        long written = CopyDifferences(copy, pieces, length);
        RandomAccess.FlushToDisk(copy);
        return written;
    }

    private static SpareWriteResult Fresh(string path, IReadOnlyList<ReadOnlyMemory<byte>> pieces, long length)
    {
        Write(path, pieces);
        return new SpareWriteResult(ReusedSpare: false, length, length);
    }

    /// <summary>Opens (creating) a file with an exclusive flock, or returns null when somebody holds a lock on it.</summary>
    private static SafeFileHandle? TryOpenLocked(string path)
    {
        SafeFileHandle handle;
        try
        {
            // FileShare.None: .NET itself takes LOCK_EX | LOCK_NB on Unix and throws when that would block.
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
        // Taken explicitly as well: .NET's own locking can be switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
        if (LinuxFiles.TryLockExclusive(handle)) return handle;
        handle.Dispose();
        return null;
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
