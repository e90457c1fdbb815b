using AotCache.ConformanceTests.Spec;
using AotCache.ConformanceTests.Vectors;
using AotCache.Format;
using AotCache.Fuzz;
using AotCache.Loader;
using AotCache.Reader;
using Xunit.Abstractions;

namespace AotCache.ConformanceTests.Fuzzing;

/// <summary>
/// The fuzz harness (fuzz/README.md) in CI: a bounded, seeded, coverage-guided run over the checked-in corpus
/// that allows only <see cref="AotCacheException"/>, and the pieces it relies on: the corpus is what
/// <c>seed-corpus</c> makes, the harness really links, and a crash or a slow input is caught and saved.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("fuzz-tests-");

    public void Dispose() => _directory.Delete(recursive: true);

    private static string Root => GoldenFile.RepositoryRoot();

    private static string CorpusDirectory => SeedCorpus.DefaultDirectory(Root);

    /// <summary>Executions of the bounded CI run: ~20 s here on a quiet machine, longer on a loaded one.</summary>
    private const long CiExecutions = 250_000;

    /// <summary>A seeded run of <see cref="CiExecutions"/> mutations over SharpFuzz-instrumented AotCache.Format,
    /// AotCache.Reader and AotCache.Loader: no exception but the typed one, and coverage beyond what the seeds reach.
    /// Bounded by executions, not by time, so the same inputs run on a quiet and on a loaded machine; the clock bounds
    /// (the run, one input) only guard against hangs.</summary>
    [Fact]
    public void A_bounded_coverage_guided_run_finds_nothing_and_grows_coverage()
    {
        var log = new StringWriter();
        FuzzReport report = Fuzz.Program.RunCi(TimeSpan.FromMinutes(30), seed: 1, SeedCorpus.Load(CorpusDirectory),
            findings: Path.Combine(Root, "fuzz", "findings", "in-process"), queue: null, log,
            maxExecutions: CiExecutions, perInputLimit: TimeSpan.FromMinutes(1));
        output.WriteLine(log.ToString());
        Assert.True(report.Finding is null, log.ToString());
        Assert.True(report.SeedEdges > 500, $"the seeds reach only {report.SeedEdges} edges: is the instrumentation attached? {report}");
        Assert.True(report.Edges > report.SeedEdges, $"no new edge beyond the seeds: {report}");
        Assert.True(report.Corpus > report.SeedCorpus, $"no input was kept: {report}");
        Assert.Equal(CiExecutions, report.Executions);
    }

    /// <summary>The checked-in corpus is exactly what <c>AotCache.Fuzz seed-corpus</c> writes, besides the grown inputs
    /// of the last AFL++ campaign, which stay small.</summary>
    [Fact]
    public void The_checked_in_corpus_is_what_seed_corpus_writes()
    {
        SortedDictionary<string, byte[]> expected = SeedCorpus.Build(Root);
        var actual = Directory.EnumerateFiles(CorpusDirectory).Where(p => !SeedCorpus.IsGrown(p)).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes);
        long grown = Directory.EnumerateFiles(CorpusDirectory).Where(SeedCorpus.IsGrown).Sum(p => new FileInfo(p).Length);
        Assert.True(grown < 1024 * 1024, $"the grown inputs take {grown} bytes: minimize them (afl-cmin, fuzz/README.md)");
        Assert.Equal(expected.Keys, actual.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, byte[] bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} is out of date: run `dotnet run --project fuzz/AotCache.Fuzz -- seed-corpus`");
        Assert.True(expected.Values.Sum(b => (long)b.Length) < 256 * 1024, "the corpus should stay small");
    }

    /// <summary>The seeder's small vector parser assembles every vector to the bytes the conformance parser does.</summary>
    [Fact]
    public void The_corpus_holds_every_vector_and_golden_file()
    {
        SortedDictionary<string, byte[]> seeds = SeedCorpus.Build(Root);
        foreach (string name in VectorFile.All())
        {
            string seed = "vector-" + Path.ChangeExtension(name.Replace('/', '-'), ".aotc");
            Assert.True(seeds.TryGetValue(seed, out byte[]? bytes), $"no seed {seed}");
            Assert.Equal(VectorFile.Load(name).Bytes, bytes);
        }
        foreach (string golden in Directory.EnumerateFiles(Path.Combine(Root, "conformance-tests", "AotCache.ConformanceTests", "Golden"), "*.aotc"))
            Assert.Equal(File.ReadAllBytes(golden), seeds["golden-" + Path.GetFileName(golden)]);
    }

    /// <summary>The target gets past reading: every accepted seed is linked, direct and hot-swappable, into
    /// memory that is never executable, and every region is freed again.</summary>
    [Fact]
    public void The_target_links_every_valid_seed_without_executable_memory()
    {
        int linked = 0, entries = 0;
        foreach (string path in Directory.EnumerateFiles(CorpusDirectory).Order(StringComparer.Ordinal))
        {
            byte[] bytes = File.ReadAllBytes(path);
            Target.Run(bytes); // may only throw what the harness treats as a crash
            if (SeedCorpus.IsGrown(path)) continue; // mutants: they need not link
            if (Path.GetFileName(path).StartsWith("regression-", StringComparison.Ordinal)) continue; // refused on purpose: FuzzRegressionTests
            if (!CacheImage.TryRead(bytes, out CacheImage? image, out _, ReadOptions.Full)) continue;
            using (image)
            {
                // Team-cache entries are valid files but never loaded where they are (their placeholders make them stale).
                if (Path.GetFileName(path).StartsWith("remote-entry-", StringComparison.Ordinal))
                {
                    entries++;
                    continue;
                }
                bool stale = Path.GetFileName(path).Contains("stale", StringComparison.Ordinal);
                if (!stale) Assert.True(Target.Link(image!, LinkMode.Direct, StalePolicy.Strict) > 0, path);
                Assert.True(Target.Link(image!, LinkMode.HotSwappable, StalePolicy.Lenient) > 0, path);
                linked++;
            }
        }
        Assert.True(linked >= 20, $"only {linked} seeds were linked");
        Assert.True(entries >= 4, $"only {entries} team-cache entries among the seeds");
    }

    [Fact]
    public void Managed_memory_refuses_misuse_and_the_harness_budget()
    {
        var memory = new ManagedMemory(budget: 8 * 4096);
        Loader.Memory.MemoryRegion region = memory.Allocate(2 * 4096);
        Assert.Equal(0, region.Address % 4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.Protect(region, 100, 4096, Loader.Memory.PageProtection.ReadExecute));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.Allocate(100));
        Assert.Throws<HarnessLimitException>(() => memory.Allocate(8 * 4096));
        Assert.Throws<InvalidOperationException>(() => memory.Allocate(4L << 30));
        memory.Free(region);
        Assert.Throws<InvalidOperationException>(() => memory.Free(region));
        Assert.Equal(0, memory.LiveRegions);
    }

    /// <summary>The loop itself: a planted bug (any exception but the typed one) is a crash, saved and
    /// reported with its input; a slow input is a finding too.</summary>
    [Fact]
    public void The_loop_reports_and_saves_a_crash_and_a_slow_input()
    {
        byte[][] seeds = [[1, 2, 3], [0xAA, 0xBB]];
        string findings = Path.Combine(_directory.FullName, "findings");
        var crash = new InProcessFuzzer(input =>
        {
            // A target swallows the typed exception itself (Target.Run does): whatever reaches the loop is a crash.
            if (input.Span.IndexOf((byte)0xBB) >= 0) throw new IndexOutOfRangeException("planted");
        }, new CoverageMap())
        { Duration = TimeSpan.FromSeconds(5), FindingsDirectory = findings };
        FuzzReport report = crash.Run(seeds);
        Assert.NotNull(report.Finding);
        Assert.Equal("crash", report.Finding.Kind);
        Assert.Contains("planted", report.Finding.Detail);
        Assert.Equal(seeds[1], File.ReadAllBytes(report.Finding.SavedAs!));

        var slow = new InProcessFuzzer(_ => Thread.Sleep(30), new CoverageMap())
        { Duration = TimeSpan.FromSeconds(5), PerInputLimit = TimeSpan.FromMilliseconds(10) };
        Assert.Equal("slow", slow.Run(seeds).Finding?.Kind);
    }
}

