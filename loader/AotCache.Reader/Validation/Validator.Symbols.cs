using System.Runtime.CompilerServices;
using AotCache.Format;
using S = AotCache.Format.SymbolRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 13: symbols -----------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void CheckSymbols()
    {
        ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
        ReadOnlySpan<byte> strings = Bytes(SectionKind.Strings);
        int declarations = Bytes(SectionKind.Declarations).Length / DeclarationRecord.RecordSize;
        ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
        ReadOnlySpan<DataObjectRecord> data = Table<DataObjectRecord>(SectionKind.DataObjects);
        long baseAt = SectionStart(SectionKind.Symbols);
        for (int i = 0; i < symbols.Length; i++)
        {
            ref readonly SymbolRecord s = ref symbols[i];
            long at = baseAt + (long)i * SymbolRecord.RecordSize;
            if (s.Reserved0 != 0) throw Fail(ErrorCode.ReservedNotZero, at + S.Reserved0, $"symbol {i}: reserved field is not zero");
            if (s.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + S.Reserved1, $"symbol {i}: reserved field is not zero");
            CheckStringRef(strings, s.Name, at + S.Name, "symbol", i, "name", allowEmpty: false);
            if ((uint)s.Kind - 1 >= 4) throw Fail(ErrorCode.BadSymbolKind, at + S.Kind, $"symbol {i}: unknown kind {(byte)s.Kind}");
            bool import = s.Kind is SymbolKind.ImportFunction or SymbolKind.ImportData;
            if (import ? s.Linkage != Linkage.Import : s.Linkage is not (Linkage.Local or Linkage.Export))
                throw Fail(ErrorCode.BadSymbolKind, at + S.Linkage,
                    $"symbol {i}: a {s.Kind} cannot have linkage {(Enum.IsDefined(s.Linkage) ? s.Linkage.ToString() : ((byte)s.Linkage).ToString())}");
            if (i > 0)
            {
                int c = Utf8Of(strings, symbols[i - 1].Name).SequenceCompareTo(Utf8Of(strings, s.Name));
                if (c == 0) throw Fail(ErrorCode.DuplicateSymbolName, at + S.Name, $"symbols {i - 1} and {i} are both named {Quoted(strings, s.Name)}");
                if (c > 0) throw Fail(ErrorCode.SymbolsNotSorted, at + S.Name, $"symbol {i} {Quoted(strings, s.Name)} sorts before symbol {i - 1} {Quoted(strings, symbols[i - 1].Name)}");
            }
            bool hasDeclaration = s.Kind is SymbolKind.Function or SymbolKind.ImportFunction;
            if (hasDeclaration ? s.Declaration >= (uint)declarations : s.Declaration != FormatConstants.NoIndex)
                throw Fail(ErrorCode.BadDeclarationIndex, at + S.Declaration, hasDeclaration
                    ? $"symbol {i} {Quoted(strings, s.Name)}: declaration {s.Declaration} is out of range ({declarations} declarations)"
                    : $"symbol {i} {Quoted(strings, s.Name)}: a {s.Kind} has no declaration, the field must be 0xFFFFFFFF");
            switch (s.Kind)
            {
                case SymbolKind.Function:
                    if (s.Definition >= (uint)functions.Length || functions[(int)s.Definition].Symbol != (uint)i)
                        throw Fail(ErrorCode.BadDefinitionIndex, at + S.Definition, $"symbol {i} {Quoted(strings, s.Name)}: definition {s.Definition} is not a function record naming this symbol");
                    break;
                case SymbolKind.Data:
                    if (s.Definition >= (uint)data.Length || data[(int)s.Definition].Symbol != (uint)i)
                        throw Fail(ErrorCode.BadDefinitionIndex, at + S.Definition, $"symbol {i} {Quoted(strings, s.Name)}: definition {s.Definition} is not a data object record naming this symbol");
                    break;
                default:
                    if (s.Definition != FormatConstants.NoIndex)
                        throw Fail(ErrorCode.BadDefinitionIndex, at + S.Definition, $"symbol {i} {Quoted(strings, s.Name)}: an import has no definition, the field must be 0xFFFFFFFF");
                    break;
            }
        }
    }
}
