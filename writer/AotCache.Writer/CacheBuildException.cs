namespace AotCache.Writer;

/// <summary>
/// The builder's content cannot form a valid file (a function declared but never defined, a
/// dependency on an undefined symbol...). Every problem is listed; nothing was written.
/// </summary>
public sealed class CacheBuildException(IReadOnlyList<string> problems)
    : InvalidOperationException(
        $"the module cannot be written ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):"
        + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    /// <summary>Every problem found, one per line of the message.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
