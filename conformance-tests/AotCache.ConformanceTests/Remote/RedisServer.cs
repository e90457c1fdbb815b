using System.Diagnostics;
using System.Globalization;
using System.Text;
using AotCache.Bench.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// A real <c>redis-server</c> (Debian's) on a free loopback port, in its own temporary directory, with no persistence.
/// Started by <see cref="Start"/>, which returns once the server has printed "Ready to accept connections"; killed
/// (SIGKILL) and its directory deleted on dispose. Each test starts its own, so tests share no state.
/// </summary>
public sealed class RedisServer : IDisposable
{
    public const string ServerPath = RedisProcess.ServerPath;
    public const string CliPath = "/usr/bin/redis-cli";

    /// <summary>Generous: a loaded 2-core machine can take seconds to start a process; a healthy start takes ~50 ms.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _log;
    private readonly bool _ownsDirectory;

    private RedisServer(Process process, StringBuilder log, int port, string directory, bool ownsDirectory)
    {
        _process = process;
        _log = log;
        Port = port;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>The address a store is given: <c>redis://127.0.0.1:PORT</c>.</summary>
    public string Address => $"redis://127.0.0.1:{Port}";

    /// <summary>What the server printed so far, for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Fails the test unless Debian's redis-server (and redis-cli) are installed: never a silent skip.</summary>
    public static void RequireInstalled() => RequireInstalled(ServerPath, CliPath);

    internal static void RequireInstalled(params string[] tools)
    {
        foreach (string tool in tools)
            if (!File.Exists(tool))
                Assert.Fail($"{tool} is missing: the Remote tests run real Redis servers. .ci/run installs them " +
                            "(apt-get install redis-server redis-tools); run it once, or install the two packages.");
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago.</summary>
    public static int FreePort() => RedisProcess.FreePort();

    /// <summary>Starts a server on a free port with <paramref name="settings"/> added to the command line
    /// (<c>--name value</c> pairs). A port taken between choosing and binding it is retried with another.</summary>
    public static RedisServer Start(params string[] settings)
    {
        RequireInstalled();
        string? lastFailure = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            string directory = System.IO.Directory.CreateTempSubdirectory("aotc-redis-").FullName;
            RedisServer? server = TryStart(FreePort(), directory, ownsDirectory: true, settings, out lastFailure);
            if (server is not null) return server;
            System.IO.Directory.Delete(directory, recursive: true);
            if (!lastFailure.Contains("already in use", StringComparison.OrdinalIgnoreCase)) break;
        }
        throw new Xunit.Sdk.XunitException($"redis-server did not start: {lastFailure}");
    }

    /// <summary>Starts another server on the port and in the directory of one that was killed (a restart).</summary>
    public RedisServer Restart(params string[] settings)
    {
        Assert.True(_process.HasExited, "restart a server only after killing it");
        return TryStart(Port, Directory, ownsDirectory: false, settings, out string failure)
            ?? throw new Xunit.Sdk.XunitException($"redis-server did not restart on port {Port}: {failure}");
    }

    private static RedisServer? TryStart(int port, string directory, bool ownsDirectory, string[] settings, out string failure)
    {
        var log = new StringBuilder();
        Process? process = RedisProcess.TryLaunch(port, directory, settings, ReadyTimeout, log, out failure);
        return process is null ? null : new RedisServer(process, log, port, directory, ownsDirectory);
    }

    /// <summary>A connection of the tests' own RESP client.</summary>
    public RespClient Client(TimeSpan? replyTimeout = null) => new(Port, replyTimeout);

    /// <summary>Kills the server with SIGKILL, as a crash or an OOM killer would, and waits until it is gone.</summary>
    public void Kill() => RedisProcess.Stop(_process);

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Stalls the server for <paramref name="seconds"/>: <c>CLIENT PAUSE ms ALL</c>, after whose OK every command of every
    /// other client waits until the pause ends (redis 6.2 and later). The OK is the proof that the server is stalled, so
    /// no probe has to guess it from a reply that is late, which a loaded machine makes ambiguous. Dispose the returned
    /// connection after.
    /// </summary>
    public RespClient Stall(int seconds)
    {
        RespClient pauser = Client();
        string reply = pauser.CallText("CLIENT", "PAUSE", (seconds * 1000L).ToString(CultureInfo.InvariantCulture), "ALL");
        if (reply != "OK")
        {
            pauser.Dispose();
            throw new Xunit.Sdk.XunitException($"CLIENT PAUSE did not stall the server: {reply}\n{Log}");
        }
        return pauser;
    }

    public void Dispose()
    {
        RedisProcess.Stop(_process);
        _process.Dispose();
        if (_ownsDirectory && System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }
}
