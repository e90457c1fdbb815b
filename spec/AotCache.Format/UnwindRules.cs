using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace AotCache.Format;

/// <summary>A breach of an unwind rule: where (relative to the bytes checked) and what.</summary>
public readonly record struct UnwindProblem(int Offset, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>One function's frame description as a CFI area lays it out: the function's place in its code and its
/// CFA program (FORMAT.md §19).</summary>
public readonly record struct FrameDescription(long CodeOffset, long CodeSize, ReadOnlyMemory<byte> Program);

/// <summary>
/// The rules of FORMAT.md §19 in one place: the Unwind section's layout (index, CFI area), the one CIE, the FDE
/// layout, the CFA program subset and its check, and writing CFI. The validator, the builder, the rewriter, the
/// reader's <c>GetFunctionBody</c>, hot-swap and the loader's registration all use these.
/// </summary>
public static class UnwindRules
{
    // DWARF call frame instruction opcodes (DWARF 5 §6.4.2; the subset [UNW-5] allows).
    /// <summary>DW_CFA_nop.</summary>
    public const byte OpNop = 0x00;
    /// <summary>DW_CFA_advance_loc1: a 1-byte delta follows.</summary>
    public const byte OpAdvanceLoc1 = 0x02;
    /// <summary>DW_CFA_advance_loc2: a 2-byte delta follows.</summary>
    public const byte OpAdvanceLoc2 = 0x03;
    /// <summary>DW_CFA_advance_loc4: a 4-byte delta follows.</summary>
    public const byte OpAdvanceLoc4 = 0x04;
    /// <summary>DW_CFA_remember_state.</summary>
    public const byte OpRememberState = 0x0A;
    /// <summary>DW_CFA_restore_state.</summary>
    public const byte OpRestoreState = 0x0B;
    /// <summary>DW_CFA_def_cfa: register and offset (ULEB128) follow.</summary>
    public const byte OpDefCfa = 0x0C;
    /// <summary>DW_CFA_def_cfa_register: a register (ULEB128) follows.</summary>
    public const byte OpDefCfaRegister = 0x0D;
    /// <summary>DW_CFA_def_cfa_offset: an offset (ULEB128) follows.</summary>
    public const byte OpDefCfaOffset = 0x0E;
    /// <summary>DW_CFA_advance_loc: the high two bits; the low six are the delta.</summary>
    public const byte OpAdvanceLoc = 0x40;
    /// <summary>DW_CFA_offset: the high two bits; the low six are the register.</summary>
    public const byte OpOffset = 0x80;
    /// <summary>DW_CFA_restore: the high two bits; the low six are the register.</summary>
    public const byte OpRestore = 0xC0;

    /// <summary>
    /// What an FDE's pc_begin holds beyond the function's code offset: pc_begin = <see cref="TextBias"/> + code offset,
    /// relative to the text base T = (address of the Code section's first byte) − <see cref="TextBias"/>. libgcc reads a
    /// zero pc_begin as an FDE its linker discarded, and the first function's code offset is 0.
    /// </summary>
    public const int TextBias = 0x1000;

    /// <summary>The FDE pointer encoding of the CIE's 'R' augmentation: DW_EH_PE_textrel | DW_EH_PE_udata8. Eight bytes,
    /// so that libgcc never takes a function whose address has zero low 32 bits for a discarded one.</summary>
    public const byte PointerEncoding = 0x24;

    /// <summary>Bytes of the one CIE [UNW-3].</summary>
    public const int CieSize = 24;

    /// <summary>Bytes of an FDE before its CFA program: length, CIE pointer, pc_begin, pc_range, augmentation data length.</summary>
    public const int FdeHeaderSize = 25;

    /// <summary>Offset of pc_begin and pc_range inside an FDE.</summary>
    public const int FdePcBegin = 8, FdePcRange = 16, FdeAugmentation = 24;

    /// <summary>The zero length that ends a CFI area.</summary>
    public const int TerminatorSize = 4;

    /// <summary>Deepest DW_CFA_remember_state nesting a program may reach [UNW-5].</summary>
    public const int MaxRememberDepth = 16;

    /// <summary>Largest operand (register, offset, factored offset) and CFA offset [UNW-5].</summary>
    public const int MaxOperand = int.MaxValue - 7;

    /// <summary>The one CIE every CFI area starts with [UNW-3]: length 20, CIE id 0, version 1, augmentation "zR",
    /// code alignment 1, data alignment −8, return address column 16, augmentation data length 1, pointer encoding
    /// <see cref="PointerEncoding"/>; initial instructions DW_CFA_def_cfa rsp+8 and DW_CFA_offset rip at cfa−8 (the
    /// state at a function's first instruction), then two DW_CFA_nop.</summary>
    public static ReadOnlySpan<byte> Cie =>
    [
        0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, (byte)'z', (byte)'R', 0x00,
        0x01, 0x78, 0x10, 0x01, PointerEncoding, OpDefCfa, 0x07, 0x08, OpOffset | 16, 0x01, OpNop, OpNop,
    ];

    /// <summary>Where the CFI area starts in an Unwind section of a file with <paramref name="functions"/> functions:
    /// after the 4-byte index entries, rounded up to 8 [UNW-1].</summary>
    public static long CfiAreaStart(long functions) => (4 * functions + 7) & ~7L;

    /// <summary>Bytes of an FDE holding a program of <paramref name="programLength"/> bytes: a multiple of 8 [UNW-2].</summary>
    public static int FdeSize(int programLength) => (FdeHeaderSize + programLength + 7) & ~7;

    /// <summary>Registers a DW_CFA_offset or DW_CFA_restore may name [UNW-5]: the callee-saved ones and the return address.</summary>
    public static bool IsSavedRegister(int register) =>
        register is (int)DwarfRegister.Rbx or (int)DwarfRegister.Rbp or (>= (int)DwarfRegister.R12 and <= (int)DwarfRegister.R15) or (int)DwarfRegister.ReturnAddress;

    /// <summary>Registers the CFA may be computed from [UNW-5].</summary>
    public static bool IsCfaRegister(int register) => register is (int)DwarfRegister.Rsp or (int)DwarfRegister.Rbp;

    /// <summary>Length of a program without its trailing DW_CFA_nop padding: the end of its last other instruction (a
    /// zero byte can be an operand). A program with an opcode outside the subset keeps every byte.</summary>
    public static int ProgramLength(ReadOnlySpan<byte> instructions)
    {
        int end = 0;
        for (int i = 0; i < instructions.Length;)
        {
            byte op = instructions[i];
            int length = InstructionLength(instructions[i..]);
            if (length <= 0) return instructions.Length;
            i += length;
            if (op != OpNop) end = i;
        }
        return end;
    }

    /// <summary>Bytes of the instruction at the start of <paramref name="p"/>, operands included; 0 when its opcode is
    /// outside the subset or an operand runs past the end.</summary>
    private static int InstructionLength(ReadOnlySpan<byte> p)
    {
        static int Leb(ReadOnlySpan<byte> p, int at)
        {
            for (int i = at; i < p.Length; i++) if ((p[i] & 0x80) == 0) return i + 1 - at;
            return -p.Length;
        }
        int length = (p[0] & 0xC0) switch
        {
            OpAdvanceLoc or OpRestore => 1,
            OpOffset => 1 + Leb(p, 1),
            _ => p[0] switch
            {
                OpNop or OpRememberState or OpRestoreState => 1,
                OpAdvanceLoc1 => 2,
                OpAdvanceLoc2 => 3,
                OpAdvanceLoc4 => 5,
                OpDefCfaRegister or OpDefCfaOffset => 1 + Leb(p, 1),
                OpDefCfa when Leb(p, 1) is > 0 and var first => 1 + first + Leb(p, 1 + first),
                _ => 0,
            },
        };
        return length > 0 && length <= p.Length ? length : 0;
    }

    /// <summary>
    /// Checks a CFA program against [UNW-5] for a function of <paramref name="codeSize"/> bytes: only the opcodes of
    /// the subset, operands within range, every location inside the function, DW_CFA_restore_state only after a
    /// DW_CFA_remember_state, nesting at most <see cref="MaxRememberDepth"/>. Null when it complies; else the offset in
    /// the program of the offending instruction and why. Runs once per function of every file read: the frame-pointer
    /// program the code generator emits and the empty one are recognized whole, anything else is decoded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static UnwindProblem? CheckProgram(ReadOnlySpan<byte> program, long codeSize)
    {
        if (IsFramePointerProgram(program, codeSize) || OnlyNops(program)) return null;
        int at = Scan(program, codeSize, null, out Flaw flaw, out long detail);
        return at < 0 ? null : new UnwindProblem(at, $"CFA program byte {at}: {Describe(flaw, detail, codeSize)}");
    }

    /// <summary>41 0E 10 86 02 43 0D 06 as a little-endian u64: at 1 CFA = rsp+16 and rbp at cfa-16, at 4 CFA = rbp+16.</summary>
    private const ulong FramePointerPrologue = 0x06_0D_43_02_86_10_0E_41;

    /// <summary>The frame-pointer program (<see cref="UnwindInfo.FramePointer"/> with the prologue at 0 and 1), its
    /// epilogue advance inside the function, then only DW_CFA_nop: valid by construction, checked in a few compares.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsFramePointerProgram(ReadOnlySpan<byte> p, long codeSize)
    {
        if (p.Length < 12 || BinaryPrimitives.ReadUInt64LittleEndian(p) != FramePointerPrologue) return false;
        byte op = p[8];
        int i;
        long delta;
        if ((op & 0xC0) == OpAdvanceLoc) { delta = op & 0x3F; i = 9; }
        else if (op == OpAdvanceLoc1) { delta = p[9]; i = 10; }
        else if (op == OpAdvanceLoc2 && p.Length >= 14) { delta = BinaryPrimitives.ReadUInt16LittleEndian(p[9..]); i = 11; }
        else if (op == OpAdvanceLoc4 && p.Length >= 16) { delta = BinaryPrimitives.ReadUInt32LittleEndian(p[9..]); i = 13; }
        else return false;
        return 4 + delta < codeSize && p.Length >= i + 3 && p[i] == OpDefCfa && p[i + 1] == 7 && p[i + 2] == 8 && OnlyNops(p[(i + 3)..]);
    }

    /// <summary>True when every byte is DW_CFA_nop: padding, a few bytes long (a loop beats a vectorized search there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool OnlyNops(ReadOnlySpan<byte> p)
    {
        foreach (byte b in p) if (b != OpNop) return false;
        return true;
    }

    /// <summary>The instructions of a program that <see cref="CheckProgram"/> accepts (advances folded into code
    /// offsets, nops dropped). A program that breaks a rule is an <see cref="ArgumentException"/>.</summary>
    public static List<CfaInstruction> Decode(ReadOnlySpan<byte> program)
    {
        var instructions = new List<CfaInstruction>();
        int at = Scan(program, long.MaxValue, instructions, out Flaw flaw, out long detail);
        if (at >= 0) throw new ArgumentException($"CFA program byte {at}: {Describe(flaw, detail, long.MaxValue)} [UNW-5]", nameof(program));
        return instructions;
    }

    /// <summary>What broke a rule of the subset, for <see cref="Describe"/>.</summary>
    private enum Flaw : byte { Opcode, SavedRegister, CfaRegister, CfaOffset, Factored, Operand, OperandLength, Truncated, Location, Depth, Unmatched }

    /// <summary>One pass over a program: −1 when it keeps to the subset, else the offset of the first instruction that
    /// does not, with the flaw and the value involved. Appends the instructions to <paramref name="output"/> if given.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Scan(ReadOnlySpan<byte> p, long codeSize, List<CfaInstruction>? output, out Flaw flaw, out long detail)
    {
        long location = 0;
        int depth = 0;
        int i = 0;
        flaw = default;
        detail = 0;
        while (i < p.Length)
        {
            int at = i;
            int op = p[i++];
            long value;
            switch (op & 0xC0)
            {
                case OpAdvanceLoc:
                    location += op & 0x3F;
                    if (location >= codeSize) return Fail(at, Flaw.Location, location, out flaw, out detail);
                    continue;
                case OpOffset:
                {
                    int register = op & 0x3F;
                    if (!IsSavedRegister(register)) return Fail(at, Flaw.SavedRegister, register, out flaw, out detail);
                    if (!Operand(p, ref i, out value, out flaw)) return Fail(at, flaw, value, out flaw, out detail);
                    if (value < 1 || value > MaxOperand / 8) return Fail(at, Flaw.Factored, value, out flaw, out detail);
                    output?.Add(CfaInstruction.SavedAt((DwarfRegister)register, (int)(-8 * value), (int)location));
                    continue;
                }
                case OpRestore:
                {
                    int register = op & 0x3F;
                    if (!IsSavedRegister(register)) return Fail(at, Flaw.SavedRegister, register, out flaw, out detail);
                    output?.Add(CfaInstruction.Restore((DwarfRegister)register, (int)location));
                    continue;
                }
            }
            switch (op)
            {
                case OpNop:
                    continue;
                case OpAdvanceLoc1 or OpAdvanceLoc2 or OpAdvanceLoc4:
                {
                    int width = op == OpAdvanceLoc1 ? 1 : op == OpAdvanceLoc2 ? 2 : 4;
                    if (p.Length - i < width) return Fail(at, Flaw.Truncated, width, out flaw, out detail);
                    location += width == 1 ? p[i] : width == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(p[i..]) : BinaryPrimitives.ReadUInt32LittleEndian(p[i..]);
                    i += width;
                    if (location >= codeSize) return Fail(at, Flaw.Location, location, out flaw, out detail);
                    continue;
                }
                case OpRememberState:
                    if (++depth > MaxRememberDepth) return Fail(at, Flaw.Depth, depth, out flaw, out detail);
                    output?.Add(CfaInstruction.RememberState((int)location));
                    continue;
                case OpRestoreState:
                    if (--depth < 0) return Fail(at, Flaw.Unmatched, 0, out flaw, out detail);
                    output?.Add(CfaInstruction.RestoreState((int)location));
                    continue;
                case OpDefCfa:
                {
                    if (!Operand(p, ref i, out long register, out flaw)) return Fail(at, flaw, register, out flaw, out detail);
                    if (!IsCfaRegister((int)register)) return Fail(at, Flaw.CfaRegister, register, out flaw, out detail);
                    if (!Operand(p, ref i, out value, out flaw)) return Fail(at, flaw, value, out flaw, out detail);
                    if (value < 8 || value % 8 != 0) return Fail(at, Flaw.CfaOffset, value, out flaw, out detail);
                    output?.Add(CfaInstruction.DefCfa((DwarfRegister)register, (int)value, (int)location));
                    continue;
                }
                case OpDefCfaRegister:
                    if (!Operand(p, ref i, out value, out flaw)) return Fail(at, flaw, value, out flaw, out detail);
                    if (!IsCfaRegister((int)value)) return Fail(at, Flaw.CfaRegister, value, out flaw, out detail);
                    output?.Add(CfaInstruction.DefCfaRegister((DwarfRegister)value, (int)location));
                    continue;
                case OpDefCfaOffset:
                    if (!Operand(p, ref i, out value, out flaw)) return Fail(at, flaw, value, out flaw, out detail);
                    if (value < 8 || value % 8 != 0) return Fail(at, Flaw.CfaOffset, value, out flaw, out detail);
                    output?.Add(CfaInstruction.DefCfaOffset((int)value, (int)location));
                    continue;
                default:
                    return Fail(at, Flaw.Opcode, op, out flaw, out detail);
            }
        }
        return -1;
    }

    private static int Fail(int at, Flaw what, long value, out Flaw flaw, out long detail)
    {
        flaw = what;
        detail = value;
        return at;
    }

    /// <summary>An unsigned LEB128 operand of at most 5 bytes whose value is at most <see cref="MaxOperand"/>; one byte
    /// (the usual case) without a loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Operand(ReadOnlySpan<byte> p, ref int i, out long value, out Flaw flaw)
    {
        flaw = default;
        if (i < p.Length && p[i] < 0x80)
        {
            value = p[i++];
            return true;
        }
        return LongOperand(p, ref i, out value, out flaw);
    }

    private static bool LongOperand(ReadOnlySpan<byte> p, ref int i, out long value, out Flaw flaw)
    {
        value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (i >= p.Length)
            {
                flaw = Flaw.Truncated;
                return false;
            }
            byte b = p[i++];
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) != 0) continue;
            flaw = Flaw.Operand;
            return value <= MaxOperand;
        }
        flaw = Flaw.OperandLength;
        return false;
    }

    /// <summary>Why a program breaks [UNW-5], in words.</summary>
    private static string Describe(Flaw flaw, long detail, long codeSize) => flaw switch
    {
        Flaw.Opcode => $"opcode 0x{detail:x2} is not in the subset of call frame instructions this format allows",
        Flaw.SavedRegister => $"register {detail} has no rule here; only rbx, rbp, r12-r15 and the return address may be saved and restored",
        Flaw.CfaRegister => $"the CFA would be computed from register {detail}; only rsp and rbp may be used",
        Flaw.CfaOffset => $"CFA offset {detail}: it must be a multiple of 8 from 8 to {MaxOperand}",
        Flaw.Factored => $"a register saved at factored offset {detail}: the slot must lie below the CFA (1 to {MaxOperand / 8})",
        Flaw.Operand => $"operand {detail} is larger than {MaxOperand}",
        Flaw.OperandLength => "an operand takes more than 5 bytes",
        Flaw.Truncated => "an operand runs past the end of the program",
        Flaw.Location => $"advances to +{detail}, which is not inside the function's {codeSize} bytes of code",
        Flaw.Depth => $"DW_CFA_remember_state nests deeper than {MaxRememberDepth}",
        _ => "DW_CFA_restore_state without a DW_CFA_remember_state before it",
    };

    /// <summary>Encodes instructions whose code offsets do not decrease; each advance takes its shortest form.</summary>
    public static byte[] Encode(IEnumerable<CfaInstruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        var bytes = new List<byte>();
        long location = 0;
        foreach (CfaInstruction c in instructions)
        {
            if (c.CodeOffset < location) throw new ArgumentException($"instruction at +{c.CodeOffset} comes after one at +{location}: code offsets must not decrease", nameof(instructions));
            long delta = c.CodeOffset - location;
            if (delta > 0 && delta < 64) bytes.Add((byte)(OpAdvanceLoc | delta));
            else if (delta > 0 && delta <= byte.MaxValue) bytes.AddRange([OpAdvanceLoc1, (byte)delta]);
            else if (delta > 0 && delta <= ushort.MaxValue) { bytes.Add(OpAdvanceLoc2); bytes.Add((byte)delta); bytes.Add((byte)(delta >> 8)); }
            else if (delta > 0) { bytes.Add(OpAdvanceLoc4); for (int k = 0; k < 4; k++) bytes.Add((byte)(delta >> (8 * k))); }
            location = c.CodeOffset;
            switch (c.Operation)
            {
                case CfaOperation.DefCfa:
                    bytes.Add(OpDefCfa);
                    Uleb(bytes, (byte)c.Register);
                    Uleb(bytes, c.Offset);
                    break;
                case CfaOperation.DefCfaRegister:
                    bytes.Add(OpDefCfaRegister);
                    Uleb(bytes, (byte)c.Register);
                    break;
                case CfaOperation.DefCfaOffset:
                    bytes.Add(OpDefCfaOffset);
                    Uleb(bytes, c.Offset);
                    break;
                case CfaOperation.Offset:
                    if (c.Offset >= 0 || c.Offset % 8 != 0) throw new ArgumentException($"register {c.Register} must be saved at a negative multiple of 8 from the CFA, not {c.Offset} [UNW-5]", nameof(instructions));
                    if ((byte)c.Register > 0x3F) throw new ArgumentException($"register {c.Register} cannot be saved [UNW-5]", nameof(instructions));
                    bytes.Add((byte)(OpOffset | (byte)c.Register));
                    Uleb(bytes, -(long)c.Offset / 8);
                    break;
                case CfaOperation.Restore:
                    if ((byte)c.Register > 0x3F) throw new ArgumentException($"register {c.Register} cannot be restored [UNW-5]", nameof(instructions));
                    bytes.Add((byte)(OpRestore | (byte)c.Register));
                    break;
                case CfaOperation.RememberState:
                    bytes.Add(OpRememberState);
                    break;
                case CfaOperation.RestoreState:
                    bytes.Add(OpRestoreState);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(instructions), c.Operation, "unknown CFA operation");
            }
        }
        return [.. bytes];
    }

    private static void Uleb(List<byte> bytes, long value)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "a DWARF operand is unsigned [UNW-5]");
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        } while (value != 0);
    }

    // ---- writing -------------------------------------------------------------------------------------

    /// <summary>Bytes of a CFI area holding <paramref name="frames"/> in order: the CIE, one FDE each, the terminator.</summary>
    public static long CfiSize(IReadOnlyList<FrameDescription> frames)
    {
        long size = CieSize + TerminatorSize;
        foreach (FrameDescription f in frames) size += FdeSize(ProgramLength(f.Program.Span));
        return size;
    }

    /// <summary>
    /// Writes a CFI area (FORMAT.md §19.2): the CIE, an FDE per frame in order (pc_begin = <see cref="TextBias"/> + its
    /// code offset, programs padded with DW_CFA_nop to a multiple of 8), then the terminator. Registered with libgcc at
    /// text base (code address − <see cref="TextBias"/>) it describes code laid out as the frames' offsets say.
    /// <paramref name="fdeOffsets"/> receives each FDE's offset in the area. Returns the bytes written.
    /// </summary>
    public static int WriteCfi(Span<byte> destination, IReadOnlyList<FrameDescription> frames, Span<int> fdeOffsets)
    {
        Cie.CopyTo(destination);
        int at = CieSize;
        for (int k = 0; k < frames.Count; k++)
        {
            FrameDescription f = frames[k];
            ReadOnlySpan<byte> program = f.Program.Span;
            program = program[..ProgramLength(program)];
            int size = FdeSize(program.Length);
            Span<byte> fde = destination.Slice(at, size);
            fde.Clear(); // DW_CFA_nop padding and the zero augmentation data length
            BinaryPrimitives.WriteUInt32LittleEndian(fde, (uint)(size - 4));
            BinaryPrimitives.WriteUInt32LittleEndian(fde[4..], (uint)(at + 4)); // back to the CIE at offset 0
            BinaryPrimitives.WriteUInt64LittleEndian(fde[FdePcBegin..], (ulong)(TextBias + f.CodeOffset));
            BinaryPrimitives.WriteUInt64LittleEndian(fde[FdePcRange..], (ulong)f.CodeSize);
            program.CopyTo(fde[FdeHeaderSize..]);
            fdeOffsets[k] = at;
            at += size;
        }
        destination.Slice(at, TerminatorSize).Clear();
        return at + TerminatorSize;
    }

    /// <summary>A CFI area for <paramref name="frames"/> (see <see cref="WriteCfi"/>), as a new array.</summary>
    public static byte[] BuildCfi(IReadOnlyList<FrameDescription> frames)
    {
        var bytes = new byte[checked((int)CfiSize(frames))];
        WriteCfi(bytes, frames, new int[frames.Count]);
        return bytes;
    }

    /// <summary>
    /// An Unwind section (FORMAT.md §19.1) for a file whose function table has <paramref name="functions"/>.Count
    /// entries, in that order: a null entry is a function without unwind information (index NONE).
    /// </summary>
    public static byte[] BuildSection(IReadOnlyList<FrameDescription?> functions)
    {
        var frames = new List<FrameDescription>(functions.Count);
        foreach (FrameDescription? f in functions) if (f is { } frame) frames.Add(frame);
        long start = CfiAreaStart(functions.Count);
        var bytes = new byte[checked((int)(start + CfiSize(frames)))];
        var offsets = new int[frames.Count];
        WriteCfi(bytes.AsSpan((int)start), frames, offsets);
        int next = 0;
        for (int k = 0; k < functions.Count; k++)
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * k), functions[k] is null ? FormatConstants.NoIndex : (uint)offsets[next++]);
        return bytes;
    }

    /// <summary>The offset of each FDE in a validated CFI area, in order.</summary>
    public static List<int> FdeOffsets(ReadOnlySpan<byte> cfi)
    {
        var offsets = new List<int>();
        if (cfi.Length < CieSize + TerminatorSize) return offsets;
        int at = CieSize;
        while (at + 4 <= cfi.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(cfi[at..]);
            if (length == 0) break;
            offsets.Add(at);
            at += (int)length + 4;
        }
        return offsets;
    }

    /// <summary>The CFA program of the FDE at <paramref name="fde"/> in a validated CFI area, without its padding.</summary>
    public static ReadOnlySpan<byte> FdeProgram(ReadOnlySpan<byte> cfi, int fde)
    {
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(cfi[fde..]);
        ReadOnlySpan<byte> program = cfi.Slice(fde + FdeHeaderSize, length + 4 - FdeHeaderSize);
        return program[..ProgramLength(program)];
    }
}

