using AotCache.Format;
using AotCache.Reader;
using Iced.Intel;
// Iced's names clash with System.Text's (Decoder, StringOutput): say which one is meant.
using IcedDecoder = Iced.Intel.Decoder;

namespace AotCache.Tools.CacheDump;

/// <summary>One decoded instruction of a function.</summary>
/// <param name="Address">Offset of the instruction in the code section (the IP it was decoded at).</param>
/// <param name="Bytes">The instruction's bytes as they are in the file (relocation fields unpatched).</param>
/// <param name="Text">Intel syntax; addresses inside the code section named <c>func+0x12</c>.</param>
/// <param name="Relocations">Indexes (in the relocation table) of the relocations whose patch field starts
/// inside the instruction.</param>
internal sealed record DisassembledInstruction(uint Address, byte[] Bytes, string Text, IReadOnlyList<int> Relocations);

/// <summary>
/// Disassembles functions with Iced: each function decoded at its own offset in the code section, so that
/// branches inside the code section print as code-section offsets, named after the function that holds them.
/// A relocated field's bytes say nothing reliable about its target: unpatched (zero) it seems to point at the next
/// instruction, prelinked [REL-10] it holds an address in the canonical layout, not in the code section. So the
/// operand of every relocated field is named from its relocation instead: the target symbol, plus what the addend
/// adds beyond the field's distance to the end of its instruction (<c>call add</c>, <c>lea rax, [table+8]</c>,
/// <c>mov rax, host_config</c>); through an import thunk <c>host_add@thunk</c>, through a slot <c>[host_free@slot]</c>.
/// The annotation after the instruction gives the relocation as recorded.
/// </summary>
internal sealed class Disassembly
{
    private readonly CacheImage _image;
    private readonly IntelFormatter _formatter;
    private readonly CodeSectionSymbols _symbols;

    public Disassembly(CacheImage image)
    {
        _image = image;
        _symbols = new CodeSectionSymbols(image);
        _formatter = new IntelFormatter(_symbols)
        {
            Options =
            {
                HexPrefix = "0x",
                HexSuffix = null,
                UppercaseHex = false,
                SpaceAfterOperandSeparator = true,
                FirstOperandCharIndex = 0,
                SmallHexNumbersInDecimal = false,
            },
        };
    }

    /// <summary>Names a relocation as the disassembly annotates it: <c>FunctionPcRel32 -> add-4</c>.</summary>
    public string Annotation(int relocation)
    {
        RelocationRecord r = _image.Relocations[relocation];
        return $"{ImageFacts.EnumName(r.Kind)} -> {ImageFacts.Printable(_image.SymbolName((int)r.Target))}{ImageFacts.AddendSuffix(r.Addend)}";
    }

    public IReadOnlyList<DisassembledInstruction> Function(int function)
    {
        FunctionRecord f = _image.Functions[function];
        byte[] code = _image.FunctionCode(f).ToArray();
        ReadOnlySpan<RelocationRecord> relocations = _image.RelocationsOf(f);
        var decoder = IcedDecoder.Create(64, new ByteArrayCodeReader(code), f.CodeOffset);
        var output = new StringOutput();
        var result = new List<DisassembledInstruction>();
        // Instructions come in address order and an owner's relocations are sorted by offset [REL-4]: one walk
        // over both lists, not a scan of every relocation per instruction.
        int next = 0;
        while (decoder.IP < f.CodeOffset + (ulong)code.Length)
        {
            decoder.Decode(out Instruction instruction);
            int start = (int)(instruction.IP - f.CodeOffset);
            int length = instruction.Length;
            var inside = new List<int>();
            for (; next < relocations.Length && relocations[next].Offset < (uint)(start + length); next++)
                inside.Add((int)f.FirstRelocation + next);
            _symbols.Relocated.Clear();
            if (inside.Count > 0 && !instruction.IsInvalid)
            {
                ConstantOffsets constants = decoder.GetConstantOffsets(instruction);
                foreach (int k in inside)
                {
                    RelocationRecord r = _image.Relocations[k];
                    int field = (int)r.Offset - start;
                    // What the addend adds beyond "count from the end of the instruction" (PC-relative) or nothing (absolute).
                    long extra = r.Kind == RelocationKind.Absolute64 ? r.Addend : r.Addend + (length - field);
                    string label = OperandLabel(r, extra);
                    if (constants.HasImmediate && constants.ImmediateOffset == field) _symbols.Relocated[FieldRole.Immediate] = label;
                    else if (constants.HasDisplacement && constants.DisplacementOffset == field) _symbols.Relocated[FieldRole.Displacement] = label;
                }
            }
            _formatter.Format(instruction, output);
            _symbols.Relocated.Clear();
            result.Add(new DisassembledInstruction((uint)instruction.IP, code[start..(start + length)], output.ToStringAndReset(), inside));
        }
        return result;
    }

