using System.CommandLine;
using AotCache.Codegen;
using AotCache.Demo.Build;

namespace AotCache.Demo;

/// <summary>
/// <c>nib</c>: the Nib front end. <c>run FILE</c> builds a program through its cache directory and
/// runs <c>main</c>, recompiling only what changed since the last run; with no command it runs the tour.
/// </summary>
public static class Program
{
    /// <summary>Done: built, checked, generated, or run (whatever <c>main</c> returned: its result is printed as
    /// <c>main returned N</c> on standard error, never used as the exit code, so it cannot pass for one of the codes below).</summary>
    public const int ExitOk = 0;
    /// <summary>The program has compile errors.</summary>
    public const int ExitCompileError = 1;
    /// <summary>A bad command line, or a file or cache directory that cannot be read or written.</summary>
    public const int ExitUsage = 2;
    /// <summary><c>--verify-cache</c> found a reused function whose bytes differ from a fresh compile.</summary>
    public const int ExitVerifyFailed = 3;
    /// <summary>The cache cannot be loaded, or a call was refused while the program ran.</summary>
    public const int ExitLoadFailed = 4;

    /// <summary>The exit codes, as <c>--help</c> lists them.</summary>
    public const string ExitCodes =
        "Exit codes: 0 done (run: main's result is printed as 'main returned N' on standard error, not used as the exit code); " +
        "1 compile errors; 2 bad command line or unreadable file; 3 --verify-cache found a difference; 4 the cache cannot be " +
        "loaded or a call was refused at run time.";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error, interactive: !Console.IsErrorRedirected, Environment.GetEnvironmentVariable);

    /// <summary>Runs the tool with the given output streams (tests pass their own) and environment variables (null: none;
    /// the process's are read only by <see cref="Main"/>).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive = false, Func<string, string?>? environment = null)
    {
        environment ??= static _ => null;
        var file = new Argument<FileInfo>("FILE") { Description = "The Nib program (.nib)" };
        var cacheDir = new Option<DirectoryInfo?>("--cache-dir") { Description = "The cache directory (default: .aotcache beside the program)" };
        var verify = new Option<string?>("--verify-cache")
        {
            Description = "Recompile reused functions and compare them with their cached bodies: 'all', or how many to sample (default 32)",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "all|N",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print no build summary" };
        var watch = new Option<bool>("--watch") { Description = "Keep running: on every save, hot-swap the changed functions into the running program and run main again" };
        var perfMap = new Option<bool>("--perf-map") { Description = "Write /tmp/perf-PID.map (start, size, name of every loaded function, appended on hot-swap) for perf and other profilers" };
        var lazy = new Option<bool>("--lazy")
        {
            Description = "Do not recompile functions made stale by a changed declaration they use: load the cache leniently and " +
                "compile each of them on its first call (never, if it is not called); the summary names those compiled on call",
        };
        // Test and exploration switches, hidden from --help.
        var omit = new Option<string[]>("--key-omit") { Hidden = true, Description = "Leave an input out of the cache keys (tests of --verify-cache)" };
        var importCalls = new Option<ImportCallStyle>("--import-calls") { Hidden = true, DefaultValueFactory = _ => ImportCallStyle.Thunk };
        var globalAccess = new Option<GlobalAccessStyle>("--global-access") { Hidden = true, DefaultValueFactory = _ => GlobalAccessStyle.RipRelative };
        var verifySeed = new Option<int?>("--verify-seed") { Hidden = true };
        var remoteCache = new Option<string?>("--remote-cache")
        {
            Description = $"A team cache of compiled functions, after the local cache and before compiling (default: ${Remote.RemoteSettings.AddressVariable})",
            HelpName = "redis://HOST:PORT[,HOST:PORT...]",
        };
        var remoteKey = new Option<string?>("--remote-key")
        {
            Description = $"Keys that sign uploads and that fetched entries must be signed with: 'hmac NAME BASE64' lines or ECDSA P-256 PEM blocks (default: ${Remote.RemoteSettings.KeyVariable})",
            HelpName = "FILE",
        };
        var remoteReadOnly = new Option<bool>("--remote-read-only") { Description = $"Fetch from the team cache, never upload (or ${Remote.RemoteSettings.ReadOnlyVariable}=1)" };
        var noRemoteModules = new Option<bool>("--no-remote-modules")
        {
            Description = $"Use the team cache's per-function entries only, not whole-module entries (or ${Remote.RemoteSettings.ModulesVariable}=0)",
        };
        var noRemote = new Option<bool>("--no-remote-cache") { Description = $"Ignore ${Remote.RemoteSettings.AddressVariable} for this build" };
        var remoteConnect = new Option<int?>("--remote-connect-timeout")
        {
            Description = $"Milliseconds to connect before building offline (default 2000; ${Remote.RemoteSettings.ConnectTimeoutVariable})",
            HelpName = "MS",
        };
        var remoteCommand = new Option<int?>("--remote-command-timeout")
        {
            Description = $"Milliseconds for one batch of lookups or uploads before building offline (default 1000; ${Remote.RemoteSettings.CommandTimeoutVariable})",
            HelpName = "MS",
        };

        var run = new Command("run", "Build the program through its cache (compiling only what changed) and run its main");
        var build = new Command("build", "Build the program's cache without running it");
        foreach (Command c in new[] { run, build })
        {
            c.Arguments.Add(file);
            foreach (Option o in new Option[] { cacheDir, verify, quiet, remoteCache, remoteKey, remoteReadOnly, noRemote, noRemoteModules, remoteConnect, remoteCommand,
                         omit, importCalls, globalAccess, verifySeed })
                c.Options.Add(o);
        }
        run.Options.Add(watch);
        run.Options.Add(perfMap);
        run.Options.Add(lazy);

        var check = new Command("check", "Parse and type-check a program; print its errors");
        check.Arguments.Add(file);

        var functions = new Option<int>("--functions") { Description = "How many functions", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the program's shape", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Where to write the program (default: standard output)" };
        var edit = new Option<int?>("--edit") { Description = "Change the body of this function (index), as an edit would" };
        var probe = new Option<bool>("--probe-returns-f64") { Description = "Change the signature of 'probe' (i64 -> f64): its callers become stale" };
        var generate = new Command("generate", "Write a program of many functions (each calls a few others and a host function)");
        foreach (Option o in new Option[] { functions, seed, output, edit, probe }) generate.Options.Add(o);

        var root = new RootCommand("Nib, a small language JIT-compiled to x86-64 through an AotCache cache. With no command: a tour. " + ExitCodes);
        root.Subcommands.Add(run);
        root.Subcommands.Add(build);
        root.Subcommands.Add(check);
        root.Subcommands.Add(generate);

        BuildRequest Request(ParseResult p) => new(
            p.GetValue(file)!, p.GetValue(cacheDir), p.GetValue(quiet), p.GetResult(verify) is not null, p.GetValue(verify),
            p.GetValue(verifySeed), ParseOmissions(p.GetValue(omit) ?? []), new CodegenSettings(p.GetValue(importCalls), p.GetValue(globalAccess)),
            Remote.RemoteSettings.From(p.GetValue(remoteCache), p.GetValue(remoteKey), p.GetValue(remoteReadOnly), p.GetValue(remoteConnect),
                p.GetValue(remoteCommand), p.GetValue(noRemote), environment)?.WithModules(!p.GetValue(noRemoteModules)),
            p.GetValue(perfMap));

        run.SetAction(p => Commands.Run(Request(p), p.GetValue(watch), stdout, stderr, interactive, p.GetValue(lazy)));
        build.SetAction(p => Commands.Build(Request(p), stdout, stderr, interactive));
        check.SetAction(p => Commands.Check(p.GetValue(file)!, stdout, stderr));
        generate.SetAction(p => Commands.Generate(new Generator.GeneratorOptions(p.GetValue(functions), p.GetValue(seed), p.GetValue(edit), p.GetValue(probe)),
            p.GetValue(output), stdout, stderr));
        root.SetAction(_ => Tour.Run(stdout, stderr));

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not { ClearsParseErrors: true })
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"error: {error.Message}");
            stderr.WriteLine("usage: nib [run|build|check|generate] ... (see --help)");
            return ExitUsage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitUsage;
        }
    }

    private static KeyInputs ParseOmissions(string[] names)
    {
        KeyInputs inputs = KeyInputs.All;
        foreach (string name in names)
            inputs &= ~(name switch
            {
                "source-tokens" => KeyInputs.SourceTokens,
                "callee-signatures" => KeyInputs.CalleeSignatures,
                "global-types" => KeyInputs.GlobalTypes,
                "compiler-version" => KeyInputs.CompilerVersion,
                "codegen-options" => KeyInputs.CodegenOptions,
                _ => throw new UsageException($"--key-omit: unknown key input '{name}' (source-tokens, callee-signatures, global-types, compiler-version, codegen-options)"),
            });
        return inputs;
    }
}

/// <summary>A command line that names something that does not exist.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>What <c>run</c> and <c>build</c> were asked to do.</summary>
public sealed record BuildRequest(
    FileInfo File, DirectoryInfo? CacheDirectory, bool Quiet, bool Verify, string? VerifyAmount, int? VerifySeed,
    KeyInputs KeyInputs, CodegenSettings Codegen, Remote.RemoteSettings? Remote = null, bool PerfMap = false)
{
    public string CacheDirectoryPath => CacheDirectory?.FullName ?? Path.Combine(File.DirectoryName ?? ".", ".aotcache");

    /// <summary>Null: all reused functions.</summary>
    public int? VerifySample => VerifyAmount switch
    {
        null or "" => 32,
        "all" => null,
        _ when int.TryParse(VerifyAmount, out int n) && n > 0 => n,
        _ => throw new UsageException($"--verify-cache takes 'all' or a positive number, not '{VerifyAmount}'"),
    };
}
