namespace AotCache.Demo.Build;

/// <summary>What a build did with one function.</summary>
public enum FunctionOutcome
{
    /// <summary>Its cached body was current: carried into the cache byte for byte, not compiled.</summary>
    Reused,
    /// <summary>New, or its own source changed (or the cache could not be used): compiled.</summary>
    Compiled,
    /// <summary>Its source did not change, but a declaration its code depends on did (a callee's signature, a
    /// global's type): its cached body is stale, so it was recompiled.</summary>
    StaleRecompiled,
}

public sealed record FunctionReport(string Name, FunctionOutcome Outcome, string Reason);

/// <summary>Progress of the compile step of a build.</summary>
public readonly record struct BuildProgress(int Done, int Total);

/// <summary>What a build did: per function, the warnings about the cache, whether the file was rewritten, and timings.</summary>
public sealed record BuildResult(
    string CachePath,
    IReadOnlyList<FunctionReport> Functions,
    IReadOnlyList<string> Warnings,
    bool CacheWritten,
    TimeSpan AnalyzeTime,
    TimeSpan CompileTime,
    TimeSpan WriteTime)
{
    public int Reused => Functions.Count(f => f.Outcome == FunctionOutcome.Reused);
    public int Compiled => Functions.Count(f => f.Outcome == FunctionOutcome.Compiled);
    public int StaleRecompiled => Functions.Count(f => f.Outcome == FunctionOutcome.StaleRecompiled);

    public IEnumerable<string> Named(FunctionOutcome outcome) => Functions.Where(f => f.Outcome == outcome).Select(f => f.Name);

    /// <summary>One line: counts and times.</summary>
    public string Summary() =>
        $"build: {Compiled} compiled, {StaleRecompiled} stale-recompiled, {Reused} reused " +
        $"(analyze {Ms(AnalyzeTime)}, compile {Ms(CompileTime)}, write {Ms(WriteTime)}{(CacheWritten ? "" : ", cache unchanged")})";

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms";
}
