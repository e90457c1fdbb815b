using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotCache.Loader.Memory;

/// <summary>
/// Where code lands when it calls a function the loader refused (missing CPU features, stale
/// signature): a per-module stub passes (module id, function index) to <see cref="OnRefusedCall"/>,
/// which records it for the calling thread and returns; the stub then returns 0 to its caller. Managed
/// callers (<see cref="LoadedModule.Invoke"/>) find the record when the native call returns and throw.
/// Exceptions are never thrown across native frames.
/// </summary>
internal static unsafe class RefusedCallTrap
{
    /// <summary>Called on the calling thread when loaded code reaches a refused function (module id, stub index).
    /// Set by <see cref="LoadedModule"/>; must not throw.</summary>
    internal static Action<long, int>? Observer;

    [ThreadStatic] private static long t_module;
    [ThreadStatic] private static int t_function;
    [ThreadStatic] private static bool t_pending;

    /// <summary>Address of the handler, called from stubs with (module id in rdi, function index in esi).</summary>
    public static nint HandlerAddress => (nint)(delegate* unmanaged<long, int, void>)&OnRefusedCall;

    [UnmanagedCallersOnly]
    private static void OnRefusedCall(long module, int function)
    {
        Observer?.Invoke(module, function);
        if (t_pending) return; // keep the first refused call of a chain: it names the root cause
        t_module = module;
        t_function = function;
        t_pending = true;
    }

    /// <summary>Clears the calling thread's record.</summary>
    public static void Reset() => t_pending = false;

    /// <summary>Takes the calling thread's record, if any.</summary>
    public static bool TryTake(out long module, out int function)
    {
        module = t_module;
        function = t_function;
        if (!t_pending) return false;
        t_pending = false;
        return true;
    }
}
