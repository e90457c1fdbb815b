using System.Buffers.Binary;
using AotCache.Format;

namespace AotCache.Reader;

public sealed partial class CacheImage
{
    /// <summary>True when the file carries unwind information (the optional Unwind section, FORMAT.md §19).</summary>
    public bool HasUnwindInfo => HasSection(SectionKind.Unwind);

    /// <summary>The CFI area of the Unwind section (CIE, FDEs, terminator; FORMAT.md §19.2), validated with the file;
    /// empty when the file has none. Registered in place, at text base (code address − <see cref="UnwindRules.TextBias"/>),
    /// it describes the code as the file places it.</summary>
    public ReadOnlyMemory<byte> UnwindCfi
    {
        get
        {
            if (!HasUnwindInfo) return ReadOnlyMemory<byte>.Empty;
            long start = UnwindRules.CfiAreaStart(Functions.Length);
            SectionSlot s = _sections[(int)SectionKind.Unwind];
            return _file.Slice(s.Offset + (int)start, s.Length - (int)start);
        }
    }

    /// <summary>The offset in <see cref="UnwindCfi"/> of function <paramref name="function"/>'s FDE, or −1 when it has no
    /// unwind information.</summary>
    public int UnwindEntry(int function)
    {
        if ((uint)function >= (uint)Functions.Length)
            throw new ArgumentOutOfRangeException(nameof(function), function, $"the file has {Functions.Length} functions");
        if (!HasUnwindInfo) return -1;
        uint entry = BinaryPrimitives.ReadUInt32LittleEndian(Section(SectionKind.Unwind)[(4 * function)..]);
        return entry == FormatConstants.NoIndex ? -1 : (int)entry;
    }

    /// <summary>Function <paramref name="function"/>'s unwind information as a <see cref="FunctionBody"/> carries it, or
    /// null when it has none.</summary>
    public UnwindInfo? GetUnwindInfo(int function)
    {
        int fde = UnwindEntry(function);
        return fde < 0 ? null : new UnwindInfo(UnwindRules.FdeProgram(UnwindCfi.Span, fde));
    }
}
