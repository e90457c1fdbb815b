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
    /// <inheritdoc/>
    public override string ToString()
    {
        // Names come from files and from front ends: escaped, so that none can break the message's line.
        string function = Names.Escape(Function), target = Names.Escape(Target);
        return Reason switch
        {
            StaleReason.SignatureChanged => $"{function} calls {target} compiled against {Expected}, but {target} becomes {Actual}",
            StaleReason.TargetRemoved => $"{function} refers to {target}, which the update removes",
            StaleReason.ContentChanged => $"{function} depends on the content of {target} ({Expected}), which becomes {Actual}",
            StaleReason.BodyReplaced => $"{function} jumps into the body of {target}, which the update replaces",
            StaleReason.NewCodeMismatch => $"new code of {function} expects {target} to be {Expected}, but it will be {Actual}",
            _ => $"new code of {function} refers to {target}, which will not exist",
        };
    }
}