    /// <summary>The operand text of a relocated field: the target, <c>@thunk</c> or <c>@slot</c> when the field reaches
    /// it through one, and the extra offset.</summary>
    private string OperandLabel(in RelocationRecord r, long extra)
    {
        string suffix = r.Kind switch
        {
            RelocationKind.ThunkPcRel32 => "@thunk",
            RelocationKind.SlotPcRel32 => "@slot",
            _ => "",
        };
        return ImageFacts.Printable(_image.SymbolName((int)r.Target)) + suffix + ImageFacts.AddendSuffix(extra);
    }

    /// <summary>Which encoded field of an instruction a relocation patches.</summary>
    private enum FieldRole
    {
        /// <summary>The immediate: a branch's rel32 (Iced reports it as an immediate) or a <c>mov r64, imm64</c>.</summary>
        Immediate,
        /// <summary>The displacement of a memory operand (RIP-relative).</summary>
        Displacement,
    }

    /// <summary>Names relocated operands from their relocations (<see cref="Relocated"/>, set per instruction), and
    /// branch targets and RIP-relative addresses inside the code section; leaves other immediates alone, so that
    /// <c>mov eax, 5</c> never reads as <c>mov eax, f+0x5</c>.</summary>
    private sealed class CodeSectionSymbols(CacheImage image) : ISymbolResolver
    {
        /// <summary>The labels of the instruction being formatted, by the field their relocation patches.</summary>
        public Dictionary<FieldRole, string> Relocated { get; } = [];

        public bool TryGetSymbol(in Instruction instruction, int operand, int instructionOperand, ulong address, int addressSize, out SymbolResult symbol)
        {
            symbol = default;
            if (instructionOperand < 0) return false;
            OpKind kind = instruction.GetOpKind(instructionOperand);
            FieldRole? role = kind switch
            {
                OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64 or OpKind.Immediate64 or OpKind.Immediate32to64
                    or OpKind.Immediate32 => FieldRole.Immediate,
                OpKind.Memory => FieldRole.Displacement,
                _ => null,
            };
            if (role is { } r && Relocated.TryGetValue(r, out string? label))
            {
                symbol = new SymbolResult(address, label);
                return true;
            }
            bool isTarget = kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64
                || (kind == OpKind.Memory && instruction.IsIPRelativeMemoryOperand);
            if (!isTarget) return false;
            // Padding after a function still reads as that function plus an offset (the code section holds nothing
            // else), and so does the end of the section: an unrelocated rel32 in a last instruction points there.
            if (address > (ulong)image.Code.Length) return false;
            ReadOnlySpan<FunctionRecord> functions = image.Functions;
            int found = image.FunctionAtOrBefore((long)address);
            if (found < 0) return false;
            symbol = new SymbolResult(functions[found].CodeOffset, ImageFacts.Printable(image.SymbolName((int)functions[found].Symbol)));
            return true;
        }
    }
}
