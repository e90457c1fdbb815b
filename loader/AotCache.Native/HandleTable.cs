using System.Collections.Concurrent;

namespace AotCache.Native;

/// <summary>
/// The objects behind the opaque handles C holds. A handle is a number, never an address of managed memory: a
/// destroyed handle, a handle of another kind or a made-up one is looked up, not dereferenced, and fails with
/// <see cref="Status.InvalidArgument"/>. Numbers are never reused while the process lives.
/// </summary>
internal static class HandleTable
{
    private static readonly ConcurrentDictionary<nint, object> s_live = new();
    private static long s_last = 0x1000;

    public static nint Add(object value)
    {
        nint handle = (nint)Interlocked.Add(ref s_last, 16);
        s_live[handle] = value;
        return handle;
    }

    /// <summary>The live object of type <typeparamref name="T"/> behind <paramref name="handle"/>.</summary>
    public static T Get<T>(nint handle, string what) where T : class
    {
        if (handle == 0) throw new ArgumentNullException(null, $"{what} is NULL");
        return s_live.TryGetValue(handle, out object? value) && value is T typed ? typed
            : throw new ArgumentException($"{what} is not a live {KindName<T>()} handle (destroyed, or never one)");
    }

    /// <summary>Takes the object out of the table: from now on the handle is dead.</summary>
    public static T Remove<T>(nint handle, string what) where T : class
    {
        T value = Get<T>(handle, what);
        if (!s_live.TryRemove(new KeyValuePair<nint, object>(handle, value)))
            throw new ArgumentException($"{what} is not a live {KindName<T>()} handle (destroyed, or never one)");
        return value;
    }

    private static string KindName<T>() => typeof(T) switch
    {
        var t when t == typeof(NativeOptions) => "aotcache_options",
        var t when t == typeof(NativeImage) => "aotcache_image",
        var t when t == typeof(NativeModule) => "aotcache_module",
        var t when t == typeof(NativeUpdate) => "aotcache_update",
        var t => t.Name,
    };
}
