using AotCache.Format;
using AotCache.Reader;
using AotCache.Reader.Memory;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Writer;

/// <summary>
/// Replaces a file so that readers see the old version or the new one, never a mix: the bytes go to a
/// temporary file in the same directory, are flushed to disk, and the temporary file is renamed over the
/// target (rename(2) is atomic on one file system), then the directory is flushed so the rename is durable.
/// A crash at any point leaves the previous file intact; a process that has the old file mapped keeps
/// reading the old bytes, because the old inode is not written, only unlinked from its name.
/// <see cref="WriteReusingSpare"/> does the same while writing only what changed.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes a file given as pieces (e.g. a <see cref="RewrittenFile"/>) to <paramref name="path"/> atomically,
    /// without first joining them into one buffer.</summary>
    public static void Write(string path, IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            // Unbuffered: each piece goes to the kernel once, straight from where it is (often the previous file's mapping).
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None))
            {
                foreach (ReadOnlyMemory<byte> piece in pieces) stream.Write(piece.Span);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
            if (OperatingSystem.IsLinux()) LinuxFiles.SyncDirectory(directory);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true); // fsync before the rename: no renamed-but-empty file after a power loss
            }
            File.Move(temporary, full, overwrite: true);
            if (OperatingSystem.IsLinux()) LinuxFiles.SyncDirectory(directory);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes what <paramref name="write"/> produces to <paramref name="path"/> atomically; if it throws,
    /// the previous file is untouched and no temporary file is left behind.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new MemoryStream();
        write(buffer);
        Write(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>
    /// Read-modify-write under an exclusive lock shared by every process using this method on the same path:
    /// <paramref name="update"/> receives the current bytes (null when there is no file) and returns the next
    /// version, which replaces the file atomically. Concurrent updaters take turns, so none overwrites an
    /// update it has not seen: no update is lost silently.
    /// </summary>
    /// <remarks>
    /// Both names are predictable, so both may be planted. The lock file <c>NAME.lock</c> is opened without following a
    /// symbolic link (a planted link is an <see cref="IOException"/>, and nothing is created at its target) and must be a
    /// regular file; <c>NAME</c> is read only if it is a regular file (a planted FIFO would block the read forever, a
    /// device never end): anything else is a <see cref="NotRegularFileException"/>, and nothing is written.
    /// </remarks>
    public static void Update(string path, Func<byte[]?, byte[]> update, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(update);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using IDisposable lockFile = AcquireLock(full + ".lock", timeout ?? TimeSpan.FromSeconds(30));
        byte[]? current = ReadIfExists(full);
        Write(full, update(current));
    }

    /// <summary>The bytes of a regular file, or null when there is no file by that name.</summary>
    private static byte[]? ReadIfExists(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = RegularFile.OpenRead(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        using (handle)
        {
            long length = RandomAccess.GetLength(handle);
            if (length > Array.MaxLength) throw new IOException($"{Names.Quote(path)} is {length} bytes, too large to update in memory");
            byte[] bytes = new byte[length];
            int read = 0;
            while (read < bytes.Length)
            {
                int n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
                if (n == 0) break;
                read += n;
            }
            return read == bytes.Length ? bytes : bytes[..read]; // a file that shrank meanwhile: what was there
        }
    }

    /// <summary>An exclusive lock on <paramref name="lockPath"/>, waited for up to <paramref name="timeout"/>. On Linux an
    /// flock(LOCK_EX) on a file opened without following a symbolic link, which is what .NET takes for FileShare.None
    /// (so both kinds of updater exclude each other); elsewhere .NET's FileShare.None. Released on dispose, and when
    /// the holder dies.</summary>
    private static IDisposable AcquireLock(string lockPath, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (OperatingSystem.IsLinux())
        {
            SafeFileHandle handle = LinuxFiles.OpenLockFile(lockPath);
            try
            {
                for (int attempt = 0; !FileLock.TryExclusive(handle); attempt++)
                {
                    if (clock.Elapsed >= timeout)
                        throw new IOException($"{Names.Quote(lockPath)} stayed locked by another updater for {timeout.TotalSeconds:0.#} s");
                    Thread.Sleep(Math.Min(1 + attempt, 20));
                }
                return new LockedFile(handle);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                Thread.Sleep(Math.Min(1 + attempt, 20));
            }
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
