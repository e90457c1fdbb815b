using System.Buffers.Binary;

namespace AotCache.Format;

/// <summary>
/// The per-kind rules of FORMAT.md §10 in one place: which kinds exist, how wide their fields are, what they
/// may target, how a value is computed and stored, and the checks of a relocation list. The builder, the
/// rewriter, hot-swap updates and the loader call these; the validator's hot loop takes its tables from them.
/// </summary>
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
        RelocationKind.Absolute64 or RelocationKind.SlotPcRel32 => IsKnown(target),
        _ => false,
    };

    /// <summary>Functions and imported functions: the targets that have a signature, and so may carry an
    /// expected signature hash [REL-8].</summary>
    public static bool IsCallable(SymbolKind kind) => kind is SymbolKind.Function or SymbolKind.ImportFunction;

    /// <summary>The addend fits the field's range: any value for 64-bit fields, [−2^31, 2^31) for 32-bit ones [REL-7].</summary>
    public static bool AddendFits(RelocationKind kind, long addend) =>
        FieldWidth(kind) == 8 || (ulong)(addend - int.MinValue) <= uint.MaxValue;

    /// <summary>True for the four symbol kinds format 1.0 defines [SYM-1].</summary>
    public static bool IsKnown(SymbolKind kind) => (uint)kind - 1 < 4;

    /// <summary>
    /// A reference that must reach one particular body of its target rather than whatever body the target has
    /// now: a PC-relative field whose addend is not −4 (the −4 of a 4-byte field that ends its instruction:
    /// anything else points into the middle of the body), or an absolute address with a non-zero addend. Slot
    /// references hold the target's address and follow it. A loader cannot decode instructions, so the addend is
    /// the whole test (FORMAT.md §16).
    /// </summary>
    public static bool IsBodyBound(RelocationKind kind, long addend) => kind switch
    {
        RelocationKind.Absolute64 => addend != 0,
        RelocationKind.SlotPcRel32 => false,
        _ => addend != -4,
    };

    /// <summary>
    /// The value a relocation stores (FORMAT.md §10): S + A for <see cref="RelocationKind.Absolute64"/>, else
    /// S + A − P, where S is the address the kind reaches (the symbol, its slot or its thunk) and P the field's
    /// address. False when a 32-bit value does not fit [REL-9]. The inputs are addresses of one process, far below
    /// 2^62 in magnitude, so the sums cannot overflow.
    /// </summary>
    public static bool TryCompute(RelocationKind kind, long s, long addend, long p, out long value)
    {
        if (kind == RelocationKind.Absolute64)
        {
            value = unchecked(s + addend);
            return true;
        }
        value = s + addend - p;
        return value >= int.MinValue && value <= int.MaxValue;
    }

    /// <summary>Stores a value computed by <see cref="TryCompute"/> into its field: 8 or 4 bytes, little-endian.</summary>
    public static void Store(Span<byte> field, RelocationKind kind, long value)
    {
        if (kind == RelocationKind.Absolute64) BinaryPrimitives.WriteInt64LittleEndian(field, value);
        else BinaryPrimitives.WriteInt32LittleEndian(field, (int)value);
    }

    /// <summary>
    /// Computes and stores one relocation of an owner whose bytes are <paramref name="owner"/>: false, with nothing
    /// written, when the value does not fit its field [REL-9].
    /// </summary>
    public static bool TryApply(Span<byte> owner, int offset, RelocationKind kind, long s, long addend, long p, out long value)
    {
        if (!TryCompute(kind, s, addend, p, out value)) return false;
        Store(owner[offset..], kind, value);
        return true;
    }

    /// <summary>
    /// Checks a relocation list against its owner alone (FORMAT.md §10): known kinds [REL-1], fields inside the
    /// owner [REL-3], sorted by offset and not overlapping [REL-4], addends in range [REL-7]. Null when it holds;
    /// otherwise the first problem, naming the relocation's index.
    /// </summary>
    public static RelocationProblem? CheckShape(ReadOnlySpan<Relocation> sorted, int ownerSize)
    {
        long previousEnd = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            ref readonly Relocation r = ref sorted[i];
            if (!IsKnown(r.Kind)) return new(i, "REL-1", $"relocation at +{r.Offset} has unknown kind {(int)r.Kind}");
            int width = FieldWidth(r.Kind);
            if (r.Offset < 0 || (long)r.Offset + width > ownerSize)
                return new(i, "REL-3", $"a {r.Kind} relocation at +{r.Offset} needs {width} bytes, but the owner is {ownerSize} bytes");
            if (r.Offset < previousEnd)
                return new(i, "REL-4", $"the relocation at +{r.Offset} overlaps the previous one, which ends at +{previousEnd}");
            if (!AddendFits(r.Kind, r.Addend))
                return new(i, "REL-7", $"addend {r.Addend} of the 32-bit relocation at +{r.Offset} does not fit 32 bits");
            previousEnd = (long)r.Offset + width;
        }
        return null;
    }

    /// <summary>
    /// Checks what a relocation list's targets are in <paramref name="scope"/>: each target exists [REL-5], is of a
    /// kind the relocation may reach [REL-6], and only callable targets carry a signature hash [REL-8]. Null when
    /// it holds; otherwise the first problem. <paramref name="pending"/> may name symbols that will exist (functions
    /// added in the same update): they are taken as functions.
    /// </summary>
    public static RelocationProblem? CheckTargets(ReadOnlySpan<Relocation> relocations, ISymbolScope scope, Func<string, bool>? pending = null)
    {
        ArgumentNullException.ThrowIfNull(scope);
        for (int i = 0; i < relocations.Length; i++)
        {
            ref readonly Relocation r = ref relocations[i];
            SymbolKind? kind = scope.TryGetSymbol(r.Target, out SymbolInfo target) ? target.Kind
                : pending is not null && pending(r.Target) ? SymbolKind.Function : null;
            if (CheckTarget(r, i, kind) is { } problem) return problem;
        }
        return null;
    }

    /// <summary>The checks of <see cref="CheckTargets"/> for one relocation whose target has been looked up:
    /// <paramref name="targetKind"/> is null when there is no such symbol.</summary>
    public static RelocationProblem? CheckTarget(in Relocation r, int index, SymbolKind? targetKind)
    {
        if (targetKind is not { } kind) return new(index, "REL-5", $"the relocation at +{r.Offset} targets {Names.Quote(r.Target)}, which is not a symbol here");
        if (!TargetAllowed(r.Kind, kind))
            return new(index, "REL-6", $"a {r.Kind} relocation at +{r.Offset} cannot target {Names.Quote(r.Target)}, a {kind}");
        if (r.ExpectedSignatureHash is { } h && h != 0 && !IsCallable(kind))
            return new(index, "REL-8", $"the relocation at +{r.Offset} targets {kind} {Names.Quote(r.Target)} and cannot carry a signature hash");
        return null;
    }
}

/// <summary>What is wrong with one relocation of a list: its index, the FORMAT.md requirement and a message.</summary>
public sealed record RelocationProblem(int Index, string Requirement, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Message} [{Requirement}]";
}

/// <summary>The rules of FORMAT.md §11 for content dependencies.</summary>
public static class DependencyRules
{
    /// <summary>The dependency kind that may name a target of this kind [DEP-1]: function content for a defined
    /// function, data content for a defined data object; 0 (none) for imports, which have no content here and which no
    /// dependency may name.</summary>
    public static DependencyKind KindFor(SymbolKind target) => target switch
    {
        SymbolKind.Function => DependencyKind.FunctionContent,
        SymbolKind.Data => DependencyKind.DataContent,
        _ => 0,
    };
}
