using AotCache.Format;
using Iced.Intel;

namespace AotCache.Codegen;

/// <summary>
/// Iced's <see cref="Assembler"/> plus helpers for every instruction that refers outside the function:
/// calls and jumps to functions and imports, addresses and RIP-relative accesses of data. Iced's block encoder
/// reports a relocation only when it rewrites a branch it cannot reach into an indirect one, never for a near
/// call, an imm64 or a RIP-relative operand; so each helper remembers the instruction index, emits a placeholder
/// Iced cannot rewrite (a near target 256 MiB away, or an imm64 that needs 64 bits), and <see cref="Finish"/>
/// finds the exact field from Iced's instruction and constant offsets. Targets are named and looked up in the
/// <see cref="ISymbolScope"/> the function is compiled against (a builder, a file, a running module), which
/// decides each call's relocation kind and the signature hash the call site records.
/// </summary>
public sealed class FunctionAssembler
{
    /// <summary>A branch target or RIP-relative address that is always a rel32 from RIP 0.</summary>
    private const ulong PlaceholderAddress = 0x1000_0000;

    /// <summary>An imm64 that cannot be encoded in 32 bits, forcing <c>REX.W B8+r imm64</c>.</summary>
    private const ulong PlaceholderImmediate = 0x8765_4321_0FED_CBA9;

    private enum Field { BranchRel32, Displacement32, Immediate64 }

    private readonly record struct Pending(int Instruction, RelocationKind Kind, string Target, Field Field, long OffsetIntoTarget, ulong ExpectedSignatureHash);

    private readonly List<Pending> _pending = [];
    private List<(int Instruction, CfaInstruction Change)>? _unwind;

    /// <summary>An assembler for one function whose relocation targets are resolved against <paramref name="scope"/>.</summary>
    public FunctionAssembler(ISymbolScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        Scope = scope;
    }

    /// <summary>The symbols this function is compiled against.</summary>
    public ISymbolScope Scope { get; }

    /// <summary>The underlying assembler, for every instruction that needs no relocation (labels inside the
    /// function are resolved by Iced).</summary>
    public Assembler Asm { get; } = new(64);

    /// <summary><c>call rel32</c> to a function (FunctionPcRel32) or, for an import, to its loader-made
    /// thunk (ThunkPcRel32). <paramref name="expectedSignatureHash"/> null: the callee's declaration in the scope.</summary>
    public void Call(string target, ulong? expectedSignatureHash = null)
    {
        RememberCall(target, Field.BranchRel32, 0, expectedSignatureHash);
        Asm.call(PlaceholderAddress);
    }

    /// <summary><c>jmp rel32</c> to a function or import: a tail call, or a jump into the middle of another
    /// function (<paramref name="offsetIntoTarget"/>), as split cold code does.</summary>
    public void Jump(string target, long offsetIntoTarget = 0, ulong? expectedSignatureHash = null)
    {
        RememberCall(target, Field.BranchRel32, offsetIntoTarget, expectedSignatureHash);
        Asm.jmp(PlaceholderAddress);
    }

    /// <summary><c>jcc rel32</c> to a function, possibly into its middle.</summary>
    public void JumpIf(ConditionCode condition, string target, long offsetIntoTarget = 0, ulong? expectedSignatureHash = null)
    {
        RememberCall(target, Field.BranchRel32, offsetIntoTarget, expectedSignatureHash);
        Code code = condition switch
        {
            ConditionCode.e => Code.Je_rel32_64,
            ConditionCode.ne => Code.Jne_rel32_64,
            ConditionCode.l => Code.Jl_rel32_64,
            ConditionCode.le => Code.Jle_rel32_64,
            ConditionCode.g => Code.Jg_rel32_64,
            ConditionCode.ge => Code.Jge_rel32_64,
            ConditionCode.b => Code.Jb_rel32_64,
            ConditionCode.be => Code.Jbe_rel32_64,
            ConditionCode.a => Code.Ja_rel32_64,
            ConditionCode.ae => Code.Jae_rel32_64,
            ConditionCode.s => Code.Js_rel32_64,
            ConditionCode.ns => Code.Jns_rel32_64,
            _ => throw new ArgumentOutOfRangeException(nameof(condition), condition, "unsupported condition"),
        };
        Asm.AddInstruction(Instruction.CreateBranch(code, PlaceholderAddress));
    }

