using System.Diagnostics;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Demo.Language;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.Demo.Build;

/// <summary>Where and how to build.</summary>
public sealed record BuildOptions
{
    /// <summary>The cache directory; the cache file is <c>&lt;module&gt;.aotc</c> in it.</summary>
    public required string CacheDirectory { get; init; }

    public CodegenSettings Codegen { get; init; } = CodegenSettings.Default;

    /// <summary>Inputs of the cache keys. Anything but <see cref="KeyInputs.All"/> is for tests of <c>--verify-cache</c>.</summary>
    public KeyInputs KeyInputs { get; init; } = KeyInputs.All;

    /// <summary>Reports the compile step's progress.</summary>
    public IProgress<BuildProgress>? Progress { get; init; }

    /// <summary><c>run --lazy</c>: functions that are stale only because a declaration they use changed (their own source did
    /// not) are carried into the cache as they are, still stale, instead of recompiled (<see cref="FunctionOutcome.Deferred"/>);
    /// a lenient load compiles them on their first call. The index then records no source hash, so the next build
    /// checks every function again. Takes the full path.</summary>
    public bool DeferStale { get; init; }

    /// <summary>False forces the full path (for tests comparing the two).</summary>
    public bool AllowIncremental { get; init; } = true;

    /// <summary>When the build leaves the cache file as it was, hand its validated image over
    /// (<see cref="BuildResult.ValidatedImage"/>; the caller disposes it), so that a run loads it without reading and
    /// validating the file a second time.</summary>
    public bool KeepValidatedImage { get; init; }

    /// <summary>A team cache between the local cache and the compiler: functions the local cache does not have are
    /// fetched from it, and functions compiled are uploaded to it. Used only with <see cref="KeyInputs.All"/>: a key that
    /// misses an input must not be shared. Null: offline.</summary>
    public RemoteFunctionCache? Remote { get; init; }

    /// <summary>The remote cache when its keys are complete.</summary>
    internal RemoteFunctionCache? UsableRemote => KeyInputs == KeyInputs.All ? Remote : null;
}

/// <summary>
/// Builds a program into its cache file, compiling only what changed. A function's cached body is reused
/// when the content hash in its function record equals the function's current cache key
/// (<see cref="CacheKey"/>); everything else is compiled with the Iced backend. Two paths give the same bytes:
/// the incremental one (<see cref="IncrementalBuild"/>) parses only what changed and edits the previous file;
/// the full one parses everything and lays the file out anew, carrying unchanged bodies. Files are replaced
/// atomically; a cache that cannot be used (damaged, foreign, another compiler) is a miss with a warning.
/// </summary>
public static class BuildEngine
{
    /// <summary>The producer string written into cache files.</summary>
    public const string Producer = "nib (" + CacheKey.CompilerVersion + ")";

    public const string CompilerFingerprintKey = "nib.compiler";
    public const string CodegenFingerprintKey = "nib.codegen";

    /// <summary>The fingerprint components every cache file and every remote entry of these settings carries.</summary>
    public static IReadOnlyList<AotCache.Remote.FingerprintSetting> FingerprintSettings(CodegenSettings codegen) =>
    [
        AotCache.Remote.FingerprintSetting.OfString(CompilerFingerprintKey, CacheKey.CompilerVersion, MatchRule.Equal),
        AotCache.Remote.FingerprintSetting.OfString(CodegenFingerprintKey, codegen.ToString(), MatchRule.Informational),
    ];

    /// <summary>The canonical fingerprint of a build with these settings (REMOTE.md §2.5): part of every remote key.</summary>
    public static AotCache.Remote.RemoteFingerprint FingerprintOf(CodegenSettings codegen) =>
        AotCache.Remote.RemoteFingerprint.Of(FingerprintSettings(codegen));

    /// <summary>The host values a loader needs for the fingerprint components this front end writes.</summary>
    public static HostEnvironment Host { get; } = HostEnvironment.Current with
    {
        Fingerprint = new Dictionary<string, FingerprintValue> { [CompilerFingerprintKey] = FingerprintValue.String(CacheKey.CompilerVersion) },
    };

