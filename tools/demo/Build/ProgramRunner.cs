using AotCache.Demo.Language;
using AotCache.Loader;
using AotCache.Reader;

namespace AotCache.Demo.Build;

/// <summary>Loads a built program's cache and calls its <c>main</c>.</summary>
public static class ProgramRunner
{
    /// <summary>Maps the cache file executable, links the host's functions and relocates: a warm start. With
    /// <paramref name="perfMap"/>, every function is named in <c>/tmp/perf-PID.map</c> for profilers.</summary>
    public static LoadedModule Load(string cachePath, HostLibrary host, LinkMode mode = LinkMode.Direct, bool perfMap = false) =>
        LoadedModule.LoadFile(cachePath, Options(host, mode, perfMap));

    /// <summary><c>run --lazy</c>: loads a cache that may hold stale functions leniently [LOAD-5]; each stale function is
    /// compiled from <paramref name="analysis"/> on its first call (<see cref="LoadOptions.CompileOnCall"/>) and the call
    /// goes on; functions never called are never compiled. <see cref="LoadedModule.CompiledOnCall"/> names those compiled.</summary>
    public static LoadedModule LoadLazily(string cachePath, HostLibrary host, ProgramAnalysis analysis, bool perfMap = false)
    {
        var byName = analysis.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        return LoadedModule.LoadFile(cachePath, Options(host, LinkMode.Direct, perfMap) with
        {
            StalePolicy = StalePolicy.Lenient,
            // Runs inside module code: it compiles from the analysis (no calls into the module), once per function.
            CompileOnCall = refused => byName.TryGetValue(refused.Name, out AnalyzedFunction? f)
                ? analysis.Compile(f, new AotCache.Codegen.Ir.IrChecker(analysis.Module, checkBodies: false))
                : null,
        });
    }

    /// <summary>Like <see cref="Load(string, HostLibrary, LinkMode, bool)"/>, from an image validated already (the build's own
    /// look at the cache); the image must outlive the module.</summary>
    public static LoadedModule Load(CacheImage image, HostLibrary host, LinkMode mode = LinkMode.Direct, bool perfMap = false) =>
        LoadedModule.Load(image, Options(host, mode, perfMap));

    /// <summary>Like <see cref="Load(string, HostLibrary, LinkMode, bool)"/>, from a copy of the file in memory: a module that lives across builds must not
    /// keep the file mapped, or the builds could not reuse its inode as their spare (<see cref="Writer.AtomicFile.WriteReusingSpare"/>)
    /// and would write whole files.</summary>
    public static LoadedModule LoadCopy(string cachePath, HostLibrary host, LinkMode mode = LinkMode.Direct, bool perfMap = false)
    {
        LoadOptions options = Options(host, mode, perfMap);
        return LoadedModule.Load(CacheImage.Read(File.ReadAllBytes(cachePath), options.Read), options);
    }

    /// <summary>Without <paramref name="perfMap"/>, the perf map is written only when <c>AOTCACHE_PERF_MAP=1</c> asks for it.</summary>
    private static LoadOptions Options(HostLibrary host, LinkMode mode, bool perfMap)
    {
        var options = new LoadOptions { Imports = host.CreateResolver(), Host = BuildEngine.Host, LinkMode = mode };
        return perfMap ? options with { PerfMap = true } : options;
    }

    /// <summary>Checks that the program has a <c>main</c> that can be run: no parameters, an i64 result or none.</summary>
    public static void CheckMain(ProgramAnalysis analysis)
    {
        if (!analysis.Table.ByName.TryGetValue("main", out Declaration? main) || main.Kind != DeclarationKind.Function)
            throw new CompileErrorException([new Diagnostic(analysis.Source, new TextSpan(0, 0),
                "the program has no 'main' function to run: add 'fn main() -> i64 { ... }'")]);
        if (main.Parameters.Count != 0 || main.Result == Codegen.Ir.IrType.F64)
            throw new CompileErrorException([new Diagnostic(analysis.Source, main.NameSpan,
                $"'main' must take no parameters and return i64 or nothing, not '{main.Describe()}'")]);
    }

    /// <summary>Calls <c>main</c>; its i64 result, or 0 when it returns nothing.</summary>
    public static long RunMain(LoadedModule module)
    {
        Value result = module.Invoke("main");
        return result.Type == default ? 0 : result.AsI64;
    }
}
