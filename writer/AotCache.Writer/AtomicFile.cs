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
    public static void Update(string path, Func<byte[]?, byte[]> update, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(update);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using FileStream lockFile = AcquireLock(full + ".lock", timeout ?? TimeSpan.FromSeconds(30));
        byte[]? current = File.Exists(full) ? File.ReadAllBytes(full) : null;
        Write(full, update(current));
    }

    /// <summary>An exclusive lock file: on Unix .NET takes flock(LOCK_EX) for FileShare.None, so other processes
    /// opening it fail until it is closed (also when the holder dies).</summary>
    private static FileStream AcquireLock(string lockPath, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
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
