using System.Diagnostics;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.Demo.Build;

/// <summary>A build served by a whole-module entry (REMOTE.md §10): the file's size and how long fetching and checking took.</summary>
public sealed record RemoteModuleHit(long Bytes, int Functions, TimeSpan FetchTime);

/// <summary>
/// Whole-module entries in a build: after the local cache and before analysing, the store's module entry of this exact
/// program is fetched, checked and written as the local cache, with nothing parsed or compiled; after a build that wrote
/// its cache, the file is uploaded as the program's module entry. Anything refused or unavailable is a miss, and the
/// build goes on along the per-function path [RMT-30].
/// </summary>
internal static class ModuleEntryBuild
{
    /// <summary>The build from the store's module entry, or null (a miss: analyse and build as usual).</summary>
    public static BuildResult? TryBuild(SourceFile file, RemoteModuleCache modules, RemoteModuleKey key, BuildOptions options, string path,
        bool requireMain, List<string> warnings)
    {
        int functions = 0;
        ReadOnlyMemory<byte>? fetched = modules.TryFetch(key, image =>
        {
            functions = image.Functions.Length;
            return Fits(image, file, options, requireMain);
        });
        if (fetched is not { } bytes) return null;
        // The bytes are the offline build's [RMT-27]: written as a build writes its cache, atomically.
        var clock = Stopwatch.StartNew();
        SpareWriteResult written = AtomicFile.WriteReusingSpare(path, [bytes]);
        return new BuildResult(path, [], functions, warnings, true, false, TimeSpan.Zero, modules.FetchTime, clock.Elapsed)
        {
            Write = written,
            RemoteModule = new RemoteModuleHit(bytes.Length, functions, modules.FetchTime),
        };
    }

    /// <summary>Uploads the cache a build just wrote at <paramref name="path"/> as the module entry of <paramref name="key"/>,
    /// once it has checked that the file is this program's build; a file that is not (another build replaced it meanwhile)
    /// is not uploaded.</summary>
    public static void Upload(SourceFile file, RemoteModuleCache modules, RemoteModuleKey key, BuildOptions options, string path)
    {
        if (modules.UploadsOff is not null) return;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        modules.Upload(key, bytes, image => Fits(image, file, options, requireMain: false));
    }

    /// <summary>
    /// [RMT-27]: the file is a build of this program by this front end with these settings, as far as it records them: its
    /// module name, the source hash, codegen settings and key inputs of its index; and, for <c>run</c>, a runnable <c>main</c>.
    /// </summary>
    private static EntryRefusal? Fits(CacheImage image, SourceFile file, BuildOptions options, bool requireMain)
    {
        string moduleName = ProgramAnalysis.ModuleNameOf(file.Path);
        if (image.ModuleName != moduleName)
            return new EntryRefusal(EntryProblem.DoesNotFit, $"the file is module '{Names.Quote(image.ModuleName)}', not '{Names.Quote(moduleName)}'");
        if (image.Producer != BuildEngine.Producer)
            return new EntryRefusal(EntryProblem.DoesNotFit, $"the file was written by '{Names.Quote(image.Producer)}', not {BuildEngine.Producer}");
        if (NibIndex.Read(image) is not { } index)
            return new EntryRefusal(EntryProblem.DoesNotFit, "the file has no readable Nib index");
        if (index.SourceHash != SourceSegments.Hash(file.Utf8))
            return new EntryRefusal(EntryProblem.DoesNotFit, "the file was built from another source text");
        if (index.SettingsHash != NibIndex.HashSettings(options.Codegen) || index.KeyInputs != KeyInputs.All)
            return new EntryRefusal(EntryProblem.DoesNotFit, "the file was built with other codegen settings or cache keys");
        if (requireMain && !RunnableMain(image))
            return new EntryRefusal(EntryProblem.DoesNotFit, "the program has no runnable 'main' (the full build reports why)");
        return null;
    }

    /// <summary>What <see cref="ProgramRunner.CheckMain"/> checks, read from the file: a function 'main' taking nothing and
    /// returning an i64 or nothing.</summary>
    private static bool RunnableMain(CacheImage image)
    {
        if (!image.TryGetSymbol("main", out SymbolInfo main) || main.Kind != SymbolKind.Function) return false;
        Signature s = main.Signature!;
        return s.Parameters.Length == 0 && (s.Results.Length == 0 || s.Results[0] == AotCache.Format.ScalarType.I64);
    }
}
