namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>
/// <c>--verify-cache</c> catches the most reported bug class of code caches: a cache key that misses an input
/// the code depends on. The tests make the key miss one on purpose (a hidden switch) and check that the bad
/// reuse is named — and that with the full key nothing is reported.
/// </summary>
public sealed class VerifyCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nib-verify-").FullName;
    private readonly string _source;

    public VerifyCacheTests()
    {
        _source = Path.Combine(_directory, "tour.nib");
        File.Copy(Path.Combine(Nib.ExamplesDirectory, "tour.nib"), _source);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (int Exit, string Out, string Err) Run(params string[] extra) =>
        Nib.Cli(["run", _source, "--cache-dir", Path.Combine(_directory, "cache"), .. extra]);

    [Fact]
    public void With_the_full_key_every_reused_function_matches_a_fresh_compile()
    {
        Assert.Equal(0, Run("-q").Exit);
        File.WriteAllText(_source, File.ReadAllText(_source).Replace("return sqrt(a * a + b * b);", "return sqrt(a * a + b * b) * 10.0;"));
        var (exit, output, errors) = Run("--verify-cache", "all");
        Assert.Equal(0, exit);
        Assert.Contains("\n50\n", output);
        Assert.Contains("verify-cache: 5 of 5 reused functions recompiled and compared", errors);
        Assert.Contains(": all identical", errors);
    }

    [Fact]
    public void A_key_without_the_codegen_options_reuses_stale_code_and_verify_cache_names_it()
    {
        Assert.Equal(0, Run("-q", "--key-omit", "codegen-options").Exit);
        // Calls to externs are now compiled through slots; the keys do not see it, so the thunk-style bodies are reused.
        var (exit, _, errors) = Run("--key-omit", "codegen-options", "--import-calls", "Slot", "--verify-cache", "all");
        Assert.Equal(AotCache.Demo.Program.ExitVerifyFailed, exit);
        Assert.Contains("0 compiled, 0 stale-recompiled, 6 reused", errors);
        foreach (string f in new[] { "hypot", "report", "main" }) // the functions that call externs
            Assert.Contains($"error: --verify-cache: '{f}': the cached body differs from a fresh compile", errors);
        foreach (string f in new[] { "fib", "is_prime", "count_primes" })
            Assert.DoesNotContain($"'{f}': the cached body differs", errors);
        Assert.Contains("6 of 6 reused functions recompiled and compared", errors);
        Assert.Contains("3 differ", errors);
    }

    [Fact]
    public void A_key_without_callee_signatures_is_caught_by_verify_cache_and_by_the_loader()
    {
        Assert.Equal(0, Run("-q", "--key-omit", "callee-signatures").Exit);
        File.WriteAllText(_source, File.ReadAllText(_source).Replace(
            "fn report(value: i64) -> i64 {\n    print_i64(value);\n    return value;",
            "fn report(value: i64) -> f64 {\n    print_i64(value);\n    return value as f64;"));
        var verify = Run("--key-omit", "callee-signatures", "--verify-cache", "all");
        Assert.Equal(AotCache.Demo.Program.ExitVerifyFailed, verify.Exit);
        Assert.Contains("error: --verify-cache: 'main': the cached body differs from a fresh compile (relocation", verify.Err);
        // Without --verify-cache the stale main is still never run: the loader refuses the file [LOAD-5].
        var run = Run("--key-omit", "callee-signatures");
        Assert.Equal(AotCache.Demo.Program.ExitLoadFailed, run.Exit);
        Assert.Contains("StaleCaller (205)", run.Err);
        Assert.Contains("main refers to report", run.Err);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public void A_sample_checks_the_requested_number_with_a_printed_seed_that_repeats_it()
    {
        string program = string.Join("\n", Enumerable.Range(0, 40).Select(i => $"fn f{i}(x: i64) -> i64 {{ return x + {i}; }}")) + "\nfn main() -> i64 { f3(1); return 0; }\n";
        File.WriteAllText(_source, program);
        Assert.Equal(0, Run("-q").Exit);
        var first = Run("-q", "--verify-cache", "7", "--verify-seed", "1234");
        Assert.Equal(0, first.Exit);
        Assert.Contains("verify-cache: 7 of 41 reused functions recompiled and compared (seed 1234): all identical", first.Err);
        Assert.Equal(2, Run("-q", "--verify-cache", "zero").Exit);
    }
}
