using System.Buffers.Binary;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace AotCache.Loader.Memory;

/// <summary>
/// The boundary between loaded code and a managed host function (FORMAT.md §16.1 and §16.5, [LOAD-11]). .NET cannot unwind an
/// exception through native frames: one that leaves a callback into loaded code ends the process. So a managed import
/// (<c>ImportTable.Add(name, Delegate)</c>) is called through a guard: a wrapper that catches whatever the delegate
/// throws and records it for the thread, behind a small native stub that, when an exception was recorded, abandons the
/// call the way a refused call is abandoned: it restores what the innermost entry into module code (<see cref="CallShim"/>)
/// saved and resumes that entry, which returns to its managed caller, where <see cref="ThrowIfPending"/> rethrows the
/// exception with its original stack trace. No instruction of loaded code after the call runs, and no .NET frame is
/// ever unwound by anything but .NET.
/// <para>
/// Stubs come in pools of <see cref="StubsPerPool"/>: an 8 KiB region whose first page holds the stubs and the common
/// part (read+execute, written once) and whose second page holds each stub's wrapper address (read+write, never
/// executable). Stub <c>i</c> is <c>mov r11, [rip + slot i]; jmp common</c>. The common part calls r11, then looks at a
/// process-wide count of recorded exceptions: zero (always, unless an exception is on its way) returns at once; else
/// it asks <see cref="PendingEntry"/> whether this thread's call must be abandoned, keeping rax and xmm0 meanwhile.
/// Pools live for the process, like the call shim: an import's address may be held by code the host never unloads.
/// </para>
/// </summary>
internal static unsafe class HostCallGuard
{
    public const int StubSize = 16;
    public const int StubsPerPool = 240;

    /// <summary>Offset of the common part in a pool's code page, after the stubs.</summary>
    public const int CommonOffset = StubsPerPool * StubSize;

    private const int PageSize = 4096;

    /// <summary>The common part, with the addresses of the pending count and of <see cref="PendingEntry"/> at
    /// <see cref="CountImmediate"/> and <see cref="HandlerImmediate"/>; <c>HostCallGuardTests</c> decodes it with Iced.</summary>
    internal static ReadOnlySpan<byte> CommonCode =>
    [
        0x55,                                     // push rbp             (rsp ≡ 0 mod 16 from here)
        0x48, 0x89, 0xE5,                         // mov rbp, rsp
        0x41, 0xFF, 0xD3,                         // call r11             (the managed wrapper; arguments untouched)
        0x49, 0xBB, 0, 0, 0, 0, 0, 0, 0, 0,       // mov r11, &pending count
        0x49, 0x83, 0x3B, 0x00,                   // cmp qword [r11], 0
        0x75, 0x02,                               // jne slow
        0xC9,                                     // leave
        0xC3,                                     // ret                  (the fast path: no exception anywhere)
        0x48, 0x83, 0xEC, 0x10,                   // slow: sub rsp, 16
        0x48, 0x89, 0x04, 0x24,                   // mov [rsp], rax       (the result, kept across the question)
        0xF2, 0x0F, 0x11, 0x44, 0x24, 0x08,       // movsd [rsp+8], xmm0
        0x49, 0xBB, 0, 0, 0, 0, 0, 0, 0, 0,       // mov r11, &PendingEntry
        0x41, 0xFF, 0xD3,                         // call r11             (0, or this thread's entry record)
        0x48, 0x85, 0xC0,                         // test rax, rax
        0x75, 0x0C,                               // jnz abandon
        0x48, 0x8B, 0x04, 0x24,                   // mov rax, [rsp]
        0xF2, 0x0F, 0x10, 0x44, 0x24, 0x08,       // movsd xmm0, [rsp+8]
        0xC9,                                     // leave
        0xC3,                                     // ret
        0x48, 0x8B, 0x20,                         // abandon: mov rsp, [rax]   (as a refusal stub does)
        0x48, 0x8B, 0x58, 0x08,                   // mov rbx, [rax+8]
        0x48, 0x8B, 0x68, 0x10,                   // mov rbp, [rax+16]
        0x4C, 0x8B, 0x60, 0x18,                   // mov r12, [rax+24]
        0x4C, 0x8B, 0x68, 0x20,                   // mov r13, [rax+32]
        0x4C, 0x8B, 0x70, 0x28,                   // mov r14, [rax+40]
        0x4C, 0x8B, 0x78, 0x30,                   // mov r15, [rax+48]
        0xFF, 0x60, 0x38,                         // jmp [rax+56]         (the entry's resume point)
    ];

    internal const int CountImmediate = 9, HandlerImmediate = 41;

    private static readonly object s_lock = new(); // a monitor: net8.0 has no System.Threading.Lock
    private static readonly ConditionalWeakTable<Delegate, Guarded> s_guarded = new();
    private static MemoryRegion s_pool;
    private static int s_used = StubsPerPool;

    /// <summary>Exceptions recorded and not yet acted on, over all threads: what the stubs' fast path reads. Native
    /// memory, so that the stubs read it with one compare.</summary>
    private static readonly long* s_pendingCount = (long*)NativeMemory.AllocZeroed(8);

    [ThreadStatic] private static ExceptionDispatchInfo? t_exception;