    public static string CachePathOf(string sourcePath, string cacheDirectory) =>
        Path.Combine(cacheDirectory, ProgramAnalysis.ModuleNameOf(sourcePath) + ".aotc");

    /// <summary>Builds a source file, incrementally when the cache allows. The analysis is returned when the full
    /// path ran (the incremental one does not analyze the whole program).</summary>
    public static (BuildResult Result, ProgramAnalysis? Analysis) Build(SourceFile file, HostLibrary host, BuildOptions options, bool requireMain = false)
    {
        var clock = Stopwatch.StartNew();
        var warnings = new List<string>();
        string path = CachePathOf(file.Path, options.CacheDirectory);
        CacheImage? previous = OpenPrevious(path, warnings);
        try
        {
            NibIndex? index = previous is null ? null : NibIndex.Read(previous);
            // The team cache's module entries (REMOTE.md §10). Verifying and watching need the analysis, and a build that
            // defers stale functions writes a file that depends on the previous one, so they neither fetch nor upload one.
            bool incrementalAllowed = options.AllowIncremental && !options.DeferStale;
            RemoteModuleCache? modules = incrementalAllowed ? options.UsableRemote?.Modules : null;
            if (incrementalAllowed && previous is not null && index is not null
                && IncrementalBuild.TryBuild(file, options, previous, index, path, requireMain, warnings) is { } incremental)
            {
                if (incremental.CacheWritten && modules is not null)
                    ModuleEntryBuild.Upload(file, modules, modules.KeyOf(file, host), options, path);
                return (Keep(incremental, options, ref previous), null);
            }
            // The local cache cannot give this build alone: the module entry of this exact program may, without analysing
            // anything.
            RemoteModuleKey? moduleKey = modules?.KeyOf(file, host);
            if (moduleKey is not null && ModuleEntryBuild.TryBuild(file, modules!, moduleKey, options, path, requireMain, warnings) is { } fromModule)
                return (fromModule, null);
            ProgramAnalysis analysis = ProgramAnalysis.Analyze(file.Text, host, options.Codegen, options.KeyInputs, options.Progress);
            if (requireMain) ProgramRunner.CheckMain(analysis);
            BuildResult built = BuildFull(analysis, options, previous, index, path, warnings, clock.Elapsed);
            if (moduleKey is not null && built.CacheWritten) ModuleEntryBuild.Upload(file, modules!, moduleKey, options, path);
            return (Keep(built, options, ref previous), analysis);
        }
        finally
        {
            previous?.Dispose();
        }
    }

    /// <summary>The result, carrying the previous image when the file was not rewritten and the caller asked for it.</summary>
    private static BuildResult Keep(BuildResult result, BuildOptions options, ref CacheImage? previous)
    {
        if (!options.KeepValidatedImage || result.CacheWritten || previous is null) return result;
        CacheImage image = previous;
        previous = null; // the caller owns it now
        return result with { ValidatedImage = image };
    }

    /// <summary>Analyzes and builds <paramref name="source"/>.</summary>
    public static BuildResult Build(SourceText source, HostLibrary host, BuildOptions options) =>
        Build(SourceFile.FromText(source), host, options).Result;

    /// <summary>Builds an analyzed program through the full path.</summary>
    public static BuildResult Build(ProgramAnalysis analysis, BuildOptions options, TimeSpan analyzeTime = default)
    {
        var warnings = new List<string>();
        string path = CachePathOf(analysis.Source.Path, options.CacheDirectory);
        using CacheImage? previous = OpenPrevious(path, warnings);
        return BuildFull(analysis, options, previous, previous is null ? null : NibIndex.Read(previous), path, warnings, analyzeTime);
    }

