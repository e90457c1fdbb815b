using System.Diagnostics;
using System.Text;

namespace AotCache.Bench.Memory;

/// <summary>
/// A child process that follows the hold protocol: it prints "idle" once started, loads its module when it reads a line
/// on stdin, prints "ready RESULT" (or "ready" when it loads nothing), and exits at the end of stdin. Between the lines
/// it blocks, so its memory can be read without a race, and nothing ever waits a fixed time.
/// </summary>
public sealed class HeldChild : IDisposable
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromMinutes(2); // a hung child, not a pace
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly string _description;

    private HeldChild(Process process, string description)
    {
        _process = process;
        _description = description;
    }

    public int Pid => _process.Id;

    public static HeldChild Start(IReadOnlyList<string> commandLine)
    {
        var info = new ProcessStartInfo(commandLine[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in commandLine.Skip(1)) info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info };
        var child = new HeldChild(process, string.Join(' ', commandLine));
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (child._stderr) child._stderr.Append(e.Data).Append('\n'); };
        process.Start();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the next line, which must start with <paramref name="word"/>; returns the rest of it.</summary>
    public string Expect(string word)
    {
        Task<string?> read = _process.StandardOutput.ReadLineAsync();
        if (!read.Wait(LineTimeout))
            throw new TimeoutException($"'{_description}' printed no '{word}' line within {LineTimeout.TotalSeconds:F0} s");
        string? line = read.Result;
        if (line is null || !(line == word || line.StartsWith(word + " ", StringComparison.Ordinal)))
        {
            _process.WaitForExit(5000);
            string stderr;
            lock (_stderr) stderr = _stderr.ToString().TrimEnd();
            throw new InvalidOperationException($"'{_description}' printed {(line is null ? "nothing more" : $"'{line}'")} where '{word}' was expected" +
                $"{(_process.HasExited ? $" and exited with {_process.ExitCode}" : "")}; stderr: {(stderr.Length == 0 ? "(empty)" : stderr)}");
        }
        return line.Length == word.Length ? "" : line[(word.Length + 1)..];
    }

    /// <summary>Tells the child to load (the line it waits for after "idle").</summary>
    public void Go()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    public SmapsRollup Memory() => SmapsRollup.Of(_process.Id);

    /// <summary>Ends stdin, which ends the child; one that does not exit is killed (it is ours, by its id).</summary>
    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(30_000)) _process.Kill();
            _process.WaitForExit();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // Never started, already reaped, or gone with its end of the pipe.
        }
        _process.Dispose();
    }
}
