using System.Buffers.Binary;

namespace AotCache.Loader.Linking;

/// <summary>
/// The machine code of a module's refusal stubs (FORMAT.md §16.5). Hand-encoded, because the loader does not carry an
/// assembler; <c>StubCodeTests</c> decodes every byte with Iced and checks each instruction.
/// <para>
/// Stub <c>i</c> is <c>jmp qword [rip + stub slot i]</c>, then <c>push i; jmp common</c>. The slot first holds the
/// address of that <c>push</c>; once the function has a body (compiled on its first call), the slot holds the body,
/// and the stub is one indirect jump. The common part keeps every register a caller could rely on (all argument
/// registers, rax, r10, r11 and xmm0–15, besides the callee-saved ones the handler keeps by the ABI), aligns the stack
/// to 16 bytes whatever its alignment on entry, and asks the loader's handler what to do: jump to a body (it returns
/// to it with <c>ret</c>, so the stack is exactly as the caller left it and the callee sees the caller's return
/// address), or abandon the call: restore the stack pointer and callee-saved registers the innermost entry into the
/// module saved, and resume that entry, which reports the refusal. No instruction of the caller after the call runs.
/// </para>
/// </summary>
internal static class StubCode
{
    public const int StubSize = 16;

    /// <summary>Offset of the <c>push i</c> in a stub: where its slot points until the function has a body.</summary>
    public const int ResolveOffset = 6;

    /// <summary>Bytes the common part needs (rounded up to 16).</summary>
    public const int CommonSize = 512;

    private const int SaveArea = 0x150;     // 9 GPRs (72 bytes, padded to 80) + 16 × 16 bytes of xmm
    private const int XmmArea = 0x50;
    private static readonly int[] SavedGprs = [0, 1, 2, 6, 7, 8, 9, 10, 11]; // rax, rcx, rdx, rsi, rdi, r8–r11

    /// <summary>Writes stub <paramref name="index"/> at <paramref name="at"/> (offsets in the region's span).</summary>
    public static void WriteStub(Span<byte> memory, long at, int index, long slotAt, long commonAt)
    {
        Span<byte> s = memory.Slice((int)at, StubSize);
        s[0] = 0xFF; s[1] = 0x25;                                                              // jmp qword [rip + slot]
        BinaryPrimitives.WriteInt32LittleEndian(s[2..], checked((int)(slotAt - (at + 6))));
        s[6] = 0x68; BinaryPrimitives.WriteInt32LittleEndian(s[7..], index);                   // push index
        s[11] = 0xE9; BinaryPrimitives.WriteInt32LittleEndian(s[12..], checked((int)(commonAt - (at + 16)))); // jmp common
    }

    /// <summary>Writes the common part at <paramref name="at"/>: it calls the handler through the address held at
    /// <paramref name="handlerSlotAt"/> with (module id, stub index).</summary>
    public static void WriteCommon(Span<byte> memory, long at, long handlerSlotAt, long moduleId)
    {
        var e = new Emitter(memory.Slice((int)at, CommonSize), at);
        e.Bytes(0x55);                                       // push rbp
        e.Bytes(0x48, 0x89, 0xE5);                           // mov rbp, rsp
        e.Bytes(0x48, 0x83, 0xE4, 0xF0);                     // and rsp, -16
        e.Bytes(0x48, 0x81, 0xEC); e.Int32(SaveArea);        // sub rsp, SaveArea
        for (int i = 0; i < SavedGprs.Length; i++) e.MovGpr(store: true, SavedGprs[i], 8 * i);
        for (int x = 0; x < 16; x++) e.MovUps(store: true, x, XmmArea + 16 * x);
        e.Bytes(0x48, 0xBF); e.Int64(moduleId);              // mov rdi, module id
        e.Bytes(0x48, 0x8B, 0x75, 0x08);                     // mov rsi, [rbp + 8]     (the stub's index)
        e.Bytes(0xFF, 0x15); e.Rel32To(handlerSlotAt);       // call [rip + handler slot]: returns (target, entry) in rax:rdx
        e.Bytes(0x48, 0x85, 0xC0);                           // test rax, rax
        int jz = e.Position;
        e.Bytes(0x0F, 0x84); e.Int32(0);                     // jz refuse
        e.Bytes(0x48, 0x89, 0x45, 0x08);                     // mov [rbp + 8], rax     (ret below goes there)
        for (int x = 15; x >= 0; x--) e.MovUps(store: false, x, XmmArea + 16 * x);
        for (int i = SavedGprs.Length - 1; i >= 0; i--) e.MovGpr(store: false, SavedGprs[i], 8 * i);
        e.Bytes(0x48, 0x89, 0xEC);                           // mov rsp, rbp
        e.Bytes(0x5D);                                       // pop rbp
        e.Bytes(0xC3);                                       // ret                    (to the body, as if called)
        e.PatchRel32(jz + 2, e.Position);
        // refuse: back to the innermost entry (rdx points at what it saved), as if the call there returned.
        e.Bytes(0x48, 0x8B, 0x22);                           // mov rsp, [rdx]
        e.Bytes(0x48, 0x8B, 0x5A, 0x08);                     // mov rbx, [rdx + 8]
        e.Bytes(0x48, 0x8B, 0x6A, 0x10);                     // mov rbp, [rdx + 16]
        e.Bytes(0x4C, 0x8B, 0x62, 0x18);                     // mov r12, [rdx + 24]
        e.Bytes(0x4C, 0x8B, 0x6A, 0x20);                     // mov r13, [rdx + 32]
        e.Bytes(0x4C, 0x8B, 0x72, 0x28);                     // mov r14, [rdx + 40]
        e.Bytes(0x4C, 0x8B, 0x7A, 0x30);                     // mov r15, [rdx + 48]
        e.Bytes(0xFF, 0x62, 0x38);                           // jmp [rdx + 56]         (the entry's resume point)
        while (e.Position < CommonSize) e.Bytes(0xCC);
    }

    /// <summary>Appends bytes of the few instruction forms the stubs use.</summary>
    private ref struct Emitter(Span<byte> code, long origin)
    {
        private readonly Span<byte> _code = code;
        public int Position;

        public void Bytes(params ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_code[Position..]);
            Position += bytes.Length;
        }

        public void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_code[Position..], value);
            Position += 4;
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_code[Position..], value);
            Position += 8;
        }

        /// <summary>A rel32 to an absolute region offset, for a field that ends its instruction.</summary>
        public void Rel32To(long target) => Int32(checked((int)(target - (origin + Position + 4))));

        public readonly void PatchRel32(int field, int target) => BinaryPrimitives.WriteInt32LittleEndian(_code[field..], target - (field + 4));

        /// <summary><c>mov [rsp + disp32], r64</c> or <c>mov r64, [rsp + disp32]</c>.</summary>
        public void MovGpr(bool store, int register, int displacement)
        {
            Bytes((byte)(0x48 | (register >= 8 ? 0x04 : 0)), store ? (byte)0x89 : (byte)0x8B, (byte)(0x84 | ((register & 7) << 3)), 0x24);
            Int32(displacement);
        }

        /// <summary><c>movups [rsp + disp32], xmm</c> or <c>movups xmm, [rsp + disp32]</c>.</summary>
        public void MovUps(bool store, int register, int displacement)
        {
            if (register >= 8) Bytes(0x44);
            Bytes(0x0F, store ? (byte)0x11 : (byte)0x10, (byte)(0x84 | ((register & 7) << 3)), 0x24);
            Int32(displacement);
        }
    }
}
