using System.Runtime.InteropServices;

namespace AotCache.Loader.Memory;

/// <summary>
/// Where code lands when it calls a function the loader refused (missing CPU features, stale signature, removed):
/// a module's refusal stub calls <see cref="OnRefusedCall"/> with (module id, stub index). The handler asks the module
/// for a body to run instead (compile on call); when there is one, the stub jumps to it with the caller's registers
/// and stack untouched. When there is none, the refusal is recorded for the calling thread and the stub abandons the
/// call: it goes back to the innermost entry into module code (<see cref="CallShim"/>), which reports it. Exceptions
/// are never thrown across native frames.
/// </summary>
internal static unsafe class RefusedCallTrap
{
    /// <summary>What the stub does next: jump to <see cref="Target"/>, or, when it is 0, resume the entry whose record
    /// is at <see cref="Entry"/>. Returned in rax:rdx.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Decision
    {
        public nint Target;
        public nint Entry;
    }

    /// <summary>Resolves a refused call (module id, stub index) to a body to run, or 0 to refuse it. Set by the loader;
    /// called on the calling thread inside module code; must not throw.</summary>
    internal static Func<long, int, nint>? Resolver;

    /// <summary>Tells the loader a call was refused (module id, stub index), after it was recorded. Must not throw.</summary>
    internal static Action<long, int>? Observer;

    /// <summary>Ends the process when a refused call has no entry to go back to: continuing would run the caller on
    /// made-up values. Set by the loader to name the function.</summary>
    internal static Func<long, int, string>? Describe;

    [ThreadStatic] private static long t_module;
    [ThreadStatic] private static int t_function;
    [ThreadStatic] private static bool t_pending;

    /// <summary>Address of the handler, called from stubs with (module id in rdi, stub index in esi).</summary>
    public static nint HandlerAddress => (nint)(delegate* unmanaged<long, long, Decision>)&OnRefusedCall;

    [UnmanagedCallersOnly]
    private static Decision OnRefusedCall(long module, long stub)
    {
        nint target = 0;
        try
        {
            target = Resolver?.Invoke(module, (int)stub) ?? 0;
        }
        catch (Exception)
        {
            target = 0; // a compiler that failed: the call is refused
        }
        if (target != 0) return new Decision { Target = target };
        if (!t_pending) // keep the first refused call of a chain: it names the root cause
        {
            t_module = module;
            t_function = (int)stub;
            t_pending = true;
        }
        try
        {
            Observer?.Invoke(module, (int)stub);
        }
        catch (Exception)
        {
            // An observer cannot stop the refusal, and an exception cannot cross the native frames below.
        }
        nint entry = CallShim.InnermostEntry;
        if (entry == 0)
        {
            string what = Describe?.Invoke(module, (int)stub) ?? $"stub {stub} of module {module}";
            Environment.FailFast($"AotCache: a call reached refused function {what}, in code entered through a raw function pointer: " +
                "there is no entry to go back to, and returning to the caller would run it on made-up values. Call such modules " +
                "through LoadedModule.Invoke, or load them with a compiler for refused functions.");
        }
        return new Decision { Entry = entry };
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
