using System.Runtime.InteropServices;

namespace AotCache.ConformanceTests.Loading;

/// <summary>Host functions that loaded code imports in tests.</summary>
public static unsafe class HostCallbacks
{
    private static long s_calls;
    private static long s_lastArgument;

    public static long Calls => Interlocked.Read(ref s_calls);
    public static long LastArgument => Interlocked.Read(ref s_lastArgument);

    /// <summary>Counts calls and returns its argument plus 1000.</summary>
    [UnmanagedCallersOnly]
    public static long CountingCallback(long argument)
    {
        Interlocked.Increment(ref s_calls);
        Interlocked.Exchange(ref s_lastArgument, argument);
        return argument + 1000;
    }

    public static nint CountingCallbackAddress => (nint)(delegate* unmanaged<long, long>)&CountingCallback;

    /// <summary>Returns three times its argument.</summary>
    [UnmanagedCallersOnly]
    public static long TimesThree(long argument) => argument * 3;

    public static nint TimesThreePointer => (nint)(delegate* unmanaged<long, long>)&TimesThree;
}
