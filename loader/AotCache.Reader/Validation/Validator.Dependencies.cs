using System.Runtime.CompilerServices;
using AotCache.Format;
using D = AotCache.Format.DependencyRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 17: dependencies ------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void CheckDependencies()
    {
        ReadOnlySpan<DependencyRecord> deps = Table<DependencyRecord>(SectionKind.Dependencies);
        ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
        int functions = Bytes(SectionKind.Functions).Length / FunctionRecord.RecordSize;
        long baseAt = SectionStart(SectionKind.Dependencies);
        for (int i = 0; i < deps.Length; i++)
        {
            ref readonly DependencyRecord d = ref deps[i];
            long at = baseAt + (long)i * DependencyRecord.RecordSize;
            if (d.Reserved0 != 0 || d.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + D.Reserved0, $"dependency {i}: reserved bytes are not zero");
            if (d.Function >= (uint)functions) throw Fail(ErrorCode.BadDependency, at + D.Function, $"dependency {i}: function {d.Function} is out of range ({functions} functions)");
            if (d.Target >= (uint)symbols.Length) throw Fail(ErrorCode.BadDependency, at + D.Target, $"dependency {i}: target symbol {d.Target} is out of range ({symbols.Length} symbols)");
            SymbolKind target = symbols[(int)d.Target].Kind;
            // Only a defined function or data object has content here; an import (or an unknown kind) has none, so no
            // dependency may name it, whatever its kind field says: kind 0 is not a kind [DEP-1].
            if (DependencyRules.KindFor(target) == 0)
                throw Fail(ErrorCode.BadDependency, at + D.Target, $"dependency {i}: target symbol {d.Target} is a {target}, which has no content in this file (a dependency names a defined function or data object)");
            if (DependencyRules.KindFor(target) != d.Kind) throw Fail(ErrorCode.BadDependency, at + D.Kind, $"dependency {i}: kind {(ushort)d.Kind} cannot name a {target}");
            if (i > 0)
            {
                ref readonly DependencyRecord p = ref deps[i - 1];
                if (p.Function > d.Function || (p.Function == d.Function && p.Target >= d.Target))
                    throw Fail(ErrorCode.BadDependency, at + D.Function, $"dependency {i}: not sorted strictly ascending by (function, target)");
            }
        }
    }
}
