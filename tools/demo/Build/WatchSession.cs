using System.Diagnostics;
using AotCache.Codegen.Ir;
using AotCache.Demo.Language;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.HotSwap;

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
    /// <summary>The text of the last change seen, applied or not: a save with errors is reported once, not on every wake-up.</summary>
    private string _lastSeen;

    public WatchSession(BuildRequest request, ProgramAnalysis analysis, BuildResult build, HostLibrary host)
    {
        _request = request;
        _host = host;
        _analysis = analysis;
        _cachePath = build.CachePath;
        _lastSeen = analysis.Source.Text;
        _module = ProgramRunner.LoadCopy(_cachePath, host, LinkMode.HotSwappable, request.PerfMap);
    }

    /// <summary>The running module (it changes only when an update must reload).</summary>
    public LoadedModule Module => _module;

    public ProgramAnalysis Analysis => _analysis;

    public long RunMain() => ProgramRunner.RunMain(_module);

    /// <summary>Reads the watched file; if its text differs from the last text seen (applied or not), applies it. Null when
    /// nothing changed since the last look (or the file could not be read this time, e.g. while an editor replaces it):
    /// so a save with errors is reported once, until the next save.</summary>
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
        if (text == _lastSeen) return null;
        _lastSeen = text;
        return Apply(text);
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

    /// <summary>How long the loop waits for a file-system event before it looks at the file anyway: events can be lost
    /// (a watcher's buffer overflows, a network file system sends none), and a look at an unchanged file costs one read.</summary>
    private static readonly TimeSpan FallbackPoll = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The <c>--watch</c> loop: run main, then apply every change of the file and run main again, until Ctrl+C (or
    /// <paramref name="stop"/>). Changes are noticed through a <see cref="FileSystemWatcher"/> on the file's directory
    /// (writes in place, and editors' write-then-rename both count), with a slow poll as a fallback; where no watcher can
    /// be made (e.g. the inotify limit is reached) it polls every 150 ms. The <c>watching …</c> line is printed once the
    /// watcher is live: a save after it is seen. Each text is handled once (<see cref="Poll"/>).
    /// </summary>
    public static int RunLoop(BuildRequest request, ProgramAnalysis analysis, BuildResult build, HostLibrary host, TextWriter stdout, TextWriter stderr,
        CancellationToken stop = default)
    {
        using var session = new WatchSession(request, analysis, build, host);
        using var stopped = new ManualResetEventSlim();
        using var changed = new AutoResetEvent(false);
        using CancellationTokenRegistration onStop = stop.Register(stopped.Set);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stopped.Set(); };
        Console.CancelKeyPress += onCancel;
        using FileSystemWatcher? watcher = CreateWatcher(request.File, changed);
        try
        {
            RunAndReport(session, stdout, stderr);
            stderr.WriteLine($"watching {session.Analysis.Source.Path}{(watcher is null ? " (polling)" : "")}: save it to hot-swap the changed functions; Ctrl+C stops");
            WaitHandle[] handles = [stopped.WaitHandle, changed];
            TimeSpan wait = watcher is null ? TimeSpan.FromMilliseconds(150) : FallbackPoll;
            while (WaitHandle.WaitAny(handles, wait) != 0)
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

    /// <summary>A watcher that signals <paramref name="changed"/> on any event naming the file; null where none can be made.</summary>
    private static FileSystemWatcher? CreateWatcher(FileInfo file, AutoResetEvent changed)
    {
        try
        {
            var watcher = new FileSystemWatcher(file.DirectoryName ?? ".")
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
                IncludeSubdirectories = false,
            };
            void OnEvent(object? _, FileSystemEventArgs e)
            {
                if (string.Equals(e.Name, file.Name, StringComparison.Ordinal)) changed.Set();
            }
            watcher.Changed += OnEvent;
            watcher.Created += OnEvent;
            watcher.Renamed += (sender, e) =>
            {
                if (string.Equals(e.Name, file.Name, StringComparison.Ordinal) || string.Equals(e.OldName, file.Name, StringComparison.Ordinal)) changed.Set();
            };
            watcher.Error += (_, _) => changed.Set(); // events were lost: look at the file
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            return null;
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
