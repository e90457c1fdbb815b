using System.Text.RegularExpressions;
using AotCache.ConformanceTests.FrontEnd;
using AotCache.Demo.Build;
using AotCache.Demo.Remote;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// "Machines" for the front end's remote-cache tests: each is a directory with its own copy of the program and its
/// own cache directory, built either through the command line (in-process, a fresh build engine and store each time)
/// or through <see cref="BuildEngine"/> with a <see cref="RemoteFunctionCache"/> the test made. Timeouts are patient
/// unless a test is about them.
/// </summary>
internal sealed partial class TeamCache : IDisposable
{
    public const string Patient = "30000";

    private readonly string _root = Directory.CreateTempSubdirectory("nib-team-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A machine's directory, with <paramref name="text"/> as its program.nib.</summary>
    public string Machine(string name, string text)
    {
        string directory = Directory.CreateDirectory(Path.Combine(_root, name)).FullName;
        File.WriteAllText(Path.Combine(directory, "program.nib"), text);
        return directory;
    }

    public static string SourceOf(string machine) => Path.Combine(machine, "program.nib");

    public static string CacheFileOf(string machine) => Path.Combine(machine, "cache", "program.aotc");

    public static byte[] Output(string machine) => File.ReadAllBytes(CacheFileOf(machine));

    /// <summary>The bytes of an offline build of <paramref name="text"/> on a fresh machine: what every remote build must write.</summary>
    public byte[] Offline(string text, params string[] options)
    {
        string machine = Machine("offline-" + Guid.NewGuid().ToString("N"), text);
        var (exit, _, err) = Nib.Cli(["build", SourceOf(machine), "--cache-dir", Path.Combine(machine, "cache"), "--quiet", .. options]);
        Assert.True(exit == 0, err);
        return Output(machine);
    }

    /// <summary><c>build</c> on a machine with the remote cache at <paramref name="address"/> and patient timeouts, with function
    /// entries only (<c>--no-remote-modules</c>): the tests of REMOTE.md §2–§7 count function entries.</summary>
    public static (int Exit, string Out, string Err) Cli(string machine, string address, params string[] options) =>
        WithModules(machine, address, ["--no-remote-modules", .. options]);

    /// <summary><c>build</c> (or another <paramref name="command"/>, such as <c>run</c>) on a machine with the remote cache at <paramref name="address"/>, patient timeouts, and module entries (REMOTE.md §10) as a user gets them.</summary>
    public static (int Exit, string Out, string Err) WithModules(string machine, string address, string[] options, string command = "build") =>
        Nib.Cli([command, SourceOf(machine), "--cache-dir", Path.Combine(machine, "cache"), "--remote-cache", address,
            "--remote-connect-timeout", Patient, "--remote-command-timeout", Patient, .. options]);

    /// <summary>As <see cref="Cli"/>, failing unless the build succeeded; returns standard error (the summary).</summary>
    public static string Build(string machine, string address, params string[] options)
    {
        var (exit, _, err) = Cli(machine, address, options);
        Assert.True(exit == 0, err);
        return err;
    }

    /// <summary>As <see cref="WithModules"/>, failing unless the build succeeded; returns standard error (the summary).</summary>
    public static string BuildWithModules(string machine, string address, params string[] options)
    {
        var (exit, _, err) = WithModules(machine, address, options);
        Assert.True(exit == 0, err);
        return err;
    }

    /// <summary>A build through the engine with the given remote cache (the full or incremental path, as the engine chooses).</summary>
    public static BuildResult Engine(string machine, RemoteFunctionCache? remote)
    {
        var file = new SourceFile(SourceOf(machine), File.ReadAllBytes(SourceOf(machine)));
        return BuildEngine.Build(file, new HostLibrary(TextWriter.Null), new BuildOptions
        {
            CacheDirectory = Path.Combine(machine, "cache"),
            Remote = remote,
        }).Result;
    }

    /// <summary>A remote cache as the front end opens it, on <paramref name="store"/>, with the keys of <paramref name="keyFile"/>.</summary>
    public static RemoteFunctionCache Remote(IRemoteStore store, string? keyFile = null)
    {
        RemoteKeyFile? keys = keyFile is null ? null : RemoteKeyFile.Load(keyFile);
        var format = new RemoteEntryFormat(Writer.TargetDescription.LinuxX64, BuildEngine.FingerprintOf(CodegenSettings.Default), BuildEngine.Producer,
            keys?.SigningKey, keys?.Policy);
        return new RemoteFunctionCache(store, format, keys is not null && keys.SigningKey is null ? "the key file holds no signing key" : null);
    }

    /// <summary>As <see cref="Remote(IRemoteStore, string?)"/>, with module entries (REMOTE.md §10) too.</summary>
    public static RemoteFunctionCache RemoteWithModules(IRemoteStore store, string? keyFile = null)
    {
        RemoteKeyFile? keys = keyFile is null ? null : RemoteKeyFile.Load(keyFile);
        var format = new RemoteEntryFormat(Writer.TargetDescription.LinuxX64, BuildEngine.FingerprintOf(CodegenSettings.Default), BuildEngine.Producer,
            keys?.SigningKey, keys?.Policy);
        var modules = new RemoteModuleFormat(Writer.TargetDescription.LinuxX64, BuildEngine.FingerprintOf(CodegenSettings.Default), Format.CpuFeatures.None,
            keys?.SigningKey, keys?.Policy);
        return new RemoteFunctionCache(store, format, keys is not null && keys.SigningKey is null ? "the key file holds no signing key" : null, modules);
    }

    [GeneratedRegex(@"^remote: .*$", RegexOptions.Multiline)]
    private static partial Regex RemoteLine();

    /// <summary>The summary's remote line.</summary>
    public static string RemoteSummary(string err) => RemoteLine().Match(err) is { Success: true } m ? m.Value : throw new Xunit.Sdk.XunitException($"no remote line in:\n{err}");

    /// <summary>Lines of standard error that are warnings about the remote cache.</summary>
    public static List<string> RemoteWarnings(string err) =>
        [.. err.Split('\n').Where(l => l.StartsWith("warning: remote cache", StringComparison.Ordinal))];

    /// <summary>A key file with these contents.</summary>
    public string KeyFile(string name, string contents)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, contents);
        return path;
    }

    /// <summary>A key-file line with a 32-byte secret derived from <paramref name="seed"/>.</summary>
    public static string HmacLine(string kind, string name, int seed) =>
        $"{kind} {name} {Convert.ToBase64String([.. Enumerable.Range(seed, 32).Select(i => (byte)i)])}\n";
}