/// <summary>One row of the table a CFA program describes (DWARF 5 §6.4.1): from <see cref="CodeOffset"/> until the next
/// row, CFA = <see cref="CfaRegister"/> + <see cref="CfaOffset"/>, and each register of <see cref="Saved"/> is stored
/// at CFA + its offset; any other register holds its caller's value.</summary>
public readonly record struct UnwindRow(int CodeOffset, DwarfRegister CfaRegister, int CfaOffset, System.Collections.Immutable.ImmutableArray<(DwarfRegister Register, int CfaOffset)> Saved)
{
    /// <summary>The rows of a valid program, starting with the CIE's state at offset 0 (what <c>readelf
    /// --debug-dump=frames-interp</c> prints).</summary>
    public static List<UnwindRow> Of(UnwindInfo unwind)
    {
        ArgumentNullException.ThrowIfNull(unwind);
        var rows = new List<UnwindRow>();
        var saved = new SortedDictionary<DwarfRegister, int> { [DwarfRegister.ReturnAddress] = -8 };
        DwarfRegister register = DwarfRegister.Rsp;
        int offset = 8, at = 0;
        var remembered = new Stack<(DwarfRegister, int, SortedDictionary<DwarfRegister, int>)>();
        void Emit() => rows.Add(new UnwindRow(at, register, offset, [.. saved.Select(s => (s.Key, s.Value))]));
        foreach (CfaInstruction c in unwind.Instructions)
        {
            if (c.CodeOffset != at)
            {
                Emit();
                at = c.CodeOffset;
            }
            switch (c.Operation)
            {
                case CfaOperation.DefCfa: register = c.Register; offset = c.Offset; break;
                case CfaOperation.DefCfaRegister: register = c.Register; break;
                case CfaOperation.DefCfaOffset: offset = c.Offset; break;
                case CfaOperation.Offset: saved[c.Register] = c.Offset; break;
                case CfaOperation.Restore:
                    if (c.Register == DwarfRegister.ReturnAddress) saved[c.Register] = -8; else saved.Remove(c.Register);
                    break;
                case CfaOperation.RememberState: remembered.Push((register, offset, new SortedDictionary<DwarfRegister, int>(saved))); break;
                case CfaOperation.RestoreState: (register, offset, saved) = remembered.Pop(); break;
            }
        }
        Emit();
        // Changes at one offset make one row; a row equal to the one before it says nothing new.
        for (int i = rows.Count - 1; i > 0; i--)
            if (rows[i].CfaRegister == rows[i - 1].CfaRegister && rows[i].CfaOffset == rows[i - 1].CfaOffset && rows[i].Saved.SequenceEqual(rows[i - 1].Saved))
                rows.RemoveAt(i);
        return rows;
    }
}
