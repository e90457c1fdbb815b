using System.Diagnostics;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Demo.Language;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Loader;
using AotCache.Loader.HotSwap;
using AotCache.Writer;

namespace AotCache.Demo.Build;

/// <summary>What one change of the watched file did.</summary>
public sealed record WatchUpdate(
    IReadOnlyList<string> Redefined, IReadOnlyList<string> Added, IReadOnlyList<string> Removed,
    bool Reloaded, IReadOnlyList<Diagnostic> Errors, IReadOnlyList<StaleFunction> Refused, TimeSpan Elapsed)
{
    /// <summary>What rebuilding the cache on disk wrote (null when the change did not compile).</summary>
    public BuildResult? Build { get; init; }

    public bool Applied => Errors.Count == 0 && Refused.Count == 0;

    public override string ToString() =>
        Errors.Count > 0 ? $"not applied: {Errors.Count} error{(Errors.Count == 1 ? "" : "s")}; the running program is unchanged"
        : Refused.Count > 0 ? $"refused by the module: {string.Join("; ", Refused)}"
        : Reloaded ? $"globals or externs changed: reloaded the module from the rebuilt cache in {Elapsed.TotalMilliseconds:F1} ms"
        : $"hot-swapped {Redefined.Count} redefined, {Added.Count} added, {Removed.Count} removed in {Elapsed.TotalMilliseconds:F1} ms" +
          (Redefined.Count + Added.Count + Removed.Count == 0 ? " (no code changed)" : $": {string.Join(", ", Redefined.Concat(Added).Concat(Removed))}");
}

/// <summary>
/// <c>run --watch</c>: the program stays loaded (hot-swappable linking) while its source is edited. Each change
/// is analyzed; the functions whose cache key changed are compiled and swapped in with one update
/// transaction, so callers of a changed signature are swapped together with it or the update is refused;
/// writable globals keep their values. The cache on disk is rebuilt too, so the next start is warm. A change
/// to globals or externs cannot be swapped into a running module: the module is reloaded from the new cache.
/// </summary>
public sealed class WatchSession : IDisposable
{
    private readonly BuildRequest _request;
    private readonly HostLibrary _host;
    private ProgramAnalysis _analysis;
    private string _cachePath;
    private LoadedModule _module;

    public WatchSession(BuildRequest request, ProgramAnalysis analysis, BuildResult build, HostLibrary host)
    {
        _request = request;
        _host = host;
        _analysis = analysis;
        _cachePath = build.CachePath;
        _module = ProgramRunner.LoadCopy(_cachePath, host, LinkMode.HotSwappable, request.PerfMap);
    }

    /// <summary>The running module (it changes only when an update must reload).</summary>
    public LoadedModule Module => _module;

    public ProgramAnalysis Analysis => _analysis;

    public long RunMain() => ProgramRunner.RunMain(_module);

    /// <summary>Reads the watched file; if its text changed, applies the change. Null when nothing changed (or the
    /// file could not be read this time, e.g. while an editor replaces it).</summary>
    public WatchUpdate? Poll()
    {
        string text;
        try
        {
            text = File.ReadAllText(_request.File.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return text == _analysis.Source.Text ? null : Apply(text);
    }

    /// <summary>Applies new source text to the running program.</summary>
    public WatchUpdate Apply(string text)
    {
        var clock = Stopwatch.StartNew();
        var source = new SourceText(_analysis.Source.Path, text);
        ProgramAnalysis next;
        try
        {
            next = ProgramAnalysis.Analyze(source, _host, _request.Codegen, _request.KeyInputs);
            ProgramRunner.CheckMain(next);
        }
        catch (CompileErrorException e)
        {
            return new WatchUpdate([], [], [], false, e.Diagnostics, [], clock.Elapsed);
        }

        BuildResult build = BuildEngine.Build(next, new BuildOptions { CacheDirectory = _request.CacheDirectoryPath, Codegen = _request.Codegen, KeyInputs = _request.KeyInputs });
        if (!SameDataAndImports(_analysis, next))
        {
            LoadedModule reloaded = ProgramRunner.LoadCopy(build.CachePath, _host, LinkMode.HotSwappable, _request.PerfMap);
            _module.Dispose();
            _module = reloaded;
            _analysis = next;
            _cachePath = build.CachePath;
            return new WatchUpdate([], [], [], true, [], [], clock.Elapsed) { Build = build };
        }

        var before = _analysis.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var after = next.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var redefined = next.Functions.Where(f => before.TryGetValue(f.Name, out var old) && old.Key != f.Key).Select(f => f.Name).ToList();
        var added = next.Functions.Where(f => !before.ContainsKey(f.Name)).Select(f => f.Name).ToList();
        var removed = _analysis.Functions.Where(f => !after.ContainsKey(f.Name)).Select(f => f.Name).ToList();

        UpdateTransaction update = _module.BeginUpdate();
        var checker = new IrChecker(next.Module, checkBodies: false);
        foreach (string name in redefined) update.Redefine(name, next.Compile(after[name], checker));
        foreach (string name in added) update.Add(name, next.Compile(after[name], checker));
        foreach (string name in removed) update.Remove(name);
        if (!update.TryCommit(out IReadOnlyList<StaleFunction> stale))
            return new WatchUpdate(redefined, added, removed, false, [], stale, clock.Elapsed) { Build = build };
        _analysis = next;
        _cachePath = build.CachePath;
        return new WatchUpdate(redefined, added, removed, false, [], [], clock.Elapsed) { Build = build };
    }

    /// <summary>Globals (with their initial values) and externs unchanged: only function code differs.</summary>
    private static bool SameDataAndImports(ProgramAnalysis a, ProgramAnalysis b) =>
        a.Table.Globals.SequenceEqual(b.Table.Globals) &&
        a.Table.Imports.Count == b.Table.Imports.Count &&
        a.Table.Imports.Zip(b.Table.Imports).All(p => p.First.Name == p.Second.Name && p.First.Result == p.Second.Result && p.First.Parameters.SequenceEqual(p.Second.Parameters));

    public void Dispose() => _module.Dispose();

    /// <summary>The <c>--watch</c> loop: run main, then apply every change of the file and run main again, until Ctrl+C.</summary>
    public static int RunLoop(BuildRequest request, ProgramAnalysis analysis, BuildResult build, HostLibrary host, TextWriter stdout, TextWriter stderr)
    {
        using var session = new WatchSession(request, analysis, build, host);
        using var stop = new ManualResetEventSlim();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Set(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            RunAndReport(session, stdout, stderr);
            stderr.WriteLine($"watching {session.Analysis.Source.Path}: save it to hot-swap the changed functions; Ctrl+C stops");
            while (!stop.Wait(TimeSpan.FromMilliseconds(150)))
            {
                if (session.Poll() is not { } update) continue;
                foreach (Diagnostic d in update.Errors) stderr.WriteLine(d);
                stderr.WriteLine($"watch: {update}");
                if (update.Applied) RunAndReport(session, stdout, stderr);
            }
            return Program.ExitOk;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static void RunAndReport(WatchSession session, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            long result = session.RunMain();
            stdout.Flush();
            stderr.WriteLine($"watch: main returned {result}");
        }
        catch (AotCacheException e)
        {
            stdout.Flush();
            stderr.WriteLine($"watch: main failed: {e.Message}");
        }
    }
}