    /// <summary><c>call qword [rip + slot]</c>: through the loader's 8-byte slot for the target (SlotPcRel32).</summary>
    public void CallViaSlot(string target, ulong? expectedSignatureHash = null)
    {
        RipRelative(RelocationKind.SlotPcRel32, target, 0, Instruction.Create(Code.Call_rm64, RipOperand()), expectedSignatureHash);
    }

    /// <summary><c>lea reg, [rip + symbol]</c>: the address of a data object (DataPcRel32) or function (FunctionPcRel32).</summary>
    public void LoadAddress(Register register, string target, int offset = 0)
    {
        RelocationKind kind = Scope.Get(target).Kind switch
        {
            SymbolKind.Data => RelocationKind.DataPcRel32,
            SymbolKind.Function => RelocationKind.FunctionPcRel32,
            SymbolKind k => throw new ArgumentException($"lea cannot reach a {k}; use {nameof(LoadAbsoluteAddress)} or a slot", nameof(target)),
        };
        RipRelative(kind, target, offset, Instruction.Create(Code.Lea_r64_m, register, RipOperand()), null);
    }

    /// <summary><c>mov reg, imm64</c> holding any symbol's absolute address (Absolute64).</summary>
    public void LoadAbsoluteAddress(Register register, string target, long addend = 0)
    {
        Remember(RelocationKind.Absolute64, target, Field.Immediate64, addend, null);
        Asm.AddInstruction(Instruction.Create(Code.Mov_r64_imm64, register, PlaceholderImmediate));
    }

    /// <summary>Any instruction with one RIP-relative memory operand to a data object (DataPcRel32), e.g.
    /// <c>mov rax, [rip + counter]</c> or <c>add qword [rip + counter], 5</c>. Build it with
    /// <see cref="RipOperand"/> as its memory operand.</summary>
    public void DataAccess(Instruction instruction, string data, int offset = 0)
    {
        if (Scope.Get(data).Kind != SymbolKind.Data)
            throw new ArgumentException($"'{data}' is not a data object", nameof(data));
        RipRelative(RelocationKind.DataPcRel32, data, offset, instruction, null);
    }

    /// <summary>The placeholder RIP-relative memory operand for <see cref="DataAccess"/>.</summary>
    public static MemoryOperand RipOperand() => new(Register.RIP, (long)PlaceholderAddress);

    /// <summary>A call or jump: to a function directly (FunctionPcRel32), to an import through its thunk (ThunkPcRel32).</summary>
    private void RememberCall(string target, Field field, long offsetIntoTarget, ulong? expected)
    {
        SymbolInfo symbol = Scope.Get(target);
        RelocationKind kind = symbol.Kind switch
        {
            SymbolKind.Function => RelocationKind.FunctionPcRel32,
            SymbolKind.ImportFunction => RelocationKind.ThunkPcRel32,
            SymbolKind k => throw new ArgumentException($"'{target}' is a {k}, not something to call or jump to", nameof(target)),
        };
        Remember(kind, target, symbol, field, offsetIntoTarget, expected);
    }

    private void RipRelative(RelocationKind kind, string target, long offset, Instruction instruction, ulong? expected)
    {
        if (!instruction.IsIPRelativeMemoryOperand)
            throw new ArgumentException("the instruction has no RIP-relative memory operand; build it with RipOperand()", nameof(instruction));
        Remember(kind, target, Field.Displacement32, offset, expected);
        Asm.AddInstruction(instruction);
    }

    /// <summary>Records a relocation for the next instruction. The signature hash a reference to a function records
    /// is decided now, from the scope, so the body says what it was compiled against wherever it is defined later.</summary>
    private void Remember(RelocationKind kind, string target, Field field, long offsetIntoTarget, ulong? expected) =>
        Remember(kind, target, Scope.Get(target), field, offsetIntoTarget, expected);

    private void Remember(RelocationKind kind, string target, SymbolInfo symbol, Field field, long offsetIntoTarget, ulong? expected)
    {
        ulong hash = expected ?? symbol.Signature?.Hash ?? 0;
        if (hash != 0 && !RelocationRules.IsCallable(symbol.Kind))
            throw new ArgumentException($"'{target}' is a {symbol.Kind}: a reference to it records no signature [REL-8]", nameof(expected));
        _pending.Add(new Pending(Asm.Instructions.Count, kind, target, field, offsetIntoTarget, hash));
    }

