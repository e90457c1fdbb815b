using System.Runtime.InteropServices;

namespace AotCache.Loader.Memory;

/// <summary>
/// A 100-byte System V trampoline that loads rdi..r9 from an array of six integers and xmm0..xmm7 from
/// an array of eight doubles, calls the target, and stores rax and xmm0. Since System V assigns integer
/// and floating-point arguments to separate register sequences, this one shim calls any signature of up
/// to six integer and eight floating-point parameters, so safe code can call loaded functions after a
/// signature check instead of each caller writing unsafe function-pointer casts.
/// </summary>
internal static unsafe class CallShim
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct Result
    {
        public long Rax;
        public double Xmm0;
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
        0x41, 0x5D,                   // pop r13
        0x41, 0x5C,                   // pop r12
        0x5B,                         // pop rbx
        0xC3,                         // ret
    ];

    private static readonly Lazy<nint> Entry = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private static nint Create()
    {
        IExecutableMemory memory = LinuxMemory.ForHost();
        MemoryRegion page = memory.Allocate(memory.PageSize);
        Code.CopyTo(RegionAccess.AsSpan(page));
        memory.Protect(page, 0, page.Size, PageProtection.ReadExecute);
        return page.Address; // lives for the process: one page, shared by every module
    }

    /// <summary>Calls <paramref name="target"/> with up to six integer and eight double arguments.</summary>
    public static Result Call(nint target, ReadOnlySpan<long> ints, ReadOnlySpan<double> doubles)
    {
        if (ints.Length > 6 || doubles.Length > 8) throw new ArgumentException("at most 6 integer and 8 floating-point arguments");
        long* intArgs = stackalloc long[6];
        double* fpArgs = stackalloc double[8];
        for (int i = 0; i < ints.Length; i++) intArgs[i] = ints[i];
        for (int i = 0; i < doubles.Length; i++) fpArgs[i] = doubles[i];
        Result result;
        var shim = (delegate* unmanaged<nint, long*, double*, Result*, void>)Entry.Value;
        shim(target, intArgs, fpArgs, &result);
        return result;
    }
}
