namespace AotCache.Format;

/// <summary>The per-kind rules of FORMAT.md §10, shared by writer, validator and loader.</summary>
public static class RelocationRules
{
    /// <summary>True for the kinds format 1.0 defines [REL-1]. A range check: this runs once per relocation.</summary>
    public static bool IsKnown(RelocationKind kind) => (uint)kind - 1 < 5;

    /// <summary>Width in bytes of the patch field: 8 for <see cref="RelocationKind.Absolute64"/>, else 4 [REL-3].</summary>
    public static int FieldWidth(RelocationKind kind) => kind == RelocationKind.Absolute64 ? 8 : 4;

    /// <summary>Which symbol kinds a relocation kind may target [REL-6].</summary>
    public static bool TargetAllowed(RelocationKind kind, SymbolKind target) => kind switch
    {
        RelocationKind.FunctionPcRel32 => target == SymbolKind.Function,
        RelocationKind.DataPcRel32 => target == SymbolKind.Data,
        RelocationKind.ThunkPcRel32 => target is SymbolKind.Function or SymbolKind.ImportFunction,
        RelocationKind.Absolute64 or RelocationKind.SlotPcRel32 => true,
        _ => false,
    };
}
