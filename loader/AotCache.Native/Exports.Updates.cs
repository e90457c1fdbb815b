using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Loader.HotSwap;

namespace AotCache.Native;

public static partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "aotcache_update_begin")]
    public static int UpdateBegin(nint module, nint update) => Boundary.Run(() =>
    {
        NativeModule m = HandleTable.Get<NativeModule>(module, "module");
        CArgs.CheckOut(update, "update");
        lock (m.Gate)
        {
            m.CheckLoaded();
            UpdateTransaction transaction = m.Module.BeginUpdate(); // InvalidState for a module loaded direct
            CArgs.WritePointer(update, HandleTable.Add(new NativeUpdate(m, transaction)), "update");
        }
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_update_redefine")]
    public static int UpdateRedefine(nint update, nint name, nint body) => Boundary.Run(() =>
    {
        NativeUpdate u = HandleTable.Get<NativeUpdate>(update, "update");
        string function = CArgs.String(name, "name");
        FunctionBody b = CArgs.FunctionBody(body, "body");
        lock (u.Module.Gate)
        {
            u.Module.CheckLoaded();
            u.Transaction.Redefine(function, b);
        }
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_update_add")]
    public static int UpdateAdd(nint update, nint name, nint body, int exported) => Boundary.Run(() =>
    {
        NativeUpdate u = HandleTable.Get<NativeUpdate>(update, "update");
        string function = CArgs.String(name, "name");
        FunctionBody b = CArgs.FunctionBody(body, "body");
        lock (u.Module.Gate)
        {
            u.Module.CheckLoaded();
            u.Transaction.Add(function, b, exported != 0 ? Linkage.Export : Linkage.Local);
        }
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_update_remove")]
    public static int UpdateRemove(nint update, nint name) => Boundary.Run(() =>
    {
        NativeUpdate u = HandleTable.Get<NativeUpdate>(update, "update");
        string function = CArgs.String(name, "name");
        lock (u.Module.Gate)
        {
            u.Module.CheckLoaded();
            u.Transaction.Remove(function);
        }
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_update_commit")]
    public static int UpdateCommit(nint update) => Boundary.Run(() =>
    {
        NativeUpdate u = HandleTable.Remove<NativeUpdate>(update, "update"); // gone whatever the outcome
        lock (u.Module.Gate)
        {
            if (u.Module.Unloaded) throw new InvalidOperationException("the update's module was unloaded; nothing was applied");
            if (!u.Transaction.TryCommit(out IReadOnlyList<StaleFunction> stale))
                throw new NativeFailure(Status.Stale,
                    new AotCacheException(ErrorCode.StaleCaller, -1, $"update refused, {stale.Count} stale function{(stale.Count == 1 ? "" : "s")}: " +
                        string.Join("; ", stale)).Message, ErrorCode.StaleCaller);
        }
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_update_abandon")]
    public static int UpdateAbandon(nint update) => Boundary.Run(() =>
    {
        HandleTable.Remove<NativeUpdate>(update, "update");
        return Status.Ok;
    });
}