    /// <summary>A guarded delegate: its wrapper (kept alive with it) and the stub to call.</summary>
    private sealed record Guarded(Delegate Wrapper, nint Stub);

    /// <summary>The address loaded code calls for <paramref name="callback"/>: a stub that runs it behind the guard.
    /// One stub per delegate instance, made on first use.</summary>
    public static nint AddressOf<TDelegate>(TDelegate callback) where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (s_lock)
        {
            if (s_guarded.TryGetValue(callback, out Guarded? known)) return known.Stub;
            Delegate wrapper = Wrap(callback);
            nint target = Marshal.GetFunctionPointerForDelegate((TDelegate)wrapper); // the wrapper has the callback's own type
            if (s_used == StubsPerPool)
            {
                s_pool = NewPool();
                s_used = 0;
            }
            int index = s_used++;
            // The slot is written before the stub's address leaves this lock: no thread can call it earlier.
            *(nint*)(s_pool.Address + PageSize + 8 * index) = target;
            var guarded = new Guarded(wrapper, s_pool.Address + index * StubSize);
            s_guarded.AddOrUpdate(callback, guarded);
            return guarded.Stub;
        }
    }

    /// <summary>Rethrows, on the thread whose entry was resumed, the exception a guarded host function threw.</summary>
    public static void ThrowIfPending()
    {
        ExceptionDispatchInfo? pending = t_exception;
        if (pending is null) return;
        t_exception = null;
        pending.Throw();
    }

    /// <summary>The delegate's own type, invoking it inside try/catch; a caught exception is recorded and the default
    /// of the result type returned (the stub then abandons the call, so nobody reads it).</summary>
    private static Delegate Wrap(Delegate callback)
    {
        Type type = callback.GetType();
        MethodInfo invoke = type.GetMethod("Invoke") ?? throw new ArgumentException("not a delegate type", nameof(callback));
        ParameterExpression[] parameters = [.. invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name))];
        ParameterExpression caught = Expression.Variable(typeof(Exception), "exception");
        MethodInfo record = typeof(HostCallGuard).GetMethod(nameof(Record), BindingFlags.NonPublic | BindingFlags.Static)!;
        Expression body = Expression.TryCatch(
            Expression.Invoke(Expression.Constant(callback, type), parameters),
            Expression.Catch(caught, Expression.Block(invoke.ReturnType, Expression.Call(record, caught), Expression.Default(invoke.ReturnType))));
        return Expression.Lambda(type, body, parameters).Compile();
    }

    private static void Record(Exception exception)
    {
        t_exception = ExceptionDispatchInfo.Capture(exception);
        Interlocked.Increment(ref *s_pendingCount);
    }

    /// <summary>Asked by a stub when some exception is pending: 0 when none is this thread's (the call returns), else
    /// the innermost entry to resume. With no entry (code entered through a raw function pointer) the exception has
    /// nowhere to go and loaded code cannot go on as if the call had returned: the process ends, naming it.</summary>
    [UnmanagedCallersOnly]
    private static nint PendingEntry()
    {
        if (t_exception is null) return 0;
        Interlocked.Decrement(ref *s_pendingCount);
        nint entry = CallShim.InnermostEntry;
        if (entry == 0)
            Environment.FailFast("AotCache: a host function called by loaded code threw, in code entered through a raw function pointer: " +
                "there is no entry to carry the exception to. Call such modules through LoadedModule.Invoke.", t_exception.SourceException);
        return entry;
    }

    private static MemoryRegion NewPool()
    {
        IExecutableMemory memory = LinuxMemory.ForHost();
        MemoryRegion pool = memory.Allocate(2 * PageSize);
        Span<byte> code = RegionAccess.AsSpan(pool)[..PageSize];
        code.Fill(0xCC);
        for (int i = 0; i < StubsPerPool; i++)
        {
            Span<byte> stub = code.Slice(i * StubSize, StubSize);
            int at = i * StubSize;
            stub[0] = 0x4C; stub[1] = 0x8B; stub[2] = 0x1D;                                        // mov r11, [rip + slot i]
            BinaryPrimitives.WriteInt32LittleEndian(stub[3..], PageSize + 8 * i - (at + 7));
            stub[7] = 0xE9;                                                                        // jmp common
            BinaryPrimitives.WriteInt32LittleEndian(stub[8..], CommonOffset - (at + 12));
        }
        Span<byte> common = code[CommonOffset..];
        CommonCode.CopyTo(common);
        BinaryPrimitives.WriteInt64LittleEndian(common[CountImmediate..], (long)s_pendingCount);
        BinaryPrimitives.WriteInt64LittleEndian(common[HandlerImmediate..], (long)(delegate* unmanaged<nint>)&PendingEntry);
        memory.Protect(pool, 0, PageSize, PageProtection.ReadExecute); // the slots' page stays read+write, never executable
        return pool;
    }

    /// <summary>The code page of the newest pool, for <c>HostCallGuardTests</c>.</summary>
    internal static ReadOnlySpan<byte> NewestPoolCode
    {
        get
        {
            lock (s_lock) return s_pool.Address == 0 ? [] : new ReadOnlySpan<byte>((void*)s_pool.Address, PageSize);
        }
    }
}
