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
/// branch and RIP-relative targets print as code-section offsets, named after the function that holds them.
/// The file's rel32 fields are unrelocated (usually zero), so a <c>call</c> seems to go to the next
/// instruction: the relocation annotation says where it really goes.
/// </summary>
internal sealed class Disassembly
{
    private readonly CacheImage _image;
    private readonly IntelFormatter _formatter;

    public Disassembly(CacheImage image)
    {
        _image = image;
        _formatter = new IntelFormatter(new CodeSectionSymbols(image))
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
            _formatter.Format(instruction, output);
            var inside = new List<int>();
            for (; next < relocations.Length && relocations[next].Offset < (uint)(start + length); next++)
                inside.Add((int)f.FirstRelocation + next);
            result.Add(new DisassembledInstruction((uint)instruction.IP, code[start..(start + length)], output.ToStringAndReset(), inside));
        }
        return result;
    }

    /// <summary>Names branch targets and RIP-relative addresses inside the code section; leaves
    /// immediates alone, so that <c>mov eax, 5</c> never reads as <c>mov eax, f+0x5</c>.</summary>
    private sealed class CodeSectionSymbols(CacheImage image) : ISymbolResolver
    {
        public bool TryGetSymbol(in Instruction instruction, int operand, int instructionOperand, ulong address, int addressSize, out SymbolResult symbol)
        {
            symbol = default;
            if (instructionOperand < 0) return false;
            OpKind kind = instruction.GetOpKind(instructionOperand);
            bool isTarget = kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64
                || (kind == OpKind.Memory && instruction.IsIPRelativeMemoryOperand);
            if (!isTarget) return false;
            ReadOnlySpan<FunctionRecord> functions = image.Functions;
            // The table is sorted by code offset [FUN-2]: the last function starting at or before the address.
            int lo = 0, hi = functions.Length - 1, found = -1;
            while (lo <= hi)
            {
                int mid = lo + ((hi - lo) >> 1);
                if (functions[mid].CodeOffset <= address) { found = mid; lo = mid + 1; }
                else hi = mid - 1;
            }
            // Padding after a function still reads as that function plus an offset (the code section holds nothing
            // else), and so does the end of the section: an unrelocated rel32 in a last instruction points there.
            if (found < 0 || address > (ulong)image.Code.Length) return false;
            symbol = new SymbolResult(functions[found].CodeOffset, ImageFacts.Printable(image.SymbolName((int)functions[found].Symbol)));
            return true;
        }
    }
}
