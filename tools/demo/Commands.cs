using System.Diagnostics;
using AotCache.Demo.Build;
using AotCache.Demo.Generator;
using AotCache.Demo.Language;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;

namespace AotCache.Demo;

/// <summary>The commands of <see cref="Program"/>, one method each.</summary>
internal static class Commands
{
    public static int Check(FileInfo file, TextWriter stdout, TextWriter stderr)
    {
        if (ReadSource(file, stderr) is not { } source) return Program.ExitUsage;
        try
        {
            ProgramAnalysis analysis = ProgramAnalysis.Analyze(source.Text, new HostLibrary(TextWriter.Null));
            stdout.WriteLine($"{source.Path}: ok ({analysis.Functions.Count} functions, {analysis.Table.Imports.Count} externs, {analysis.Table.Globals.Count} globals)");
            return Program.ExitOk;
        }
        catch (CompileErrorException e)
        {
            Report(e, stderr, built: false);
            return Program.ExitCompileError;
        }
    }

    public static int Build(BuildRequest request, TextWriter stdout, TextWriter stderr, bool interactive) =>
        BuildAndVerify(request, new HostLibrary(stdout), stderr, interactive, requireMain: false, out _, out _);

    public static int Run(BuildRequest request, bool watch, TextWriter stdout, TextWriter stderr, bool interactive, bool lazy = false)
    {
        if (lazy && watch) throw new UsageException("--lazy and --watch cannot be combined: --watch recompiles what changed as you save");
        var host = new HostLibrary(stdout);
        int status = BuildAndVerify(request, host, stderr, interactive, requireMain: true, out ProgramAnalysis? analysis, out BuildResult? build,
            needAnalysis: watch || lazy, deferStale: lazy);
        if (status != Program.ExitOk)
        {
            build?.ValidatedImage?.Dispose();
            return status;
        }
        if (watch) return WatchSession.RunLoop(request, analysis!, build!, host, stdout, stderr);
        var clock = Stopwatch.StartNew();
        using CacheImage? validated = build!.ValidatedImage; // the build validated the file it did not change: load that
        LoadedModule module;
        try
        {
            module = lazy ? ProgramRunner.LoadLazily(build.CachePath, host, analysis!, request.PerfMap)
                : validated is not null ? ProgramRunner.Load(validated, host, perfMap: request.PerfMap)
                : ProgramRunner.Load(build.CachePath, host, perfMap: request.PerfMap);
        }
        catch (AotCacheException e)
        {
            stderr.WriteLine($"error: the cache {build.CachePath} cannot be loaded: {e.Message}");
            return Program.ExitLoadFailed;
        }
        using (module)
        {
            if (!request.Quiet) stderr.WriteLine($"load: {module.Image.Functions.Length} functions mapped and linked in {clock.Elapsed.TotalMilliseconds:F2} ms" +
                (lazy ? $" (lenient: {build.Deferred} stale function{(build.Deferred == 1 ? "" : "s")} compiled on their first call)" : ""));
            try
            {
                long result = ProgramRunner.RunMain(module);
                stdout.Flush();
                // main's result is printed, never made the exit code: it would collide with the tool's own codes (1-4).
                stderr.WriteLine($"main returned {result}");
                return Program.ExitOk;
            }
            catch (AotCacheException e)
            {
                stdout.Flush();
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitLoadFailed;
            }
            finally
            {
                if (lazy && !request.Quiet) stderr.WriteLine(LazySummary(build, module.CompiledOnCall));
            }
        }
    }

    /// <summary><c>lazy: compiled on call 1 of 2 deferred: used; never called: unused</c>.</summary>
    internal static string LazySummary(BuildResult build, IReadOnlyCollection<string> compiledOnCall)
    {
        var deferred = build.Named(FunctionOutcome.Deferred).ToList();
        var notCalled = deferred.Where(n => !compiledOnCall.Contains(n)).ToList();
        return $"lazy: compiled on call {compiledOnCall.Count} of {deferred.Count} deferred" +
            (compiledOnCall.Count > 0 ? $": {string.Join(", ", compiledOnCall)}" : "") +
            (notCalled.Count > 0 ? $"; never called, not compiled: {string.Join(", ", notCalled)}" : "");
    }

