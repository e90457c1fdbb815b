namespace AotCache.Writer;

/// <summary>
/// Replaces a file so that readers see the old version or the new one, never a mix: the bytes go to a
/// temporary file in the same directory, are flushed to disk, and the temporary file is renamed over the
/// target (rename(2) is atomic on one file system). A crash at any point leaves the previous file intact;
/// a process that has the old file mapped keeps reading the old bytes, because the old inode is never
/// written, only unlinked from its name.
/// </summary>
public static class AtomicFile
{
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

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
