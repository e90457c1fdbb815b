using System.Runtime.CompilerServices;
using AotCache.Format;
using D = AotCache.Format.DataObjectRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 15: data objects ------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckDataObjects()
    {
        ReadOnlySpan<DataObjectRecord> data = Table<DataObjectRecord>(SectionKind.DataObjects);
        ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
        long dataSize = Sections[(int)SectionKind.Data].Length;
        long baseAt = SectionStart(SectionKind.DataObjects);
        long previousEnd = 0;
        DataKind previousKind = DataKind.ReadOnly;
        for (int i = 0; i < data.Length; i++)
        {
            ref readonly DataObjectRecord d = ref data[i];
            long at = baseAt + (long)i * DataObjectRecord.RecordSize;
            if (d.Reserved0 != 0 || d.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + D.Reserved0, $"data object {i}: reserved bytes are not zero");
            if (d.Reserved2 != 0) throw Fail(ErrorCode.ReservedNotZero, at + D.Reserved2, $"data object {i}: reserved field is not zero");
            if (d.Symbol >= (uint)symbols.Length || symbols[(int)d.Symbol].Kind != SymbolKind.Data || symbols[(int)d.Symbol].Definition != (uint)i)
                throw Fail(ErrorCode.BadDataSymbol, at + D.Symbol, $"data object {i}: symbol {d.Symbol} is not a data symbol defined by this record");
            if ((uint)d.Kind - 1 >= 3) throw Fail(ErrorCode.BadDataKind, at + D.Kind, $"data object {i}: unknown kind {(byte)d.Kind}");
            if (d.Kind == DataKind.ZeroFilled && d.RelocationCount != 0)
                throw Fail(ErrorCode.BadDataKind, at + D.RelocationCount, $"data object {i}: a zero-filled object cannot have relocations");
            if (d.Kind < previousKind)
                throw Fail(ErrorCode.DataOrder, at + D.Kind, $"data object {i}: a {d.Kind} object after a {previousKind} one (order is ReadOnly, Writable, ZeroFilled)");
            if (d.Kind == DataKind.ZeroFilled && previousKind != DataKind.ZeroFilled) previousEnd = 0; // the zero-fill area starts anew
            previousKind = d.Kind;
            if (d.Size == 0) throw Fail(ErrorCode.DataOutOfBounds, at + D.Size, $"data object {i}: size is zero");
            long limit = d.Kind == DataKind.ZeroFilled ? FormatConstants.MaxFileSize : dataSize;
            if ((ulong)d.Offset + d.Size > (ulong)limit)
                throw Fail(ErrorCode.DataOutOfBounds, at + D.Offset, d.Kind == DataKind.ZeroFilled
                    ? $"data object {i}: zero-fill range {d.Offset} + {d.Size} exceeds {limit}"
                    : $"data object {i}: bytes {d.Offset} + {d.Size} run past the {dataSize}-byte data section");
            if (d.Alignment == 0 || d.Alignment > FormatConstants.MaxAlignment || (d.Alignment & (d.Alignment - 1)) != 0)
                throw Fail(ErrorCode.BadDataAlignment, at + D.Alignment, $"data object {i}: alignment {d.Alignment} is not a power of two from 1 to {FormatConstants.MaxAlignment}");
            if (d.Offset % d.Alignment != 0)
                throw Fail(ErrorCode.BadDataAlignment, at + D.Offset, $"data object {i}: offset {d.Offset} is not a multiple of its alignment {d.Alignment}");
            if (d.Offset < previousEnd)
                throw Fail(ErrorCode.DataOrder, at + D.Offset, $"data object {i}: offset {d.Offset} is before the end of the previous object at {previousEnd}");
            previousEnd = (long)d.Offset + d.Size;
            if (d.Kind == DataKind.ZeroFilled) ZeroFillSize = (int)previousEnd;
        }
    }
}
