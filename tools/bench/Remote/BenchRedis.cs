using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AotCache.Bench.Remote;

/// <summary>
/// A redis-server for the bench, started as the Remote tests start theirs: Debian's binary on a free loopback port, in a
/// temporary directory, without persistence, and used once it printed "Ready to accept connections". Killed and its
/// directory deleted on dispose.
/// </summary>
public sealed class BenchRedis : IDisposable
{
    public const string ServerPath = "/usr/bin/redis-server";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _directory;

    private BenchRedis(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"redis://127.0.0.1:{Port}";

    /// <summary>A started server, or null with the reason it could not be (not installed, did not start).</summary>
    public static BenchRedis? TryStart(out string? reason)
    {
        if (!File.Exists(ServerPath))
        {
            reason = $"{ServerPath} is not installed (apt-get install redis-server; .ci/run installs it)";
            return null;
        }
        string directory = Directory.CreateTempSubdirectory("aotcache-bench-redis-").FullName;
        int port = FreePort();
        var info = new ProcessStartInfo(ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (string a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory,
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--maxmemory-policy", "allkeys-lru" })
            info.ArgumentList.Add(a);
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
            reason = null;
            return new BenchRedis(process, directory, port);
        }
        if (!process.HasExited) process.Kill();
        process.WaitForExit();
        process.Dispose();
        Directory.Delete(directory, recursive: true);
        lock (log) reason = $"redis-server did not print 'Ready to accept connections' within {ReadyTimeout.TotalSeconds} s: {log}";
        return null;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
