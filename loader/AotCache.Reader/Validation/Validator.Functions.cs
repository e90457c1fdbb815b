using System.Runtime.CompilerServices;
using AotCache.Format;
using F = AotCache.Format.FunctionRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 14: functions ---------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void CheckFunctions()
    {
        ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
        ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
        long codeSize = Sections[(int)SectionKind.Code].Length;
        long baseAt = SectionStart(SectionKind.Functions);
        long previousEnd = 0;
        for (int i = 0; i < functions.Length; i++)
        {
            ref readonly FunctionRecord f = ref functions[i];
            long at = baseAt + (long)i * FunctionRecord.RecordSize;
            if (f.Symbol >= (uint)symbols.Length || symbols[(int)f.Symbol].Kind != SymbolKind.Function || symbols[(int)f.Symbol].Definition != (uint)i)
                throw Fail(ErrorCode.BadFunctionSymbol, at + F.Symbol, $"function {i}: symbol {f.Symbol} is not a function symbol defined by this record");
            if ((ulong)f.CodeOffset + f.CodeSize > (ulong)codeSize)
                throw Fail(ErrorCode.FunctionOutOfBounds, at + F.CodeOffset, $"function {i}: code bytes {f.CodeOffset} + {f.CodeSize} run past the {codeSize}-byte code section");
            if (f.CodeSize == 0) throw Fail(ErrorCode.EmptyFunction, at + F.CodeSize, $"function {i}: no code");
            if (f.Alignment == 0 || f.Alignment > FormatConstants.MaxAlignment || (f.Alignment & (f.Alignment - 1)) != 0)
                throw Fail(ErrorCode.BadFunctionAlignment, at + F.Alignment, $"function {i}: alignment {f.Alignment} is not a power of two from 1 to {FormatConstants.MaxAlignment}");
            if (f.CodeOffset % f.Alignment != 0)
                throw Fail(ErrorCode.BadFunctionAlignment, at + F.CodeOffset, $"function {i}: code offset {f.CodeOffset} is not a multiple of its alignment {f.Alignment}");
            if (f.CodeOffset < previousEnd)
                throw Fail(ErrorCode.FunctionOverlap, at + F.CodeOffset, $"function {i}: code at {f.CodeOffset} starts before the end of function {i - 1} at {previousEnd}");
            previousEnd = (long)f.CodeOffset + f.CodeSize;
            if (((ulong)f.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown) != 0)
                throw Fail(ErrorCode.UnknownCpuFeature, at + F.RequiredCpuFeatures, $"function {i}: unknown CPU feature bits 0x{(ulong)f.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown:x}");
        }
    }
}
