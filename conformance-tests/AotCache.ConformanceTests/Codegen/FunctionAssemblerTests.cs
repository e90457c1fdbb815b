using AotCache.Codegen;
using AotCache.Format;
using AotCache.Writer;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>Every relocation the assembler layer records lands exactly on the instruction's field.</summary>
public class FunctionAssemblerTests
{
    [Fact]
    public void Every_patch_site_is_exactly_the_rel32_disp32_or_imm64_field_with_the_right_addend()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(Signature.SysV([ScalarType.I64], [ScalarType.I64]));
        var callee = b.DeclareFunction("callee", sig);
        var import = b.AddImportFunction("imp", sig);
        var data = b.DeclareData("data", DataKind.Writable, 8);
        var fa = new FunctionAssembler(b);
        fa.Asm.push(rbx);
        fa.Call(callee.Name);
        fa.Call(import.Name);
        fa.CallViaSlot(import.Name);
        fa.JumpIf(ConditionCode.ne, callee.Name, offsetIntoTarget: 12);
        fa.LoadAddress(Register.RDX, data.Name);
        fa.LoadAbsoluteAddress(Register.R11, callee.Name, addend: 3);
        fa.DataAccess(Instruction.Create(Code.Mov_r64_rm64, Register.RAX, FunctionAssembler.RipOperand()), data.Name, offset: 0);
        // An immediate after the displacement: the addend is −8 (4-byte disp + 4-byte imm32 to the end).
        fa.DataAccess(Instruction.Create(Code.Add_rm64_imm32, FunctionAssembler.RipOperand(), 0x12345), data.Name);
        // One after an imm8: −5.
        fa.DataAccess(Instruction.Create(Code.Cmp_rm64_imm8, FunctionAssembler.RipOperand(), 5), data.Name);
        fa.Asm.pop(rbx);
        fa.Jump(import.Name);
        FunctionBody f = fa.Finish(sig.Signature);

        var expected = new (RelocationKind Kind, int FieldSize, long Addend)[]
        {
            (RelocationKind.FunctionPcRel32, 4, -4),
            (RelocationKind.ThunkPcRel32, 4, -4),
            (RelocationKind.SlotPcRel32, 4, -4),
            (RelocationKind.FunctionPcRel32, 4, -4 + 12),
            (RelocationKind.DataPcRel32, 4, -4),
            (RelocationKind.Absolute64, 8, 3),
            (RelocationKind.DataPcRel32, 4, -4),
            (RelocationKind.DataPcRel32, 4, -8),
            (RelocationKind.DataPcRel32, 4, -5),
            (RelocationKind.ThunkPcRel32, 4, -4),
        };
        Assert.Equal(expected.Length, f.Relocations.Length);

        // Decode the produced code independently and compare each field with the decoder's own offsets.
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(f.Code.ToArray()));
        var instructions = new List<(Instruction Ins, ConstantOffsets Offsets)>();
        while (decoder.IP < (ulong)f.Code.Length)
        {
            decoder.Decode(out Instruction ins);
            instructions.Add((ins, decoder.GetConstantOffsets(ins)));
        }
        for (int i = 0; i < expected.Length; i++)
        {
            Relocation r = f.Relocations[i];
            Assert.Equal(expected[i].Kind, r.Kind);
            Assert.Equal(expected[i].Addend, r.Addend);
            var (ins, offsets) = instructions.Single(x => (ulong)r.Offset >= x.Ins.IP && (ulong)r.Offset < x.Ins.NextIP);
            int fieldInInstruction = r.Offset - (int)ins.IP;
            bool isDisplacement = offsets.HasDisplacement && offsets.DisplacementOffset == fieldInInstruction && offsets.DisplacementSize == expected[i].FieldSize;
            bool isImmediate = offsets.HasImmediate && offsets.ImmediateOffset == fieldInInstruction && offsets.ImmediateSize == expected[i].FieldSize;
            Assert.True(isDisplacement || isImmediate, $"relocation {i} at +{r.Offset} is not on a field of '{ins}'");
            // The addend makes S + A − P point at the target: −(field to end of instruction) + offset into target.
            if (expected[i].Kind != RelocationKind.Absolute64)
                Assert.Equal(-(long)(ins.NextIP - (ulong)r.Offset) + (i == 3 ? 12 : 0), r.Addend);
            Assert.True(f.Code.AsSpan(r.Offset, expected[i].FieldSize).IndexOfAnyExcept((byte)0) < 0, "fields are stored as zero");
        }
    }
}
