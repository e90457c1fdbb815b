using System.Diagnostics;
using System.Security.Cryptography;

namespace AotCache.Fuzz;

/// <summary>What one bounded in-process run did.</summary>
public sealed record FuzzReport(long Executions, double Seconds, int SeedEdges, int Edges, int SeedCorpus, int Corpus, Finding? Finding)
{
    public double ExecutionsPerSecond => Seconds > 0 ? Executions / Seconds : 0;

    public override string ToString() =>
        $"{Executions} execs in {Seconds:F1} s ({ExecutionsPerSecond:F0}/s); edges {SeedEdges} from the seeds, {Edges} at the end; " +
        $"corpus {SeedCorpus} seeds, {Corpus} at the end; " + (Finding is null ? "no finding" : $"FINDING: {Finding.Kind}");
}

/// <summary>An input that let an exception other than AotCacheException escape, or ran too long.</summary>
public sealed record Finding(string Kind, byte[] Input, string Detail, string? SavedAs);

/// <summary>
/// A bounded, seeded, coverage-guided loop in one process (what AFL++ does, without the fork
/// server): run every seed, then mutate entries of the corpus and keep each input that reaches a new edge
/// or hit-count bucket. Stops at the time bound, the execution budget or the first finding. It cannot survive a stack overflow
/// or a hang: those are what the AFL++ runs of fuzz/README.md are for.
/// </summary>
public sealed class InProcessFuzzer(Action<ReadOnlyMemory<byte>> target, CoverageMap coverage)
{
    public const int MaxInputLength = 64 * 1024;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Stop after this many executions (seeds included), whichever of this and <see cref="Duration"/> comes
    /// first. With a seed and an execution budget the run is the same on a quiet and on a loaded machine.</summary>
    public long MaxExecutions { get; init; } = long.MaxValue;
    public TimeSpan PerInputLimit { get; init; } = TimeSpan.FromSeconds(2);
    public int Seed { get; init; } = 1;

    /// <summary>Where findings are written (crash-SHA256.bin); null: not saved.</summary>
    public string? FindingsDirectory { get; init; }

    /// <summary>Where inputs that grew coverage are written (id-SHA256.bin); null: kept in memory only.</summary>
    public string? QueueDirectory { get; init; }

    public FuzzReport Run(IReadOnlyList<byte[]> seeds)
    {
        var clock = Stopwatch.StartNew();
        var corpus = new List<byte[]>();
        long executions = 0;
        coverage.Attach();
        try
        {
            foreach (byte[] seed in seeds)
            {
                executions++;
                if (Execute(seed) is { } finding) return Report(finding);
                if (coverage.MergeNew() || corpus.Count == 0) corpus.Add(seed);
            }
            int seedEdges = coverage.Edges, seedCorpus = corpus.Count;
            var mutator = new Mutator(Seed, MaxInputLength);
            while (clock.Elapsed < Duration && executions < MaxExecutions)
            {
                // Favour recent finds: half the picks come from the newest quarter of the corpus.
                int pick = mutator.Random.Next(2) == 0 || corpus.Count < 8
                    ? mutator.Random.Next(corpus.Count)
                    : corpus.Count - 1 - mutator.Random.Next(corpus.Count / 4);
                byte[] input = mutator.Mutate(corpus[pick], corpus);
                executions++;
                if (Execute(input) is { } finding) return Report(finding, seedEdges, seedCorpus);
                if (coverage.MergeNew())
                {
                    corpus.Add(input);
                    Save(QueueDirectory, $"id-{corpus.Count:D6}", input);
                }
            }
            return Report(null, seedEdges, seedCorpus);
        }
        finally
        {
            CoverageMap.Detach();
        }

        FuzzReport Report(Finding? finding, int seedEdges = -1, int seedCorpus = -1) =>
            new(executions, clock.Elapsed.TotalSeconds, seedEdges < 0 ? coverage.Edges : seedEdges, coverage.Edges,
                seedCorpus < 0 ? corpus.Count : seedCorpus, corpus.Count, finding);
    }

    private Finding? Execute(byte[] input)
    {
        coverage.Reset();
        long start = Stopwatch.GetTimestamp();
        try
        {
            target(input);
        }
        catch (Exception e)
        {
            return Found("crash", input, e.ToString());
        }
        TimeSpan took = Stopwatch.GetElapsedTime(start);
        return took > PerInputLimit ? Found("slow", input, $"one input took {took.TotalMilliseconds:F0} ms, the limit is {PerInputLimit.TotalMilliseconds:F0} ms") : null;
    }

    private Finding Found(string kind, byte[] input, string detail) =>
        new(kind, input, detail, Save(FindingsDirectory, kind, input));

    private static string? Save(string? directory, string prefix, byte[] input)
    {
        if (directory is null) return null;
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{prefix}-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}
