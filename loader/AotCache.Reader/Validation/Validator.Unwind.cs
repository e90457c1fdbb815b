using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using AotCache.Format;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 19: unwind information (since 1.3) ----------------------------------------------

    /// <summary>
    /// The Unwind section (FORMAT.md §19): the index [UNW-1], the framing of the CFI records [UNW-2], the one CIE
    /// [UNW-3], each FDE against its function [UNW-4] and each CFA program [UNW-5]. One pass over the records; the
    /// index is matched against the FDEs as they come, so an FDE no entry names, or an entry that names no FDE, is
    /// found without a second pass or any allocation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void CheckUnwind()
    {
        if (!Sections[(int)SectionKind.Unwind].Present) return;
        ReadOnlySpan<byte> section = Bytes(SectionKind.Unwind);
        long at = SectionStart(SectionKind.Unwind);
        ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
        long start = UnwindRules.CfiAreaStart(functions.Length);
        if ((ulong)section.Length < (ulong)start + UnwindRules.TerminatorSize)
            throw Fail(ErrorCode.BadUnwindSection, at, $"the Unwind section is {section.Length} bytes; {functions.Length} functions need {start} bytes of index and padding, then at least the 4-byte terminator");
        ReadOnlySpan<byte> padding = section[(4 * functions.Length)..(int)start];
        int bad = padding.IndexOfAnyExcept((byte)0);
        if (bad >= 0) throw Fail(ErrorCode.BadUnwindSection, at + 4L * functions.Length + bad, "the padding between the unwind index and the CFI area is not zero");

        ReadOnlySpan<byte> cfi = section[(int)start..];
        long cfiAt = at + start;
        int end = cfi.Length - UnwindRules.TerminatorSize; // the terminator's offset
        int next = 0; // the next function whose index entry is not yet matched
        int position = 0;
        while (position < end)
        {
            long recordAt = cfiAt + position;
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(cfi[position..]);
            if (length == 0)
                throw Fail(ErrorCode.BadUnwindRecord, recordAt, $"CFI record at +{position} has length 0: only the last 4 bytes of the area may be the terminator");
            ulong size = (ulong)length + 4;
            if (length == uint.MaxValue || size % 8 != 0 || size > (ulong)(end - position))
                throw Fail(ErrorCode.BadUnwindRecord, recordAt, length == uint.MaxValue
                    ? $"CFI record at +{position} uses the 64-bit DWARF format (length 0xffffffff)"
                    : size % 8 != 0 ? $"CFI record at +{position} is {size} bytes, not a multiple of 8"
                    : $"CFI record at +{position} ({size} bytes) runs past the terminator at +{end}");
            ReadOnlySpan<byte> record = cfi.Slice(position, (int)length + 4);
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
            if (position == 0)
            {
                if (!record.SequenceEqual(UnwindRules.Cie))
                {
                    int differs = record.CommonPrefixLength(UnwindRules.Cie);
                    throw Fail(ErrorCode.BadUnwindCie, recordAt + (differs == UnwindRules.CieSize ? 0 : differs), id != 0
                        ? "the CFI area must start with the CIE, not an FDE"
                        : $"the CFI area's CIE differs from the one of FORMAT.md §19.2 at byte {differs}");
                }
            }
            else
            {
                if (id != (uint)position + 4)
                    throw Fail(ErrorCode.BadUnwindCie, recordAt + 4, id == 0
                        ? $"a second CIE at +{position}: the CFI area has one CIE, at its start"
                        : $"the FDE at +{position} points to a CIE at +{position + 4 - (long)id}; its CIE pointer must be {position + 4} (the CIE at +0)");
                CheckFde(record, recordAt, position, functions, ref next);
            }
            position += (int)length + 4;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(cfi[end..]) != 0)
            throw Fail(ErrorCode.BadUnwindRecord, cfiAt + end, "the CFI area must end with a zero 4-byte terminator");
        for (; next < functions.Length; next++)
            if (IndexEntry(section, next) != FormatConstants.NoIndex)
                throw Fail(ErrorCode.UnwindCoverageMismatch, at + 4L * next,
                    $"function {next}'s unwind entry is +{IndexEntry(section, next)}, but no FDE follows the previous function's there");
    }

    private static uint IndexEntry(ReadOnlySpan<byte> section, int function) => BinaryPrimitives.ReadUInt32LittleEndian(section[(4 * function)..]);

    /// <summary>One FDE: it must be the one the next named index entry points at [UNW-4], cover exactly that function's
    /// code, have no augmentation data [UNW-3], and carry a CFA program of the subset [UNW-5].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void CheckFde(ReadOnlySpan<byte> fde, long fdeAt, int position, ReadOnlySpan<FunctionRecord> functions, ref int next)
    {
        ReadOnlySpan<byte> section = Bytes(SectionKind.Unwind);
        long at = SectionStart(SectionKind.Unwind);
        while (next < functions.Length && IndexEntry(section, next) == FormatConstants.NoIndex) next++;
        if (next == functions.Length)
            throw Fail(ErrorCode.UnwindCoverageMismatch, fdeAt, $"the FDE at +{position} belongs to no function: no later function's unwind entry names it");
        uint entry = IndexEntry(section, next);
        if (entry != (uint)position)
            throw Fail(ErrorCode.UnwindCoverageMismatch, at + 4L * next,
                $"function {next}'s unwind entry is +{entry}, but the next FDE is at +{position}: each entry that is not NONE names the next FDE, in function order");
        int function = next++;
        if (fde.Length < UnwindRules.FdeHeaderSize)
            throw Fail(ErrorCode.BadUnwindRecord, fdeAt, $"the FDE at +{position} is {fde.Length} bytes, too short for its {UnwindRules.FdeHeaderSize}-byte header");
        ref readonly FunctionRecord f = ref functions[function];
        ulong pcBegin = BinaryPrimitives.ReadUInt64LittleEndian(fde[UnwindRules.FdePcBegin..]);
        ulong pcRange = BinaryPrimitives.ReadUInt64LittleEndian(fde[UnwindRules.FdePcRange..]);
        if (pcBegin != UnwindRules.TextBias + (ulong)f.CodeOffset)
            throw Fail(ErrorCode.UnwindCoverageMismatch, fdeAt + UnwindRules.FdePcBegin,
                $"the FDE of function {function} begins at text base + 0x{pcBegin:x}; the function's code starts at 0x{UnwindRules.TextBias + (ulong)f.CodeOffset:x} (0x{UnwindRules.TextBias:x} + its code offset)");
        if (pcRange != f.CodeSize)
            throw Fail(ErrorCode.UnwindCoverageMismatch, fdeAt + UnwindRules.FdePcRange,
                $"the FDE of function {function} covers {pcRange} bytes; the function has {f.CodeSize}");
        if (fde[UnwindRules.FdeAugmentation] != 0)
            throw Fail(ErrorCode.BadUnwindCie, fdeAt + UnwindRules.FdeAugmentation, $"the FDE of function {function} has augmentation data; the CIE's \"zR\" gives it none");
        if (UnwindRules.CheckProgram(fde[UnwindRules.FdeHeaderSize..], f.CodeSize) is { } problem)
            throw Fail(ErrorCode.BadCfaProgram, fdeAt + UnwindRules.FdeHeaderSize + problem.Offset, $"function {function}: {problem.Message}");
    }
}