/// <summary>
/// Findings the reader accepts but the loader crashed on, kept in fuzz/regressions (findings the reader must
/// refuse become spec vectors instead). Each must read, and load only to a typed refusal; memory is the
/// harness's, so a regression fails here instead of mapping gigabytes.
/// </summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string> Regressions =>
        [.. Directory.EnumerateFiles(SeedCorpus.RegressionDirectory(GoldenFile.RepositoryRoot()), "*.aotc").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)];

    private static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(SeedCorpus.RegressionDirectory(GoldenFile.RepositoryRoot()), name));

    [Theory]
    [MemberData(nameof(Regressions))]
    public void A_regression_reads_and_the_target_survives_it(string name)
    {
        byte[] bytes = Bytes(name);
        using (CacheImage.Read(bytes, ReadOptions.Full)) { }
        Target.Run(bytes);
    }

    /// <summary>Code and data below 2 GiB, plus a zero-fill area of 0x7FFFF000 bytes: a valid file whose module
    /// cannot fit one 2 GiB region. The loader used to map it and then fail with ArgumentOutOfRangeException.</summary>
    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    [Requirement("REL-9")]
    public void A_module_beyond_2_GiB_is_refused_before_anything_is_mapped(LinkMode mode)
    {
        using CacheImage image = CacheImage.Read(Bytes("zero-fill-beyond-2-gib.aotc"), ReadOptions.Full);
        Assert.Equal(0x7FFFF000, image.ZeroFillSize);
        var memory = new ManagedMemory(budget: 1L << 20);
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions
        {
            Memory = memory,
            LinkMode = mode,
            Host = new Loader.HostEnvironment { CpuFeatures = CpuFeatures.AllKnown },
        }));
        Assert.Equal(ErrorCode.RelocationOverflow, e.Code);
        Assert.Equal("REL-9", e.Requirement);
        Assert.Equal(0x4A4, e.Offset); // the last zero-fill object's size field
        Assert.Contains("2 GiB", e.Detail);
        Assert.Equal(0, memory.LiveRegions);
    }
}
