using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;

namespace AotCache.Native;

public static partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "aotcache_image_open")]
    public static int ImageOpen(nint path, nint options, nint image) => Boundary.Run(() =>
    {
        string file = CArgs.String(path, "path");
        NativeOptions o = OptionsOrDefaults(options);
        CArgs.CheckOut(image, "image");
        CacheImage opened = CacheImage.OpenFile(file, o.ReadOptions());
        CArgs.WritePointer(image, HandleTable.Add(new NativeImage(opened)), "image");
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_image_close")]
    public static int ImageClose(nint image) => Boundary.Run(() =>
    {
        HandleTable.Remove<NativeImage>(image, "image").Release();
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_image_function_count")]
    public static int ImageFunctionCount(nint image, nint count) => Boundary.Run(() =>
    {
        NativeImage i = HandleTable.Get<NativeImage>(image, "image");
        CArgs.WritePointer(count, i.Image.Functions.Length, "count");
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_load")]
    public static int ModuleLoad(nint image, nint options, nint module) => Boundary.Run(() =>
    {
        NativeImage i = HandleTable.Get<NativeImage>(image, "image");
        LoadOptions load = OptionsOrDefaults(options).LoadOptions(out CheckedImports imports);
        CArgs.CheckOut(module, "module");
        if (!i.TryRetain()) throw new ArgumentException("image is not a live aotcache_image handle (closed)");
        try
        {
            LoadedModule loaded = Load(() => LoadedModule.Load(i.Image, load), imports);
            CArgs.WritePointer(module, HandleTable.Add(new NativeModule(loaded, i)), "module");
        }
        catch
        {
            i.Release();
            throw;
        }
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_load_file")]
    public static int ModuleLoadFile(nint path, nint options, nint module) => Boundary.Run(() =>
    {
        string file = CArgs.String(path, "path");
        LoadOptions load = OptionsOrDefaults(options).LoadOptions(out CheckedImports imports);
        CArgs.CheckOut(module, "module");
        LoadedModule loaded = Load(() => LoadedModule.LoadFile(file, load), imports);
        CArgs.WritePointer(module, HandleTable.Add(new NativeModule(loaded, null)), "module");
        return Status.Ok;
    });

    /// <summary>Loads; unresolved imports that were registered with another signature become a signature mismatch.</summary>
    private static LoadedModule Load(Func<LoadedModule> load, CheckedImports imports)
    {
        try
        {
            return load();
        }
        catch (AotCacheException e) when (e.Code == ErrorCode.UnresolvedImports && imports.Mismatches.Count > 0)
        {
            throw NativeFailure.From(e, Status.SignatureMismatch,
                $"{e.Message}; signature mismatch: {string.Join("; ", imports.Mismatches)}");
        }
    }
}