    private static BuildResult BuildFull(ProgramAnalysis analysis, BuildOptions options, CacheImage? previous, NibIndex? index, string path,
        List<string> warnings, TimeSpan analyzeTime)
    {
        var clock = Stopwatch.StartNew();
        byte[] utf8 = SourceFile.FromText(analysis.Source).Utf8;
        ulong sourceHash = SourceSegments.Hash(utf8);

        var changed = new List<FunctionReport>();
        var reuse = new int[analysis.Functions.Count];
        for (int k = 0; k < analysis.Functions.Count; k++)
        {
            AnalyzedFunction f = analysis.Functions[k];
            int old = previous?.FindFunction(f.Name) ?? -1;
            reuse[k] = old >= 0 && previous!.Functions[old].ContentHash == f.Key && CanCarry(previous, old, analysis.Table) ? old : -1;
            if (reuse[k] >= 0) continue;
            FunctionReport report = Classify(f.Name, f.Bound.References, f.TokenHash, previous, old, index, analysis.Table);
            if (options.DeferStale && report.Outcome == FunctionOutcome.StaleRecompiled && CanCarry(previous!, old, analysis.Table))
            {
                reuse[k] = old; // carried still stale: the lenient loader compiles it if it is called
                report = report with { Outcome = FunctionOutcome.Deferred };
            }
            changed.Add(report);
        }
        int reused = analysis.Functions.Count - changed.Count;
        // A cache holding stale bodies must not look up to date to the next build's "same source" shortcuts.
        if (changed.Any(c => c.Outcome == FunctionOutcome.Deferred)) sourceHash = 0;

        // Nothing changed at all: same source bytes, same settings, and every body current.
        if (index is not null && changed.Count == 0 && index.SourceHash == sourceHash && previous!.Functions.Length == analysis.Functions.Count
            && index.KeyInputs == analysis.KeyInputs && index.SettingsHash == NibIndex.HashSettings(analysis.Codegen))
            return new BuildResult(path, changed, reused, warnings, false, false, analyzeTime, clock.Elapsed, TimeSpan.Zero);

        byte[] file = Write(analysis, previous, reuse, utf8, sourceHash, options.Progress, options.UsableRemote, out HashSet<string> fetched);
        if (fetched.Count > 0)
            for (int i = 0; i < changed.Count; i++)
                if (fetched.Contains(changed[i].Name)) changed[i] = changed[i] with { Outcome = FunctionOutcome.Fetched };
        TimeSpan compileTime = clock.Elapsed;
        clock.Restart();
        SpareWriteResult written = AtomicFile.WriteReusingSpare(path, [file]);
        return new BuildResult(path, changed, reused, warnings, true, false, analyzeTime, compileTime, clock.Elapsed)
        { Write = written };
    }

