using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;

namespace AotCache.Format;

/// <summary>DWARF register numbers of x86-64 (System V psABI, "DWARF Register Number Mapping") that unwind
/// information names.</summary>
public enum DwarfRegister : byte
{
    /// <summary>rax (DWARF register 0).</summary>
    Rax = 0,
    /// <summary>rdx (DWARF register 1).</summary>
    Rdx = 1,
    /// <summary>rcx (DWARF register 2).</summary>
    Rcx = 2,
    /// <summary>rbx (DWARF register 3).</summary>
    Rbx = 3,
    /// <summary>rsi (DWARF register 4).</summary>
    Rsi = 4,
    /// <summary>rdi (DWARF register 5).</summary>
    Rdi = 5,
    /// <summary>rbp (DWARF register 6).</summary>
    Rbp = 6,
    /// <summary>rsp (DWARF register 7).</summary>
    Rsp = 7,
    /// <summary>r8 (DWARF register 8).</summary>
    R8 = 8,
    /// <summary>r9 (DWARF register 9).</summary>
    R9 = 9,
    /// <summary>r10 (DWARF register 10).</summary>
    R10 = 10,
    /// <summary>r11 (DWARF register 11).</summary>
    R11 = 11,
    /// <summary>r12 (DWARF register 12).</summary>
    R12 = 12,
    /// <summary>r13 (DWARF register 13).</summary>
    R13 = 13,
    /// <summary>r14 (DWARF register 14).</summary>
    R14 = 14,
    /// <summary>r15 (DWARF register 15).</summary>
    R15 = 15,
    /// <summary>The return address column (the caller's RIP).</summary>
    ReturnAddress = 16,
}

/// <summary>The DWARF call frame instructions a CFA program may use (FORMAT.md §19.3, [UNW-5]); advances of the
/// location are folded into <see cref="CfaInstruction.CodeOffset"/>, and DW_CFA_nop carries nothing.</summary>
public enum CfaOperation : byte
{
    /// <summary>DW_CFA_def_cfa: CFA = <see cref="CfaInstruction.Register"/> + <see cref="CfaInstruction.Offset"/>.</summary>
    DefCfa = 1,
    /// <summary>DW_CFA_def_cfa_register: the CFA is computed from <see cref="CfaInstruction.Register"/>, same offset.</summary>
    DefCfaRegister = 2,
    /// <summary>DW_CFA_def_cfa_offset: same register, offset <see cref="CfaInstruction.Offset"/>.</summary>
    DefCfaOffset = 3,
    /// <summary>DW_CFA_offset: <see cref="CfaInstruction.Register"/> is saved at CFA + <see cref="CfaInstruction.Offset"/> (negative).</summary>
    Offset = 4,
    /// <summary>DW_CFA_restore: <see cref="CfaInstruction.Register"/> has its rule of the function's entry again.</summary>
    Restore = 5,
    /// <summary>DW_CFA_remember_state: pushes the current rules (before a mid-function epilogue).</summary>
    RememberState = 6,
    /// <summary>DW_CFA_restore_state: pops them (after it).</summary>
    RestoreState = 7,
}

