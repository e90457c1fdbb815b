using AotCache.Format;

namespace AotCache.Loader.HotSwap;

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
