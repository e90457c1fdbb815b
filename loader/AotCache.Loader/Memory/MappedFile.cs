using System.Buffers;
using System.IO.MemoryMappedFiles;
using AotCache.Format;

namespace AotCache.Loader.Memory;

/// <summary>
/// A file mapped read-only into memory and exposed as <see cref="ReadOnlyMemory{T}"/>, so the reader
/// views it in place with no copy. Part of the loader's memory layer: the only reason for
/// <c>unsafe</c> here is turning the mapping's base pointer into a span.
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private readonly int _length;
    private bool _disposed;

    private MappedFile(MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer, int length)
    {
        _map = map;
        _view = view;
        _pointer = pointer;
        _length = length;
    }

    public static MappedFile OpenRead(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        long length = stream.Length;
        if (length == 0) return new MappedFile(null, null, null, 0); // an empty file cannot be mapped; the reader reports it as truncated
        if (length > FormatConstants.MaxFileSize)
            throw new AotCacheException(ErrorCode.FileTooLarge, FormatConstants.MaxFileSize,
                $"'{path}' is {length} bytes, more than the {FormatConstants.MaxFileSize} a file may hold");
        int mapped = (int)length;
        MemoryMappedFile map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, mapped, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            // The view may start before the requested offset on some platforms; add its offset.
            pointer += view.PointerOffset;
            return new MappedFile(map, view, pointer, mapped);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

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
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }

    public void Dispose() => ((IDisposable)this).Dispose();
}
