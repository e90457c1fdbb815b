using System.Diagnostics;
using System.Text;

namespace AotCache.ConformanceTests.Native;

/// <summary>
/// The native side of the tests, built once per test run: libaotcache.so, nib and cachedump published with NativeAOT
/// (<c>dotnet publish -c Release -r linux-x64</c>, into a temporary directory; the intermediate files stay in each
/// project's obj/Release/net10.0/linux-x64, so a second run with no change only copies), then the C host
/// (<c>tools/c-host</c>, with its Makefile) and the C test program (<c>conformance-tests/c/abi_test.c</c>) compiled
/// with gcc against aotcache.h and the published library. gcc and the NativeAOT toolchain must be there: a missing
/// one fails the tests that need it, naming what failed, never skips them.
/// </summary>
public sealed class NativeToolchain : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("aotcache-native-");

    public static string Root { get; } = GoldenFile.RepositoryRoot();

    /// <summary>Where libaotcache.so is.</summary>
    public string LibraryDirectory { get; }

    public string AbiTest { get; }
    public string CHost { get; }
    public string Nib { get; }
    public string CacheDump { get; }

    /// <summary>How long each step took, for the log of a slow run.</summary>
    public IReadOnlyList<string> Timings => _timings;

    private readonly List<string> _timings = [];

    public NativeToolchain()
    {
        LibraryDirectory = Publish("loader/AotCache.Native/AotCache.Native.csproj", "lib");
        Nib = Path.Combine(Publish("tools/demo/AotCache.Demo.csproj", "nib"), "nib");
        CacheDump = Path.Combine(Publish("tools/cachedump/cachedump.csproj", "cachedump"), "cachedump");

        string include = Path.Combine(Root, "loader", "AotCache.Native", "include");
        AbiTest = Path.Combine(_directory.FullName, "abi_test");
        Step("gcc abi_test.c", "gcc", ["-O1", "-g", "-Wall", "-Wextra", "-Werror", "-std=c11", "-pthread", "-I", include, "-o", AbiTest,
            Path.Combine(Root, "conformance-tests", "c", "abi_test.c"), "-L", LibraryDirectory, "-laotcache", $"-Wl,-rpath,{LibraryDirectory}"]);
        CHost = Path.Combine(_directory.FullName, "c-host");
        Step("make -C tools/c-host", "make", ["-C", Path.Combine(Root, "tools", "c-host"), $"LIBDIR={LibraryDirectory}", $"OUT={CHost}"]);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>A scratch directory of the run's own.</summary>
    public string NewDirectory(string name) => Directory.CreateDirectory(Path.Combine(_directory.FullName, name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private string Publish(string project, string output)
    {
        string directory = Path.Combine(_directory.FullName, output);
        // -nodeReuse:false: no MSBuild node outlives the publish; the environment of the test host's own build is left out.
        Step($"dotnet publish {project}", "dotnet", ["publish", Path.Combine(Root, project), "-c", "Release", "-r", "linux-x64", "-o", directory,
            "--nologo", "-nodeReuse:false", "-v", "quiet"]);
        return directory;
    }

    private void Step(string what, string program, string[] arguments)
    {
        var clock = Stopwatch.StartNew();
        ChildProcess.Result result;
        try
        {
            result = ChildProcess.Run(program, arguments, TimeSpan.FromMinutes(15), cleanEnvironment: true);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{what}: '{program}' could not be started ({e.Message}); the native tests need it", e);
        }
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{what} failed (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        _timings.Add($"{what}: {clock.Elapsed.TotalSeconds:F1} s");
    }
}

/// <summary>The native tests run by themselves, after the parallel collections: the NativeAOT publishes take both cores
/// for a minute or more, which would starve tests that measure throughput or wait with timeouts (the bounded fuzz run,
/// the Redis tests).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeCollection : ICollectionFixture<NativeToolchain>
{
    public const string Name = "native toolchain";
}

/// <summary>Runs a program to its exit with both output streams captured.</summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="program"/>; a child still running after <paramref name="timeout"/> is killed and
    /// fails the test. <paramref name="cleanEnvironment"/> drops the MSBuild variables a test host inherits from
    /// <c>dotnet test</c>, which would point a nested <c>dotnet publish</c> at the outer build's state;
    /// <paramref name="environment"/> is set on top.</summary>
    public static Result Run(string program, IEnumerable<string> arguments, TimeSpan timeout, bool cleanEnvironment = false, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        if (cleanEnvironment)
            foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
                start.Environment.Remove(key);
        if (environment is not null)
            foreach ((string key, string value) in environment) start.Environment[key] = value;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:F0} s:\n{stdout}\n{stderr}");
        }
        process.WaitForExit(); // drains the asynchronous readers
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
