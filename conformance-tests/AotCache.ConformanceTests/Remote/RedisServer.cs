using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// A real <c>redis-server</c> (Debian's) on a free loopback port, in its own temporary directory, with no persistence.
/// Started by <see cref="Start"/>, which returns once the server has printed "Ready to accept connections"; killed
/// (SIGKILL) and its directory deleted on dispose. Each test starts its own, so tests share no state.
/// </summary>
public sealed class RedisServer : IDisposable
{
    public const string ServerPath = "/usr/bin/redis-server";
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
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

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
        var info = new ProcessStartInfo(ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (string argument in new[]
                 {
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory,
                     "--save", "", "--appendonly", "no", "--daemonize", "no",
                 }.Concat(settings))
            info.ArgumentList.Add(argument);

        var log = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (log) log.AppendLine(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal)) ready.TrySetResult();
        }
        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        bool started;
        try
        {
            started = ready.Task.Wait(ReadyTimeout);
        }
        catch (AggregateException)
        {
            started = false;
        }
        if (started)
        {
            failure = "";
            return new RedisServer(process, log, port, directory, ownsDirectory);
        }
        Stop(process);
        lock (log) failure = $"no 'Ready to accept connections' within {ReadyTimeout.TotalSeconds} s; it printed:\n{log}";
        process.Dispose();
        return null;
    }

    /// <summary>A connection of the tests' own RESP client.</summary>
    public RespClient Client(TimeSpan? replyTimeout = null) => new(Port, replyTimeout);

    /// <summary>Kills the server with SIGKILL, as a crash or an OOM killer would, and waits until it is gone.</summary>
    public void Kill() => Stop(_process);

    public bool HasExited => _process.HasExited;

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(30_000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
    }

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
        Stop(_process);
        _process.Dispose();
        if (_ownsDirectory && System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }
}
