using System.Diagnostics;
using System.Reflection;
using AotCache.ConformanceTests.Native;

namespace AotCache.ConformanceTests.Packaging;

/// <summary>
/// The packages, packed once per test run from the build the tests run on (<c>dotnet pack Format.sln --no-build</c>,
/// the same configuration) into a local feed in a temporary directory. Nothing here reaches a network: a consumer
/// restores from this feed and from the global packages folder, which the solution's own restore has filled
/// (the net8.0 targeting pack included).
/// </summary>
public sealed class PackageFeed : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("aotcache-packages-");

    public static string Root { get; } = GoldenFile.RepositoryRoot();

    /// <summary>The local feed: every .nupkg and .snupkg the pack wrote.</summary>
    public string Feed { get; }

    /// <summary>The one version every package has.</summary>
    public string Version { get; }

    /// <summary>How long the pack took, for the log of a slow run.</summary>
    public TimeSpan PackTime { get; }

    /// <summary>The configuration of the build under test (Debug for <c>dotnet test</c>).</summary>
    public static string Configuration { get; } =
        typeof(PackageFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public PackageFeed()
    {
        Feed = Path.Combine(_directory.FullName, "feed");
        var clock = Stopwatch.StartNew();
        Dotnet.Run(["pack", Path.Combine(Root, "Format.sln"), "--no-build", "-c", Configuration, "-o", Feed], "dotnet pack");
        PackTime = clock.Elapsed;
        string tool = Directory.GetFiles(Feed, "AotCache.CacheDump.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(tool)["AotCache.CacheDump.".Length..];
    }

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>A scratch directory of the run's own, outside the repository (so that its Directory.Build.props and
    /// central package versions do not apply).</summary>
    public string NewDirectory(string name) =>
        Directory.CreateDirectory(Path.Combine(_directory.FullName, name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    /// <summary>Where NuGet keeps restored packages on this machine: a consumer's second, offline source.</summary>
    public static string GlobalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>A NuGet.Config that knows only the local feed and the global packages folder, so a restore is offline.</summary>
    public string WriteOfflineNuGetConfig(string directory)
    {
        string path = Path.Combine(directory, "NuGet.Config");
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="aotcache-local" value="{Feed}" />
                <add key="global-packages" value="{GlobalPackagesFolder}" />
              </packageSources>
            </configuration>
            """);
        return path;
    }
}

/// <summary>The packaging tests share one pack, and run by themselves after the parallel collections: packing and
/// building a consumer take both cores for a while, which would starve tests that wait with timeouts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackageCollection : ICollectionFixture<PackageFeed>
{
    public const string Name = "packages";
}

/// <summary>Runs the dotnet CLI (or a program it installed) to its exit, with both output streams captured.</summary>
public static class Dotnet
{
    /// <summary>Runs <c>dotnet ARGUMENTS</c> and returns its standard output; a non-zero exit fails with both streams.</summary>
    public static string Run(IEnumerable<string> arguments, string what, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        ChildProcess.Result result = Start("dotnet", arguments, workingDirectory, environment);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{what} failed (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        return result.Stdout;
    }

    /// <summary>Runs <paramref name="program"/> (<see cref="ChildProcess.Run"/>); one still running after ten minutes is
    /// killed and fails the test. The MSBuild variables a test host inherits from <c>dotnet test</c> are left out (they
    /// would point a nested build at the outer build's state), and no build server or MSBuild node outlives the child.</summary>
    public static ChildProcess.Result Start(string program, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["UseSharedCompilation"] = "false",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        if (environment is not null)
            foreach ((string key, string value) in environment) variables[key] = value;
        return ChildProcess.Run(program, arguments, TimeSpan.FromMinutes(10), cleanEnvironment: true, workingDirectory, variables);
    }
}
