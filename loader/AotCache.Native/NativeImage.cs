using AotCache.Reader;

namespace AotCache.Native;

/// <summary>
/// An <c>aotcache_image</c>: a validated file, shared by the caller's handle and every module loaded from it. The
/// mapping goes when the last of them lets go, so closing the handle while modules run is safe.
/// </summary>
internal sealed class NativeImage(CacheImage image)
{
    private int _references = 1; // the caller's handle

    public CacheImage Image { get; } = image;

    /// <summary>Takes a reference for a module; false when the image is already gone.</summary>
    public bool TryRetain()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _references);
            if (current == 0) return false;
        } while (Interlocked.CompareExchange(ref _references, current + 1, current) != current);
        return true;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) Image.Dispose();
    }
}
