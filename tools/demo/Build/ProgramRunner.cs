using AotCache.Demo.Language;
using AotCache.Format;
using AotCache.Loader;

namespace AotCache.Demo.Build;

/// <summary>Loads a built program's cache and calls its <c>main</c>.</summary>
public static class ProgramRunner
{
    /// <summary>Maps the cache file executable, links the host's functions and relocates: a warm start.</summary>
    public static LoadedModule Load(string cachePath, HostLibrary host, LinkMode mode = LinkMode.Direct) =>
        LoadedModule.LoadFile(cachePath, new LoadOptions { Imports = host.CreateResolver(), Host = BuildEngine.Host, LinkMode = mode });

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