    /// <summary>
    /// Records a change of the frame description (FORMAT.md §19) that takes effect right after the instructions added so
    /// far, e.g. after <c>push rbp</c>: <c>CfaInstruction.DefCfaOffset(16)</c> and <c>CfaInstruction.SavedAt(Rbp, -16)</c>.
    /// The change's own code offset is ignored: <see cref="Finish"/> knows where the instruction ended. A function that
    /// records any change, or calls <see cref="DescribeFrame"/>, gets <see cref="FunctionBody.Unwind"/>.
    /// </summary>
    public void Unwind(CfaInstruction change)
    {
        DescribeFrame();
        _unwind!.Add((Asm.Instructions.Count, change));
    }

    /// <summary>Gives the body unwind information even if no change is recorded: a function that never moves rsp.</summary>
    public void DescribeFrame() => _unwind ??= [];

    /// <summary>Assembles the function and computes every relocation's exact field and addend. The
    /// fields hold zero in the returned code: only the relocation gives them meaning.</summary>
    /// <param name="signature">The function's own type.</param>
    public FunctionBody Finish(Signature signature)
    {
        var writer = new CodeWriterImpl();
        AssemblerResult result = Asm.Assemble(writer, 0,
            BlockEncoderOptions.ReturnNewInstructionOffsets | BlockEncoderOptions.ReturnConstantOffsets | BlockEncoderOptions.ReturnRelocInfos);
        BlockEncoderResult block = result.Result[0];
        if (block.RelocInfos is { Count: > 0 })
            throw new InvalidOperationException("Iced rewrote a branch into a far form; a placeholder escaped its range");
        byte[] code = writer.ToArray();
        var relocations = new List<Relocation>(_pending.Count);
        foreach (Pending p in _pending)
        {
            uint start = block.NewInstructionOffsets[p.Instruction];
            if (start == uint.MaxValue) throw new InvalidOperationException($"Iced removed instruction {p.Instruction}, which needed a relocation");
            ConstantOffsets constants = block.ConstantOffsets[p.Instruction];
            (int fieldInInstruction, int size) = p.Field switch
            {
                // Iced reports the rel32 of call/jmp/jcc as an immediate, not as a displacement.
                Field.BranchRel32 => (constants.ImmediateOffset, constants.ImmediateSize),
                Field.Displacement32 => (constants.DisplacementOffset, constants.DisplacementSize),
                _ => (constants.ImmediateOffset, constants.ImmediateSize),
            };
            int expectedSize = p.Field == Field.Immediate64 ? 8 : 4;
            if (size != expectedSize)
                throw new InvalidOperationException($"instruction {p.Instruction}: expected a {expectedSize}-byte field, Iced encoded {size} bytes");
            int field = checked((int)start + fieldInInstruction);
            code.AsSpan(field, size).Clear();
            long addend = p.Field == Field.Immediate64
                ? p.OffsetIntoTarget
                // S + A − P must equal target − (end of instruction): A = −(bytes from the field to the end) + offset.
                : -(InstructionLength(code, start) - fieldInInstruction) + p.OffsetIntoTarget;
            relocations.Add(new Relocation(field, p.Kind, p.Target, addend, p.ExpectedSignatureHash));
        }
        return new FunctionBody(code, signature, relocations) { Unwind = RecordedUnwind(block, code.Length) };
    }

    /// <summary>The recorded frame changes at the code offsets where the instructions before them ended.</summary>
    private UnwindInfo? RecordedUnwind(BlockEncoderResult block, int codeLength)
    {
        if (_unwind is null) return null;
        var changes = new List<CfaInstruction>(_unwind.Count);
        foreach (var (instruction, change) in _unwind)
        {
            // The next instruction's start; an instruction the encoder dropped (none here) passes it on to the following one.
            uint at = uint.MaxValue;
            for (int i = instruction; i < block.NewInstructionOffsets.Length && at == uint.MaxValue; i++) at = block.NewInstructionOffsets[i];
            changes.Add(change with { CodeOffset = at == uint.MaxValue ? codeLength : (int)at });
        }
        return new UnwindInfo(changes);
    }

    private static int InstructionLength(byte[] code, uint offset)
    {
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code, (int)offset, code.Length - (int)offset), offset);
        decoder.Decode(out Instruction instruction);
        if (instruction.IsInvalid) throw new InvalidOperationException($"could not decode the instruction at {offset}");
        return instruction.Length;
    }

    private sealed class CodeWriterImpl : CodeWriter
    {
        private readonly List<byte> _bytes = [];
        public override void WriteByte(byte value) => _bytes.Add(value);
        public byte[] ToArray() => [.. _bytes];
    }
}
