using System.Diagnostics;

namespace AotCache.Demo.Build;

/// <summary>
/// Shows the compile step's progress, but only once it has taken more than a moment (quick builds print
/// nothing). On a terminal it redraws one bar in place; when the output is a file or a pipe it prints a line
/// at each quarter instead, so logs stay readable.
/// </summary>
public sealed class ProgressBar(TextWriter output, bool interactive, TimeSpan? delay = null) : IProgress<BuildProgress>
{
    private const int Width = 30;

    /// <summary>Builds of fewer functions are quick whatever the clock says (the first one pays for JIT warm-up).</summary>
    public const int MinimumFunctions = 64;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _delay = delay ?? TimeSpan.FromMilliseconds(300);
    private int _lastQuarter = -1, _lastPercent = -1;
    private bool _drawn;

    public void Report(BuildProgress value)
    {
        if (value.Total < MinimumFunctions || _clock.Elapsed < _delay) return;
        int percent = (int)(100L * value.Done / value.Total);
        if (interactive)
        {
            if (percent == _lastPercent) return;
            _lastPercent = percent;
            int filled = Width * value.Done / value.Total;
            output.Write($"\rcompiling [{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}% {value.Done}/{value.Total} functions");
            _drawn = true;
            if (value.Done == value.Total) Finish();
            return;
        }
        int quarter = percent / 25;
        if (quarter == _lastQuarter) return;
        _lastQuarter = quarter;
        output.WriteLine($"compiling: {percent}% ({value.Done}/{value.Total} functions, {_clock.Elapsed.TotalSeconds:F1} s)");
    }

    /// <summary>Ends the bar's line, if one was drawn.</summary>
    public void Finish()
    {
        if (!_drawn) return;
        output.WriteLine();
        _drawn = false;
    }
}
