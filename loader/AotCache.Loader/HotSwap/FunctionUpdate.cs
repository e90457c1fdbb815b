using AotCache.Format;

namespace AotCache.Loader.HotSwap;

/// <summary>
/// A relocation of new code in an update. Targets are named: an update may refer to functions it adds
/// itself. Names are looked up once per relocation at commit, proportional to the changed code only.
/// </summary>
/// <param name="ExpectedSignatureHash">For function targets: the signature the new code was compiled
/// against (0: not recorded). For data targets: 0.</param>
public readonly record struct UpdateRelocation(int Offset, RelocationKind Kind, string Target, long Addend, ulong ExpectedSignatureHash = 0);

/// <summary>A content dependency of new code: it inlined <paramref name="Target"/> (or folded its data)
/// as it was when its content hash was <paramref name="ExpectedContentHash"/>.</summary>
public readonly record struct UpdateDependency(string Target, ContentHash ExpectedContentHash);

/// <summary>A new body for a function: code, relocations, declaration, cache key and content dependencies.</summary>
public sealed record FunctionUpdate(byte[] Code, IReadOnlyList<UpdateRelocation> Relocations, Signature Signature)
{
    public ContentHash ContentHash { get; init; }
    public IReadOnlyList<UpdateDependency> Dependencies { get; init; } = [];
    public int Alignment { get; init; } = 16;
    public CpuFeatures RequiredCpuFeatures { get; init; }
    public bool Exported { get; init; } = true;
}

/// <summary>Why a function would be stale after an update.</summary>
public enum StaleReason
{
    /// <summary>It calls a function whose signature changed from the one it was compiled against.</summary>
    SignatureChanged,
    /// <summary>It calls or refers to a function the update removes.</summary>
    TargetRemoved,
    /// <summary>It depends on the content of a function whose content hash changed (it inlined it).</summary>
    ContentChanged,
    /// <summary>It jumps into the middle of a function whose body the update replaces.</summary>
    BodyReplaced,
    /// <summary>New code of the update itself was compiled against a signature or content its target will not have.</summary>
    NewCodeMismatch,
    /// <summary>New code refers to a symbol that does not exist after the update.</summary>
    UnknownTarget,
}

/// <summary>One stale function: who, which callee, and the old and new signatures or contents.</summary>
public sealed record StaleFunction(string Function, StaleReason Reason, string Target, string Expected, string Actual)
{
    public override string ToString() => Reason switch
    {
        StaleReason.SignatureChanged => $"{Function} calls {Target} compiled against {Expected}, but {Target} becomes {Actual}",
        StaleReason.TargetRemoved => $"{Function} refers to {Target}, which the update removes",
        StaleReason.ContentChanged => $"{Function} depends on the content of {Target} ({Expected}), which becomes {Actual}",
        StaleReason.BodyReplaced => $"{Function} jumps into the body of {Target}, which the update replaces",
        StaleReason.NewCodeMismatch => $"new code of {Function} expects {Target} to be {Expected}, but it will be {Actual}",
        _ => $"new code of {Function} refers to {Target}, which will not exist",
    };
}
