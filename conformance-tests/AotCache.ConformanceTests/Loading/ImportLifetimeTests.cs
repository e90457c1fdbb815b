using System.Runtime.CompilerServices;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Loader;
using AotCache.Reader;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Loading;

/// <summary>A loaded module keeps its import resolver alive: delegates registered in an <see cref="ImportTable"/>
/// that the host does not keep must not be collected while loaded code can call them.</summary>
public sealed class ImportLifetimeTests
{
    private delegate long Scale(long value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (LoadedModule Module, WeakReference Callback) LoadWithATableNobodyKeeps(CacheImage image)
    {
        long factor = 7; // captured: a lambda without captures is cached in a static field and never collected
        var callback = new Scale(v => v * factor);
        return (LoadedModule.Load(image, new LoadOptions { Imports = new ImportTable().Add("scale", callback) }), new WeakReference(callback));
    }

    private static void CollectEverything()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
    }

    [Fact]
    public void Delegates_of_a_resolver_the_host_dropped_survive_collections_while_the_module_lives()
    {
        var module = new IrModule([new IrImport("scale", [I64], I64)], [],
            [new IrFunction("call_scale", [I64], I64, [], [new IrReturn(new IrCall("scale", [new IrLocal(0)]))])]);
        using var image = CacheImage.Read(IrCompiler.Compile(module));
        var (loaded, callback) = LoadWithATableNobodyKeeps(image);
        CollectEverything();
        Assert.True(callback.IsAlive, "the delegate behind the import was collected while the module can still call it");
        Assert.Equal(42, loaded.Invoke("call_scale", Value.I64(6)).AsI64);
        loaded.Dispose();
        CollectEverything();
        Assert.False(callback.IsAlive, "an unloaded module must not keep its imports alive");
    }
}
