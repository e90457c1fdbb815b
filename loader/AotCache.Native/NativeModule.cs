using AotCache.Format;
using AotCache.Loader;

namespace AotCache.Native;

/// <summary>
/// An <c>aotcache_module</c>: a loaded module, the image it holds (when loaded from an image handle), and the count of
/// threads between <c>aotcache_module_enter</c> and <c>aotcache_module_leave</c>, which unload refuses to pull code
/// from under. <see cref="Gate"/> orders unload against the module's other calls.
/// </summary>
internal sealed class NativeModule(LoadedModule module, NativeImage? image)
{
    private readonly ThreadLocal<int> _depth = new(); // this thread's enters not yet left
    private CodeScope _scope;
    private int _inside;                               // threads with a depth above zero

    public LoadedModule Module { get; } = module;

    /// <summary>Taken by every call on the module, and by unload.</summary>
    public Lock Gate { get; } = new();

    public bool Unloaded { get; private set; }

    public void CheckLoaded()
    {
        if (Unloaded) throw new ArgumentException("the module was unloaded");
    }

    public void Enter()
    {
        lock (Gate)
        {
            CheckLoaded();
            _scope = Module.EnterCode();
            if (_depth.Value++ == 0) Interlocked.Increment(ref _inside);
        }
    }

    public void Leave()
    {
        if (_depth.Value == 0) throw new InvalidOperationException("aotcache_module_leave without an aotcache_module_enter on this thread");
        _scope.Dispose(); // leaves the calling thread's epoch record (every scope of a module is the same value)
        if (--_depth.Value == 0) Interlocked.Decrement(ref _inside);
    }

    /// <summary>
    /// Calls an exported function through the loader's entry shim (<see cref="LoadedModule.Invoke(string, ReadOnlySpan{Value})"/>), counted as a stay
    /// inside the module's code so that unload refuses meanwhile. A call that reaches a refused function comes back
    /// here, abandoned at the refusal, as <see cref="Status.Refused"/> naming the function: the C caller gets a status,
    /// the process goes on.
    /// </summary>
    public Value Call(string name, ReadOnlySpan<Value> args)
    {
        lock (Gate)
        {
            CheckLoaded();
            if (_depth.Value++ == 0) Interlocked.Increment(ref _inside);
        }
        try
        {
            return Module.Invoke(name, args);
        }
        catch (AotCacheException e)
        {
            throw NativeFailure.From(e, Status.Refused); // refused at load, or a call that reached a refused function
        }
        catch (InvalidOperationException e) when (e is not ObjectDisposedException)
        {
            // A Win64 function, which this call cannot make; or code of another module, reached through an import,
            // that hit a refused function of its own.
            Status status = Module.GetSignature(name).Convention == CallingConvention.SysV ? Status.Refused : Status.InvalidArgument;
            throw new NativeFailure(status, e.Message);
        }
        catch (NotSupportedException e)
        {
            throw new NativeFailure(Status.InvalidArgument, e.Message); // stack arguments
        }
        finally
        {
            if (--_depth.Value == 0) Interlocked.Decrement(ref _inside);
        }
    }

    /// <summary>Unmaps the module; refused while a thread is inside its code.</summary>
    public void Unload()
    {
        lock (Gate)
        {
            CheckLoaded();
            int inside = Volatile.Read(ref _inside);
            if (inside > 0)
                throw new NativeFailure(Status.Busy, $"module '{Module.Image.ModuleName}' cannot be unloaded: {inside} thread{(inside == 1 ? " is" : "s are")} " +
                    "between aotcache_module_enter and aotcache_module_leave");
            Unloaded = true;
            Module.Dispose();
            image?.Release();
            _depth.Dispose();
        }
    }
}
