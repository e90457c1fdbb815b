using System.Diagnostics;

namespace AotCache.Demo;

/// <summary>
/// The main job with no arguments: runs <c>examples/tour.nib</c> through a cache several times, each time in a
/// fresh process that has only the source and the cache directory, and edits it between runs, printing what
/// each run compiled, reused or found stale.
/// </summary>
internal static class Tour
{
    public static int Run(TextWriter stdout, TextWriter stderr)
    {
        string example = Path.Combine(AppContext.BaseDirectory, "examples", "tour.nib");
        string work = Directory.CreateTempSubdirectory("aotcache-tour-").FullName;
        string program = Path.Combine(work, "tour.nib");
        string cache = Path.Combine(work, ".aotcache");
        File.Copy(example, program);
        stdout.WriteLine($"AotCache tour: a small language compiled to x86-64 with Iced, cached in {cache}.");
        stdout.WriteLine($"Every run below is a fresh process (this one is {Environment.ProcessId}); the cache file is all they share.");

        int failures = 0;
        failures += Step(stdout, stderr, "1. First run: the cache is empty, so every function is compiled and the cache is written.", program, cache);
        failures += Step(stdout, stderr, "2. Second run: the cache is loaded and called; nothing is compiled.", program, cache);

        Edit(program, "return sqrt(a * a + b * b);", "return sqrt(a * a + b * b) * 10.0;");
        failures += Step(stdout, stderr, "3. Edit the body of hypot (now scaled by 10): only hypot is recompiled.", program, cache);

        Edit(program, "fn report(value: i64) -> i64 {\n    print_i64(value);\n    return value;",
                      "fn report(value: i64) -> f64 {\n    print_i64(value);\n    return value as f64;");
        failures += Step(stdout, stderr, "4. Change the result type of report: report is recompiled, and so is main, whose calls\n" +
            "   were compiled against the old signature (stale), although main's text did not change.", program, cache);
        failures += Step(stdout, stderr, "5. --verify-cache all: recompile every reused function and compare it with its cached body.",
            program, cache, "--verify-cache", "all");

        stdout.WriteLine();
        if (!Native)
        {
            // The warm runs above are mostly the JIT's own start-up: the cache load is a few milliseconds of each.
            stdout.WriteLine("These processes ran under the JIT: most of each one's time is .NET starting and compiling the toolkit itself,");
            stdout.WriteLine("not loading the cache (see the 'load:' lines). tools/demo/nib.sh publishes nib as a NativeAOT executable once");
            stdout.WriteLine("and runs that instead: a warm run then takes a few milliseconds.");
        }
        stdout.WriteLine($"Inspect the cache: dotnet run --project tools/cachedump -- {Path.Combine(cache, "tour.aotc")}");
        stdout.WriteLine($"Edit and re-run it yourself: {(Native ? "tools/demo/nib.sh" : "dotnet run --project tools/demo --")} run {program} [--watch]");
        stdout.WriteLine(failures == 0 ? "tour complete" : $"tour FAILED: {failures} step(s) did not succeed");
        return failures == 0 ? Program.ExitOk : Program.ExitLoadFailed;
    }

    /// <summary>Whether this is the NativeAOT executable (no JIT): its child processes are native too.</summary>
    private static bool Native => !System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported;

    private static void Edit(string path, string before, string after)
    {
        string text = File.ReadAllText(path);
        if (!text.Contains(before, StringComparison.Ordinal))
            throw new InvalidOperationException($"the tour's example no longer contains '{before}'");
        File.WriteAllText(path, text.Replace(before, after, StringComparison.Ordinal));
    }

    /// <summary>Runs <c>nib run PROGRAM</c> in a child process and shows its output; 1 if it failed.</summary>
    private static int Step(TextWriter stdout, TextWriter stderr, string title, string program, string cache, params string[] extra)
    {
        stdout.WriteLine();
        stdout.WriteLine(title);
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(Tour).Assembly.GetName().Name + ".dll"));
        foreach (string a in (string[])["run", program, "--cache-dir", cache, .. extra]) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using Process child = Process.Start(start)!;
        // Both pipes are drained at once, so a chatty child cannot block on a full pipe.
        Task<string> errors = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        // The build's report (standard error) comes first: the build happens before the program runs.
        foreach (string line in errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)) stdout.WriteLine($"   build   | {line}");
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) stdout.WriteLine($"   program | {line}");
        stdout.WriteLine($"   process {child.Id} exited with {child.ExitCode} after {clock.Elapsed.TotalMilliseconds:F0} ms " +
            (Native ? "(a native executable)" : "(including .NET start-up and JIT compilation)"));
        if (child.ExitCode == 0) return 0;
        stderr.WriteLine($"tour: step failed: {title.Split('\n')[0]}");
        return 1;
    }
}