    /// <summary>Builds (incrementally when the cache allows), and with <c>--verify-cache</c> verifies; prints diagnostics,
    /// warnings and the summary. Verification and watching need the whole program analyzed, so they take the full path.</summary>
    public static int BuildAndVerify(BuildRequest request, HostLibrary host, TextWriter stderr, bool interactive, bool requireMain,
        out ProgramAnalysis? analysis, out BuildResult? build, bool needAnalysis = false, bool deferStale = false)
    {
        analysis = null;
        build = null;
        if (ReadSource(request.File, stderr) is not { } file) return Program.ExitUsage;
        int? sample = request.Verify ? request.VerifySample : 0; // parse the option before any work
        var progress = new ProgressBar(stderr, interactive);
        if (request.Remote is not null && request.KeyInputs != KeyInputs.All)
            stderr.WriteLine("warning: the remote cache is not used: --key-omit leaves inputs out of the cache keys, and such keys must not be shared");
        using RemoteFunctionCache? remote = request.KeyInputs == KeyInputs.All ? request.Remote?.Open(request.Codegen) : null;
        var options = new BuildOptions
        {
            CacheDirectory = request.CacheDirectoryPath,
            Codegen = request.Codegen,
            KeyInputs = request.KeyInputs,
            Progress = progress,
            AllowIncremental = !request.Verify && !needAnalysis,
            KeepValidatedImage = requireMain && !needAnalysis, // run: load what the build validated
            Remote = remote,
            DeferStale = deferStale,
        };
        try
        {
            (build, analysis) = BuildEngine.Build(file, host, options, requireMain);
        }
        catch (CompileErrorException e)
        {
            Report(e, stderr, built: true);
            return Program.ExitCompileError;
        }
        catch (IOException e)
        {
            stderr.WriteLine($"error: cannot write the cache in {request.CacheDirectoryPath}: {e.Message}");
            return Program.ExitUsage;
        }
        finally
        {
            progress.Finish();
        }
        foreach (string warning in build.Warnings) stderr.WriteLine($"warning: {warning}");
        // One line however many functions the fault touched [RMT-14]; the build went on offline.
        if (remote?.Warning is { } remoteWarning) stderr.WriteLine($"warning: {remoteWarning}");
        if (!request.Quiet)
        {
            stderr.WriteLine(build.Summary());
            if (remote is not null) stderr.WriteLine(remote.Summary(build.Reused, build.Compiled + build.StaleRecompiled));
            foreach (FunctionReport f in build.Changed.Take(20))
                stderr.WriteLine($"  {f.Outcome switch { FunctionOutcome.Compiled => "compiled", FunctionOutcome.Fetched => "fetched ", FunctionOutcome.Deferred => "deferred", _ => "stale   " }} {f.Name}: {f.Reason}");
            if (build.Changed.Count > 20) stderr.WriteLine($"  ... and {build.Changed.Count - 20} more");
        }
        if (!request.Verify) return Program.ExitOk;
        int seed = request.VerifySeed ?? Random.Shared.Next();
        VerifyReport report = CacheVerifier.Verify(analysis!, build, sample, seed);
        foreach (CacheMismatch m in report.Mismatches) stderr.WriteLine($"error: --verify-cache: {m}");
        stderr.WriteLine($"verify-cache: {report.Checked} of {report.Reused} {(build.Fetched > 0 ? "reused and fetched" : "reused")} functions recompiled and compared (seed {report.Seed}): " +
            (report.Passed ? "all identical" : $"{report.Mismatches.Count} differ"));
        return report.Passed ? Program.ExitOk : Program.ExitVerifyFailed;
    }

    public static int Generate(GeneratorOptions options, FileInfo? output, TextWriter stdout, TextWriter stderr)
    {
        if (options.Functions < 2)
        {
            stderr.WriteLine("error: --functions must be at least 2");
            return Program.ExitUsage;
        }
        string text = ProgramGenerator.Generate(options);
        if (output is null)
        {
            stdout.Write(text);
            return Program.ExitOk;
        }
        Writer.AtomicFile.Write(output.FullName, System.Text.Encoding.UTF8.GetBytes(text));
        stderr.WriteLine($"wrote {output.FullName}: {options.Functions} functions, {text.Length / 1024} KiB");
        return Program.ExitOk;
    }

    internal static SourceFile? ReadSource(FileInfo file, TextWriter stderr)
    {
        string shown = Path.GetRelativePath(Environment.CurrentDirectory, file.FullName);
        try
        {
            return SourceFile.Open(shown, file.FullName); // read when needed: a warm run only hashes it
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot read {shown}: {e.Message}");
            return null;
        }
    }

    /// <summary>The diagnostics, then a count; <paramref name="built"/>: the command was to build (<c>build</c>, <c>run</c>), so
    /// the count says nothing was (<c>check</c> builds nothing anyway).</summary>
    internal static void Report(CompileErrorException e, TextWriter stderr, bool built)
    {
        foreach (Diagnostic d in e.Diagnostics.Take(50)) stderr.WriteLine(d);
        if (e.Diagnostics.Count > 50) stderr.WriteLine($"... and {e.Diagnostics.Count - 50} more errors");
        string count = $"{e.Diagnostics.Count} error{(e.Diagnostics.Count == 1 ? "" : "s")}";
        stderr.WriteLine(built ? $"{count}; nothing was built" : $"check: {count}");
    }
}
