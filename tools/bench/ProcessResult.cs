using System.Diagnostics;
using System.Text;

namespace AotCache.Bench;

/// <summary>A finished child process: exit code and everything it printed.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>
    /// Runs a command to its exit, reading both output streams as they come (a full pipe would block the child).
    /// <paramref name="progress"/>, if given, is called every <paramref name="progressInterval"/> while it runs.
    /// A child still running after <paramref name="timeout"/> is killed, and that is an error naming the command.
    /// </summary>
    public static ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        TimeSpan? progressInterval = null, Action? progress = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        TimeSpan step = progressInterval ?? timeout;
        while (true)
        {
            TimeSpan left = timeout - sw.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                string printed;
                lock (stderr) printed = stderr.ToString();
                throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:F0} s; " +
                    $"stderr: {Tail(printed, 10)}");
            }
            if (process.WaitForExit(left < step ? left : step)) break;
            progress?.Invoke();
        }
        process.WaitForExit(); // drains the asynchronous readers
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Like <see cref="Run"/>, but a non-zero exit is an error that quotes the end of stderr.</summary>
    public static ProcessResult RunChecked(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        ProcessResult result = Run(fileName, arguments, timeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {result.ExitCode}: {result.StderrTail()}");
        return result;
    }

    public string StderrTail(int lines = 10) => Tail(Stderr, lines);

    private static string Tail(string text, int lines)
    {
        string[] all = text.TrimEnd().Split('\n');
        string tail = string.Join('\n', all[Math.Max(0, all.Length - lines)..]);
        return tail.Length == 0 ? "(nothing on stderr)" : tail;
    }
}