/// <summary>
/// One change of a function's frame description, effective from <see cref="CodeOffset"/> (bytes from the function's
/// first byte) to the next change: the typed form of a CFA program (FORMAT.md §19.3).
/// </summary>
public readonly record struct CfaInstruction(int CodeOffset, CfaOperation Operation, DwarfRegister Register = DwarfRegister.Rax, int Offset = 0)
{
    /// <summary>CFA = <paramref name="register"/> + <paramref name="offset"/> from <paramref name="at"/> on.</summary>
    public static CfaInstruction DefCfa(DwarfRegister register, int offset, int at = 0) => new(at, CfaOperation.DefCfa, register, offset);

    /// <summary>The CFA is computed from <paramref name="register"/> (same offset), e.g. rbp after <c>mov rbp, rsp</c>.</summary>
    public static CfaInstruction DefCfaRegister(DwarfRegister register, int at = 0) => new(at, CfaOperation.DefCfaRegister, register);

    /// <summary>CFA = the same register + <paramref name="offset"/>, e.g. 16 after <c>push rbp</c>.</summary>
    public static CfaInstruction DefCfaOffset(int offset, int at = 0) => new(at, CfaOperation.DefCfaOffset, DwarfRegister.Rax, offset);

    /// <summary><paramref name="register"/> is saved at CFA + <paramref name="cfaOffset"/> (a negative multiple of 8).</summary>
    public static CfaInstruction SavedAt(DwarfRegister register, int cfaOffset, int at = 0) => new(at, CfaOperation.Offset, register, cfaOffset);

    /// <summary><paramref name="register"/> holds its value of the function's entry again.</summary>
    public static CfaInstruction Restore(DwarfRegister register, int at = 0) => new(at, CfaOperation.Restore, register);

    /// <summary>DW_CFA_remember_state at code offset <paramref name="at"/>: pushes the current rules.</summary>
    public static CfaInstruction RememberState(int at = 0) => new(at, CfaOperation.RememberState);

    /// <summary>DW_CFA_restore_state at code offset <paramref name="at"/>: pops the rules the last remember pushed.</summary>
    public static CfaInstruction RestoreState(int at = 0) => new(at, CfaOperation.RestoreState);

    /// <summary>As <c>readelf --debug-dump=frames</c> prints the instruction (without the location).</summary>
    /// <inheritdoc/>
    public override string ToString() => Operation switch
    {
        CfaOperation.DefCfa => $"DW_CFA_def_cfa: {RegisterName(Register)} ofs {Num(Offset)}",
        CfaOperation.DefCfaRegister => $"DW_CFA_def_cfa_register: {RegisterName(Register)}",
        CfaOperation.DefCfaOffset => $"DW_CFA_def_cfa_offset: {Num(Offset)}",
        CfaOperation.Offset => $"DW_CFA_offset: {RegisterName(Register)} at cfa{Num(Offset)}",
        CfaOperation.Restore => $"DW_CFA_restore: {RegisterName(Register)}",
        CfaOperation.RememberState => "DW_CFA_remember_state",
        CfaOperation.RestoreState => "DW_CFA_restore_state",
        _ => $"operation {(int)Operation}",
    };

    /// <summary><c>r6 (rbp)</c>, as readelf names registers.</summary>
    public static string RegisterName(DwarfRegister register) => register switch
    {
        DwarfRegister.ReturnAddress => "r16 (rip)",
        _ when (int)register < 16 => $"r{(int)register} ({register.ToString().ToLowerInvariant()})",
        _ => $"r{(int)register}",
    };

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// How a function's frame changes through its code: the CFA program of its FDE (FORMAT.md §19), as DWARF bytes
/// restricted to the subset of [UNW-5]. What <see cref="FunctionBody.Unwind"/> carries, so that a body keeps its
/// unwind information through the builder, a file, the rewriter and hot-swap. The program starts from the state at
/// a function's first instruction (CFA = rsp + 8, return address at CFA − 8); an empty program describes a function
/// that never moves rsp. Trailing DW_CFA_nop padding is dropped: equal descriptions have equal bytes.
/// </summary>
public sealed class UnwindInfo : IEquatable<UnwindInfo>
{
    /// <summary>Checks the bytes' shape [UNW-5] (that each location lies inside the function is checked where the
    /// program meets its code: <see cref="FunctionBody.Unwind"/>); a violation is an <see cref="ArgumentException"/>.</summary>
    public UnwindInfo(ReadOnlySpan<byte> program)
    {
        program = program[..UnwindRules.ProgramLength(program)];
        if (UnwindRules.CheckProgram(program, long.MaxValue) is { } problem)
            throw new ArgumentException($"{problem} [UNW-5]", nameof(program));
        Program = ImmutableCollectionsMarshal.AsImmutableArray(program.ToArray());
    }

    /// <summary>Encodes typed instructions (their code offsets non-decreasing), each advance in its shortest form.</summary>
    public UnwindInfo(IEnumerable<CfaInstruction> instructions) : this(UnwindRules.Encode(instructions))
    {
    }

    /// <summary>A function that never moves rsp: the CIE's rules hold throughout.</summary>
    public static UnwindInfo Frameless { get; } = new(ReadOnlySpan<byte>.Empty);

    /// <summary>
    /// The common frame-pointer frame: <c>push rbp</c> ending at <paramref name="afterPush"/>, <c>mov rbp, rsp</c>
    /// ending at <paramref name="afterMove"/>, and the epilogue's <c>pop rbp</c> ending at <paramref name="afterPop"/>
    /// (before the <c>ret</c>); what a C compiler's <c>-fno-omit-frame-pointer</c> prologue gets.
    /// </summary>
    public static UnwindInfo FramePointer(int afterPush, int afterMove, int afterPop) => new(
    [
        CfaInstruction.DefCfaOffset(16, afterPush),
        CfaInstruction.SavedAt(DwarfRegister.Rbp, -16, afterPush),
        CfaInstruction.DefCfaRegister(DwarfRegister.Rbp, afterMove),
        CfaInstruction.DefCfa(DwarfRegister.Rsp, 8, afterPop),
    ]);

    /// <summary>The CFA program's bytes (no trailing padding).</summary>
    public ImmutableArray<byte> Program { get; }

    /// <summary>The program decoded: each change with the code offset it takes effect at.</summary>
    public IReadOnlyList<CfaInstruction> Instructions => UnwindRules.Decode(Program.AsSpan());

    /// <summary>Equal when the CFA programs are byte for byte the same.</summary>
    public bool Equals(UnwindInfo? other) => other is not null && Program.AsSpan().SequenceEqual(other.Program.AsSpan());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as UnwindInfo);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Program.AsSpan());
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        Program.IsEmpty ? "(frameless)" : string.Join("; ", Instructions.Select(i => $"+{i.CodeOffset}: {i}"));
}
