using System.Runtime.InteropServices;

namespace AotCache.Loader.Memory;

/// <summary>
/// The System V trampoline through which managed code enters a module: it loads rdi..r9 from an array of six integers
/// and xmm0..xmm7 from an array of eight doubles, calls the target, and stores rax and xmm0. Since System V assigns
/// integer and floating-point arguments to separate register sequences, this one shim calls any signature of up to six
/// integer and eight floating-point parameters, so safe code can call loaded functions after a signature check.
/// <para>
/// It is also an *entry*: before the call it saves its stack pointer and callee-saved registers in a record the
/// caller provides, with the address of its resume point. A call that reaches a refused function comes back here (the
/// refusal stub restores the record and jumps to the resume point) instead of returning to the code that made it;
/// the shim then returns normally with <see cref="Result.Refused"/> set. Records nest: each thread keeps a stack of
/// them, so the innermost entry (e.g. an <c>Invoke</c> from inside a host callback) is the one resumed.
/// </para>
/// </summary>
internal static unsafe class CallShim
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct Result
    {
        public long Rax;
        public double Xmm0;
        /// <summary>1 when the call was abandoned at a refused function.</summary>
        public long Refused;
    }

    /// <summary>What an entry saves (64 bytes): rsp, rbx, rbp, r12–r15, and its resume address.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EntryRecord
    {
        public long Rsp, Rbx, Rbp, R12, R13, R14, R15, Resume;
    }

    /// <summary>The machine code, hand-encoded; <c>CallShimTests</c> decodes it with Iced and checks every instruction.</summary>
    internal static ReadOnlySpan<byte> Code =>
    [
        0x53,                         // push rbx            (entry rsp ≡ 8 mod 16; three pushes make it 0)
        0x41, 0x54,                   // push r12
        0x41, 0x55,                   // push r13
        0x48, 0x89, 0xCB,             // mov rbx, rcx        (result*)
        0x49, 0x89, 0xFC,             // mov r12, rdi        (target)
        0x49, 0x89, 0xF5,             // mov r13, rsi        (long ints[6])
        0x49, 0x89, 0x20,             // mov [r8], rsp       (the entry record: r8)
        0x49, 0x89, 0x58, 0x08,       // mov [r8+8], rbx
        0x49, 0x89, 0x68, 0x10,       // mov [r8+16], rbp
        0x4D, 0x89, 0x60, 0x18,       // mov [r8+24], r12
        0x4D, 0x89, 0x68, 0x20,       // mov [r8+32], r13
        0x4D, 0x89, 0x70, 0x28,       // mov [r8+40], r14
        0x4D, 0x89, 0x78, 0x30,       // mov [r8+48], r15
        0x48, 0x8D, 0x05, 0x61, 0x00, 0x00, 0x00, // lea rax, [rip + resume]
        0x49, 0x89, 0x40, 0x38,       // mov [r8+56], rax
        0xF2, 0x0F, 0x10, 0x02,       // movsd xmm0, [rdx]
        0xF2, 0x0F, 0x10, 0x4A, 0x08, // movsd xmm1, [rdx+8]
        0xF2, 0x0F, 0x10, 0x52, 0x10, // movsd xmm2, [rdx+16]
        0xF2, 0x0F, 0x10, 0x5A, 0x18, // movsd xmm3, [rdx+24]
        0xF2, 0x0F, 0x10, 0x62, 0x20, // movsd xmm4, [rdx+32]
        0xF2, 0x0F, 0x10, 0x6A, 0x28, // movsd xmm5, [rdx+40]
        0xF2, 0x0F, 0x10, 0x72, 0x30, // movsd xmm6, [rdx+48]
        0xF2, 0x0F, 0x10, 0x7A, 0x38, // movsd xmm7, [rdx+56]
        0x49, 0x8B, 0x7D, 0x00,       // mov rdi, [r13]
        0x49, 0x8B, 0x75, 0x08,       // mov rsi, [r13+8]
        0x49, 0x8B, 0x55, 0x10,       // mov rdx, [r13+16]
        0x49, 0x8B, 0x4D, 0x18,       // mov rcx, [r13+24]
        0x4D, 0x8B, 0x45, 0x20,       // mov r8, [r13+32]
        0x4D, 0x8B, 0x4D, 0x28,       // mov r9, [r13+40]
        0xB8, 0x08, 0x00, 0x00, 0x00, // mov eax, 8          (vector registers used, for variadic targets)
        0x41, 0xFF, 0xD4,             // call r12
        0x48, 0x89, 0x03,             // mov [rbx], rax
        0xF2, 0x0F, 0x11, 0x43, 0x08, // movsd [rbx+8], xmm0
        0x48, 0xC7, 0x43, 0x10, 0x00, 0x00, 0x00, 0x00, // mov qword [rbx+16], 0
        0x41, 0x5D,                   // pop r13             (epilogue)
        0x41, 0x5C,                   // pop r12
        0x5B,                         // pop rbx
        0xC3,                         // ret
        0x48, 0xC7, 0x43, 0x10, 0x01, 0x00, 0x00, 0x00, // resume: mov qword [rbx+16], 1
        0xEB, 0xF0,                   // jmp epilogue
    ];

    /// <summary>Offset of the resume point in <see cref="Code"/>.</summary>
    internal const int ResumeOffset = 145;

    private static readonly Lazy<nint> Entry = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private static nint Create()
    {
        IExecutableMemory memory = LinuxMemory.ForHost();
        MemoryRegion page = memory.Allocate(memory.PageSize);
        Code.CopyTo(RegionAccess.AsSpan(page));
        memory.Protect(page, 0, page.Size, PageProtection.ReadExecute);
        return page.Address; // lives for the process: one page, shared by every module
    }

    /// <summary>This thread's entries into modules, innermost last: where a refused call goes back to.</summary>
    [ThreadStatic] private static Stack<nint>? t_entries;

    /// <summary>The innermost entry of this thread (an <see cref="EntryRecord"/>'s address), or 0 when the thread runs
    /// module code it did not enter through the shim (a raw function pointer).</summary>
    public static nint InnermostEntry => t_entries is { Count: > 0 } entries ? entries.Peek() : 0;

    /// <summary>Marks the thread as running module code entered some other way (a raw function pointer inside
    /// <c>LoadedModule.EnterCode</c>): a refused call under it has no entry to go back to.</summary>
    public static void PushBarrier() => (t_entries ??= new()).Push(0);

    /// <summary>Ends what <see cref="PushBarrier"/> began.</summary>
    public static void PopBarrier() => t_entries?.Pop();

    /// <summary>Calls <paramref name="target"/> with up to six integer and eight double arguments.</summary>
    public static Result Call(nint target, ReadOnlySpan<long> ints, ReadOnlySpan<double> doubles)
    {
        if (ints.Length > 6 || doubles.Length > 8) throw new ArgumentException("at most 6 integer and 8 floating-point arguments");
        long* intArgs = stackalloc long[6];
        double* fpArgs = stackalloc double[8];
        for (int i = 0; i < ints.Length; i++) intArgs[i] = ints[i];
        for (int i = 0; i < doubles.Length; i++) fpArgs[i] = doubles[i];
        Result result;
        EntryRecord record;
        var shim = (delegate* unmanaged<nint, long*, double*, Result*, EntryRecord*, void>)Entry.Value;
        Stack<nint> entries = t_entries ??= new();
        entries.Push((nint)(&record));
        try
        {
            shim(target, intArgs, fpArgs, &result, &record);
        }
        finally
        {
            entries.Pop();
        }
        return result;
    }
}
