using AotCache.Format;

namespace AotCache.Reader;

/// <summary>A path that names something other than a regular file (a FIFO, pipe, device, socket or directory),
/// refused before any byte of it is read: reading one could block forever or never end. An
/// <see cref="IOException"/>: the file system is not input.</summary>
public sealed class NotRegularFileException : IOException
{
    internal NotRegularFileException(string path, string what)
        : base($"{Names.Quote(path)} is not a regular file: {what}")
    {
        Path = path;
        What = what;
    }

    /// <summary>The path as given.</summary>
    public string Path { get; }

    /// <summary>What it is instead: "a FIFO or pipe", "a character device", "a directory", ….</summary>
    public string What { get; }
}