    /// <summary>The cache at <paramref name="path"/> if it is valid, for this target and written by this compiler; otherwise
    /// null, with a warning saying why it is not used.</summary>
    public static CacheImage? OpenPrevious(string path, List<string> warnings)
    {
        if (!File.Exists(path)) return null;
        CacheImage image;
        try
        {
            image = CacheImage.OpenFile(path);
        }
        catch (AotCacheException e)
        {
            warnings.Add($"the cache {path} is unusable, rebuilding it: {e.Message}");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"the cache {path} cannot be read, rebuilding it: {e.Message}");
            return null;
        }
        string? compiler = FingerprintText(image, CompilerFingerprintKey);
        if (image.Architecture != Host.Architecture || image.Abi != Host.Abi || image.Os != Host.Os || compiler != CacheKey.CompilerVersion)
        {
            warnings.Add($"the cache {path} was written by another compiler or for another target " +
                $"(producer '{image.Producer}', compiler '{compiler ?? "unknown"}', {image.Architecture}/{image.Abi}/{image.Os}), rebuilding it");
            image.Dispose();
            return null;
        }
        return image;
    }

    /// <summary>Whether every reference of a cached function still names a symbol of the same kind.</summary>
    private static bool CanCarry(CacheImage previous, int function, IDeclarations declarations)
    {
        foreach (RelocationRecord r in previous.RelocationsOf(previous.Functions[function]))
        {
            if (!declarations.TryGet(previous.SymbolName((int)r.Target), out Declaration? d)) return false;
            SymbolKind kind = previous.Symbols[(int)r.Target].Kind;
            bool same = d.Kind switch
            {
                DeclarationKind.Function => kind == SymbolKind.Function,
                DeclarationKind.Extern => kind == SymbolKind.ImportFunction,
                _ => kind == SymbolKind.Data,
            };
            if (!same) return false;
        }
        return true;
    }

    /// <summary>Why a function must be compiled: new, edited, or stale (its own tokens unchanged, a declaration it uses changed).</summary>
    internal static FunctionReport Classify(string name, IReadOnlyList<string> references, UInt128 tokenHash, CacheImage? previous, int old,
        NibIndex? index, IDeclarations declarations)
    {
        if (previous is null) return new FunctionReport(name, FunctionOutcome.Compiled, "no usable cache");
        if (old < 0) return new FunctionReport(name, FunctionOutcome.Compiled, "new function");
        if (index is null || index.TokenHash(old) != tokenHash) return new FunctionReport(name, FunctionOutcome.Compiled, "source changed");
        return new FunctionReport(name, FunctionOutcome.StaleRecompiled, StaleReason(references, previous, old, index, declarations));
    }

    /// <summary>Names the changed declaration that made an unedited function stale.</summary>
    private static string StaleReason(IReadOnlyList<string> references, CacheImage previous, int old, NibIndex index, IDeclarations declarations)
    {
        foreach (string name in references)
        {
            declarations.TryGet(name, out Declaration? now);
            int symbol = previous.FindSymbol(name);
            if (now is null || symbol < 0) return $"refers to '{name}', which is new";
            SymbolRecord s = previous.Symbols[symbol];
            if (now.IsFunction)
            {
                if (s.Kind is not (SymbolKind.Function or SymbolKind.ImportFunction)) return $"'{name}' is now {now.Describe()}";
                Signature before = previous.GetSignature((int)s.Declaration);
                if (!before.Equals(now.Signature)) return $"calls '{name}', whose signature changed from {before} to {now.Signature}";
                if ((s.Kind == SymbolKind.ImportFunction) != (now.Kind == DeclarationKind.Extern)) return $"'{name}' is now {now.Describe()}";
            }
            else if (!index.TryGetGlobal(name, out IrType type, out bool writable) || type != now.GlobalType || writable != now.Writable)
                return $"uses global '{name}', now declared {now.Describe()}";
        }
        // Nothing changed since the previous file, but its body there was already stale (carried by run --lazy).
        foreach (RelocationRecord r in previous.RelocationsOf(previous.Functions[old]))
        {
            SymbolRecord target = previous.Symbols[(int)r.Target];
            if (r.ExpectedSignatureHash == 0 || !RelocationRules.IsCallable(target.Kind)) continue;
            if (previous.Declarations[(int)target.Declaration].SignatureHash != r.ExpectedSignatureHash)
                return $"still stale from an earlier --lazy build: calls '{previous.SymbolName((int)r.Target)}' compiled against " +
                    $"{StaleAnalysis.SignatureText(previous, r.ExpectedSignatureHash)}, now {previous.GetSignature((int)target.Declaration)}";
        }
        return "a declaration it uses changed";
    }

    private static string? FingerprintText(CacheImage image, string key)
    {
        foreach (FingerprintComponent c in image.Fingerprint)
            if (image.GetString(c.Key) == key && c.ValueKind == FingerprintValueKind.String)
                return image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32)));
        return null;
    }

    /// <summary>Lays out the new cache: reused bodies carried from <paramref name="previous"/>, the others fetched from the
    /// remote cache when it has them (named in <paramref name="fetched"/>), the rest compiled (and uploaded).</summary>
    private static byte[] Write(ProgramAnalysis analysis, CacheImage? previous, int[] reuse, byte[] utf8, ulong sourceHash, IProgress<BuildProgress>? progress,
        RemoteFunctionCache? remote, out HashSet<string> fetched)
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64)
        {
            Producer = Producer,
            ModuleName = analysis.ModuleName,
            // The table then depends on the program alone, so an incremental edit writes what a cold build would.
            DeclarationOrder = DeclarationOrder.ByEncoding,
        };
        var handles = new Dictionary<string, SymbolHandle>(StringComparer.Ordinal);
        foreach (IrImport i in analysis.Table.Imports)
            builder.AddImportFunction(i.Name, builder.AddDeclaration(IrCompiler.SignatureOf(i.Parameters, i.Result)));
        foreach (IrGlobal g in analysis.Table.Globals)
            builder.AddData(g.Name, g.Writable ? DataKind.Writable : DataKind.ReadOnly,
                BitConverter.GetBytes(g.InitialBits), alignment: 8, contentHash: CacheKey.OfGlobal(g));
        foreach (AnalyzedFunction f in analysis.Functions)
            handles[f.Name] = builder.DeclareFunction(f.Name, builder.AddDeclaration(IrCompiler.SignatureOf(f.Bound.Ir.Parameters, f.Bound.Ir.Result)));
        foreach (var setting in FingerprintSettings(analysis.Codegen))
            builder.AddFingerprint(setting.Key, setting.Text!, setting.Match);

        // What the local cache lacks, the remote cache may have: fetched bodies are checked against the builder, the
        // scope they are defined in, and then defined exactly like carried ones.
        fetched = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<int>();
        for (int k = 0; k < reuse.Length; k++) if (reuse[k] < 0) missing.Add(k);
        FunctionBody?[] remoteBodies = remote is null || missing.Count == 0 ? []
            : remote.Fetch([.. missing.Select(k => new RemoteRequest(analysis.Functions[k].Name, analysis.Functions[k].Key))], builder);
        var fromRemote = new FunctionBody?[analysis.Functions.Count];
        for (int m = 0; m < remoteBodies.Length; m++)
            if (remoteBodies[m] is { } body)
            {
                fromRemote[missing[m]] = body;
                fetched.Add(analysis.Functions[missing[m]].Name);
            }

        // Reused bodies move as they are; the rest are compiled against the builder, which holds every declaration.
        var checker = new IrChecker(analysis.Module, checkBodies: false);
        int toCompile = missing.Count - fetched.Count, compiled = 0;
        // Entries are written and sent while the next functions compile; the program's scope does not change meanwhile.
        using RemoteUpload? upload = remote is null || toCompile == 0 ? null : remote.BeginUpload(analysis.Scope);
        for (int k = 0; k < analysis.Functions.Count; k++)
        {
            AnalyzedFunction f = analysis.Functions[k];
            if (reuse[k] >= 0)
            {
                builder.DefineFunction(handles[f.Name], previous!.GetFunctionBody(reuse[k]));
                continue;
            }
            if (fromRemote[k] is { } remoteBody)
            {
                builder.DefineFunction(handles[f.Name], remoteBody);
                continue;
            }
            FunctionBody body = analysis.Compile(f, checker, builder);
            builder.DefineFunction(handles[f.Name], body);
            upload?.Add(f.Name, body);
            progress?.Report(new BuildProgress(++compiled, toCompile));
        }
        upload?.Complete();
        var tokenHashes = analysis.Functions.Select(f => f.TokenHash).ToArray();
        List<Segment> segments = SourceSegments.Compute(analysis.Syntax, utf8);
        builder.AddPrivateSection(NibIndex.SectionKind, NibIndex.Write(tokenHashes, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(segments),
            [.. analysis.Table.Globals.OrderBy(g => g.Name, StringComparer.Ordinal)], sourceHash, analysis.Codegen, analysis.KeyInputs));
        return builder.ToArray();
    }
}
