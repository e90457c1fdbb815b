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
    /// <summary>Needed new code (new, edited, stale, or no usable local cache), and the remote cache had it: fetched,
    /// checked, and defined as it was compiled elsewhere, not compiled here.</summary>
    Fetched,
    /// <summary><c>run --lazy</c>: stale like <see cref="StaleRecompiled"/>, but carried into the cache as it was (still
    /// stale) instead of recompiled; the lenient loader compiles it on its first call, if it is called.</summary>
    Deferred,
}

public sealed record FunctionReport(string Name, FunctionOutcome Outcome, string Reason);

/// <summary>Progress of a step of a build: <c>analyzing</c> (parsing done, functions bound and keyed) or <c>compiling</c>.</summary>
public readonly record struct BuildProgress(int Done, int Total, string Phase = BuildProgress.Compiling)
{
    public const string Analyzing = "analyzing";
    public const string Compiling = "compiling";
}

/// <summary>What a build did: the functions it compiled and why, how many it reused, warnings about the cache,
/// whether the file was written (and whether by editing the previous one in place), and timings.</summary>
/// <param name="Changed">The functions compiled, in source order; every other function was reused.</param>
/// <param name="Incremental">True when the build found what changed from the cache's index and edited the previous
/// file (<see cref="Writer.CacheRewriter"/>), without parsing or re-laying out the rest.</param>
public sealed record BuildResult(
    string CachePath,
    IReadOnlyList<FunctionReport> Changed,
    int Reused,
    IReadOnlyList<string> Warnings,
    bool CacheWritten,
    bool Incremental,
    TimeSpan AnalyzeTime,
    TimeSpan CompileTime,
    TimeSpan WriteTime)
{
    /// <summary>How the cache file was written, when it was: through its spare copy, writing the pages that differ
    /// from it (<see cref="Writer.AtomicFile.WriteReusingSpare"/>), or as a fresh file.</summary>
    public Writer.SpareWriteResult? Write { get; init; }

    public int Compiled => Changed.Count(f => f.Outcome == FunctionOutcome.Compiled);
    public int StaleRecompiled => Changed.Count(f => f.Outcome == FunctionOutcome.StaleRecompiled);
    public int Fetched => Changed.Count(f => f.Outcome == FunctionOutcome.Fetched);
    public int Deferred => Changed.Count(f => f.Outcome == FunctionOutcome.Deferred);

    /// <summary>Names of the compiled functions with this outcome, in source order.</summary>
    public IEnumerable<string> Named(FunctionOutcome outcome) =>
        outcome == FunctionOutcome.Reused ? throw new ArgumentException("reused functions are not listed; see Reused", nameof(outcome))
        : Changed.Where(f => f.Outcome == outcome).Select(f => f.Name);

    /// <summary>One line: counts and times.</summary>
    public string Summary() =>
        $"build: {Compiled} compiled, {StaleRecompiled} stale-recompiled, {Reused} reused{(Fetched > 0 ? $", {Fetched} fetched" : "")}" +
        $"{(Deferred > 0 ? $", {Deferred} deferred (stale, compiled on call)" : "")} " +
        $"({(Incremental ? "incremental: " : "")}analyze {Ms(AnalyzeTime)}, compile {Ms(CompileTime)}, write {Ms(WriteTime)}{(Write is { } w ? $" ({WriteText(w)})" : CacheWritten ? "" : ", cache unchanged")})";

    /// <summary>What the write cost in bytes, said as it is: the pages rewritten in the spare of a file of some size, or a
    /// fresh file and (first versions) its spare copy, each counted once.</summary>
    public static string WriteText(Writer.SpareWriteResult w) =>
        // More than the file: a first version, written and then copied into its spare (WriteReusingSpare).
        w.BytesWritten > w.Length ? $"{Size(w.Length)} file + {Size(w.BytesWritten - w.Length)} spare copy"
        : w.ReusedSpare ? $"{Size(w.BytesWritten)} of the {Size(w.Length)} file rewritten"
        : $"{Size(w.Length)} file";

    private static string Size(long bytes) =>
        bytes < 1024 ? $"{bytes} B" : bytes < 1 << 20 ? $"{bytes / 1024.0:F0} KiB" : $"{bytes / (1024.0 * 1024):F1} MiB";

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms";
}
