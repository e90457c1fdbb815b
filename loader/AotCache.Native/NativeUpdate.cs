using AotCache.Loader.HotSwap;

namespace AotCache.Native;

/// <summary>An <c>aotcache_update</c>: a hot-swap transaction and the module it changes.</summary>
internal sealed class NativeUpdate(NativeModule module, UpdateTransaction transaction)
{
    public NativeModule Module { get; } = module;
    public UpdateTransaction Transaction { get; } = transaction;
}
