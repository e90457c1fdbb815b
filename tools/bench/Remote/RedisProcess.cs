using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AotCache.Bench.Remote;

/// <summary>
/// Launches Debian's <c>redis-server</c> on a loopback port, in a given directory, without persistence, and waits for its
/// "Ready to accept connections" line: the one way the bench and the Remote tests start a server (the tests compile this
/// file in too).
/// </summary>
public static class RedisProcess
{
    public const string ServerPath = "/usr/bin/redis-server";

    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Starts a server on <paramref name="port"/> in <paramref name="directory"/> with <paramref name="settings"/>
    /// (<c>--name value</c> pairs) added, and returns it once it is ready. Everything it prints goes to
    /// <paramref name="log"/> (lock it to read). A server that exits or is not ready within <paramref name="readyTimeout"/>
    /// is killed and null is returned, with what it printed in <paramref name="failure"/>.
    /// </summary>
    public static Process? TryLaunch(int port, string directory, IEnumerable<string> settings, TimeSpan readyTimeout, StringBuilder log,
        out string failure)
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
            started = ready.Task.Wait(readyTimeout);
        }
        catch (AggregateException)
        {
            started = false;
        }
        if (started)
        {
            failure = "";
            return process;
        }
        Stop(process);
        lock (log) failure = $"no 'Ready to accept connections' within {readyTimeout.TotalSeconds} s; it printed:\n{log}";
        process.Dispose();
        return null;
    }

    /// <summary>Kills the server with SIGKILL, as a crash or an OOM killer would, and waits until it is gone.</summary>
    public static void Stop(Process process)
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
}
