using System.Diagnostics;
using System.Text;
using AotCache.DiffRunner;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>
/// The child process that runs compiled programs (<c>AotCache.DiffRunner</c>): one process serves many
/// requests over standard input and output. If it dies (compiled code crashed it) or stops answering, the
/// request fails with what it printed on standard error, and the next request starts a fresh child.
/// </summary>
public sealed class DiffRunnerProcess : IDisposable
{
    private static readonly string Child = Path.Combine(AppContext.BaseDirectory, "AotCache.DiffRunner.dll");
    /// <summary>A hang guard, not a measurement: a request takes milliseconds, and the child's start is waited for
    /// separately (its ready line). Generous, so that only a child that stopped answering fails here.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(5);

    private Process? _process;
    private StringBuilder _stderr = new();

    /// <summary>Child processes started so far (1 unless a child crashed).</summary>
    public int Starts { get; private set; }

    public IReadOnlyList<EntryOutcome> Run(DiffRequest request)
    {
        Process p = EnsureRunning();
        p.StandardInput.WriteLine(request.Format());
        p.StandardInput.Flush();
        Task<string?> read = p.StandardOutput.ReadLineAsync();
        if (!read.Wait(ReplyTimeout))
        {
            Stop();
            throw new TimeoutException($"the runner did not answer within {ReplyTimeout.TotalSeconds} s");
        }
        string? reply = read.Result;
        if (reply is null)
        {
            p.WaitForExit(10_000);
            string detail = $"the runner died (exit code {(p.HasExited ? p.ExitCode : -1)}): {_stderr}";
            Stop();
            throw new InvalidOperationException(detail);
        }
        return DiffRequest.ParseReply(reply);
    }

    private Process EnsureRunning()
    {
        if (_process is { HasExited: false }) return _process;
        Stop();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Child);
        var stderr = new StringBuilder();
        Process p = Process.Start(info) ?? throw new InvalidOperationException("could not start the runner");
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
        };
        p.BeginErrorReadLine();
        _stderr = stderr;
        _process = p;
        Starts++;
        // Wait for the child to be up (however long the machine takes to start a process), so that the reply
        // guard below times only requests.
        Task<string?> ready = p.StandardOutput.ReadLineAsync();
        if (!ready.Wait(ReplyTimeout) || ready.Result != DiffRequest.Ready)
        {
            string detail = $"the runner did not start: '{(ready.IsCompleted ? ready.Result : "(no line)")}' {stderr}";
            Stop();
            throw new InvalidOperationException(detail);
        }
        return p;
    }

    private void Stop()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            try
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                _process.WaitForExit(5_000);
            }
            catch (IOException)
            {
                // The child went away by itself.
            }
        }
        Stop();
    }
}
