using AotCache.Format;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader;

/// <summary>What to do with functions whose callers were compiled against another signature [LOAD-5].</summary>
public enum StalePolicy
{
    /// <summary>Refuse the whole load and list every stale caller.</summary>
    Strict,
    /// <summary>Load the rest; each stale function is routed to an error stub, reported, and never runs.</summary>
    Lenient,
}

/// <summary>How calls between the module's functions are linked.</summary>
public enum LinkMode
{
    /// <summary>Patched rel32 straight to the callee: fastest, no redefinition.</summary>
    Direct,
    /// <summary>Through a per-function entry thunk and swap slot, so functions can be redefined, added and
    /// removed while the module runs (<see cref="LoadedModule.BeginUpdate"/>).</summary>
    HotSwappable,
}

/// <summary>How to load a module.</summary>
public sealed record LoadOptions
{
    /// <summary>Where imports come from. Null: the module must have none.</summary>
    public IImportResolver? Imports { get; init; }

    /// <summary>What the host is: target, CPU features and fingerprint values the file is compared with [LOAD-1] [LOAD-2] [LOAD-3]. Default: <see cref="HostEnvironment.Current"/>.</summary>
    public HostEnvironment Host { get; init; } = HostEnvironment.Current;

    /// <summary>How <see cref="LoadedModule.LoadFile"/> reads the file: e.g. a <see cref="SignaturePolicy"/>
    /// that refuses unsigned or tampered files before anything is mapped. The signature policy applies to
    /// <see cref="LoadedModule.Load(CacheImage, LoadOptions?)"/> too: an image read without it is checked against it.</summary>
    public ReadOptions Read { get; init; } = ReadOptions.Default;

    /// <summary>What to do with stale callers [LOAD-5]. Default: <see cref="StalePolicy.Strict"/>.</summary>
    public StalePolicy StalePolicy { get; init; } = StalePolicy.Strict;

    /// <summary>
    /// Called, on the calling thread, when loaded code reaches a refused function (stale in lenient mode, missing CPU
    /// features, removed) that <see cref="CompileOnCall"/> did not give a body. The call is abandoned: control goes back
    /// to the innermost entry into the module (<see cref="LoadedModule.Invoke(string, ReadOnlySpan{Value})"/>), which throws naming the function; no
    /// instruction of its caller after the call runs. The callback runs inside a native frame: it must not throw
    /// (exceptions are caught and dropped) and must not commit updates.
    /// </summary>
    public Action<RefusedFunction>? OnRefusedCall { get; init; }

    /// <summary>
    /// Compile-on-call: gives a refused function (stale in lenient mode, missing CPU features, removed by an update) a
    /// body on its first call. The loader calls it once per function, on the calling thread (concurrent first calls wait
    /// for one compile), links the body (in a hot-swappable module through an update; in a direct one into room it
    /// reserved), and continues the original call with its original arguments. Null, a body of another signature, one
    /// that is itself stale, or an exception: the call is refused as without a compiler. It runs inside module code:
    /// it may compile and read the module, not call into it.
    /// </summary>
    public Func<RefusedFunction, FunctionBody?>? CompileOnCall { get; init; }

    /// <summary>How calls between the module's functions are linked. Default: <see cref="LinkMode.Direct"/>.</summary>
    public LinkMode LinkMode { get; init; } = LinkMode.Direct;

    /// <summary>Hot-swappable modules: how many functions updates may add beyond the file's (−1: a quarter of the file's, plus 64).</summary>
    public int AddCapacity { get; init; } = -1;

    /// <summary>Hot-swappable modules: address space reserved for new bodies, inside rel32 reach of the module (0: 64 MiB or four times the code, whichever is larger).</summary>
    public long CodeReserve { get; init; }

    /// <summary>Null: the host's own (Linux only; others get UnsupportedPlatform).</summary>
    public IExecutableMemory? Memory { get; init; }

    /// <summary>
    /// Register the module's unwind information (FORMAT.md §19) with the system unwinder (libgcc's, which glibc's
    /// <c>backtrace()</c>, <c>_Unwind_Backtrace</c> and C++ exceptions use) before its code can run, and withdraw it
    /// when the code is unloaded or a replaced body is freed [LOAD-10]. On by default: it costs O(1) per module, the
    /// unwinder sorts the entries on its first walk through them. Functions without unwind information stop a walk.
    /// </summary>
    public bool RegisterUnwindInfo { get; init; } = true;

    /// <summary>
    /// Append a line <c>START SIZE NAME</c> for every function to <c>perf-PID.map</c> in <see cref="PerfMapDirectory"/>
    /// (and for every body a hot-swap adds), so that <c>perf</c> and other profilers name the module's code. Off unless
    /// the environment variable <c>AOTCACHE_PERF_MAP</c> is <c>1</c>.
    /// </summary>
    public bool PerfMap { get; init; } = Environment.GetEnvironmentVariable("AOTCACHE_PERF_MAP") == "1";

    /// <summary>Where <see cref="PerfMap"/> writes; profilers look in <c>/tmp</c>.</summary>
    public string PerfMapDirectory { get; init; } = "/tmp";

    /// <summary>
    /// Register an in-memory symbol file for the module's code (and for every batch of bodies a hot-swap adds) with
    /// GDB's JIT interface, so that a debugger names the functions and unwinds through them. Off unless the environment
    /// variable <c>AOTCACHE_GDB_JIT</c> is <c>1</c>.
    /// </summary>
    public bool RegisterWithDebugger { get; init; } = Environment.GetEnvironmentVariable("AOTCACHE_GDB_JIT") == "1";

    internal ToolOptions Tools => new(RegisterUnwindInfo, PerfMap ? PerfMapDirectory : null, RegisterWithDebugger);
}
