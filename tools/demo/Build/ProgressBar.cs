using System.Diagnostics;

namespace AotCache.Demo.Build;

/// <summary>
/// Shows a build's progress from the start of the analysis (parsing, then binding and keying each function) through
/// compiling, but only once the build has taken more than a moment (quick builds print nothing). On a terminal it
/// redraws one bar in place per phase; when the output is a file or a pipe it prints a line at each quarter instead,
/// so logs stay readable. Reports may come from several threads at once (the analysis binds in parallel).
/// </summary>
public sealed class ProgressBar(TextWriter output, bool interactive, TimeSpan? delay = null) : IProgress<BuildProgress>
{
    private const int Width = 30;

    /// <summary>Builds of fewer functions are quick whatever the clock says (the first one pays for JIT warm-up).</summary>
    public const int MinimumFunctions = 64;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _delay = delay ?? TimeSpan.FromMilliseconds(300);
    private readonly Lock _lock = new();
    private int _lastQuarter = -1, _lastPercent = -1;
    private string? _phase;
    private bool _drawn;

    public void Report(BuildProgress value)
    {
        if (value.Total < MinimumFunctions || _clock.Elapsed < _delay) return;
        lock (_lock)
        {
            if (value.Phase != _phase)
            {
                FinishLine();
                _phase = value.Phase;
                _lastQuarter = _lastPercent = -1;
            }
            int percent = (int)(100L * value.Done / value.Total);
            if (interactive)
            {
                // Parallel reports arrive slightly out of order: the bar only moves forward.
                if (percent <= _lastPercent) return;
                _lastPercent = percent;
                int filled = Width * value.Done / value.Total;
                output.Write($"\r{value.Phase} [{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}% {value.Done}/{value.Total} functions");
                _drawn = true;
                if (value.Done == value.Total) FinishLine();
                return;
            }
            int quarter = percent / 25;
            if (quarter <= _lastQuarter) return;
            _lastQuarter = quarter;
            output.WriteLine($"{value.Phase}: {percent}% ({value.Done}/{value.Total} functions, {_clock.Elapsed.TotalSeconds:F1} s)");
        }
    }

    /// <summary>Ends the bar's line, if one was drawn.</summary>
    public void Finish()
    {
        lock (_lock) FinishLine();
    }

    private void FinishLine()
    {
        if (!_drawn) return;
        output.WriteLine();
        _drawn = false;
    }
}
