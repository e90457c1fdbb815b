using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace AotCache.Bench;

/// <summary>What the bench was asked to run.</summary>
internal enum BenchMode
{
    /// <summary>BenchmarkDotNet, with the tokens this parser did not know (e.g. <c>--filter *</c>).</summary>
    BenchmarkDotNet,
    Quick,
    PeerOnly,
    RemoteOnly,
    WarmLoop,
}

/// <summary>A parsed command line of the bench.</summary>
/// <param name="Sizes">Function counts (<c>--sizes</c>), or null when not given (each mode has its default).</param>
/// <param name="WarmLoop">With <see cref="BenchMode.WarmLoop"/>: functions and loads.</param>
/// <param name="BenchmarkArguments">The tokens left for BenchmarkDotNet.</param>
internal sealed record BenchInvocation(BenchMode Mode, int[]? Sizes, int Repetitions, bool Peer, bool Remote,
    (int Functions, int Count) WarmLoop, bool Plain, IReadOnlyList<string> BenchmarkArguments);

/// <summary>
/// The bench's command line, parsed with System.CommandLine: <c>--quick [--sizes 1000,10000,100000] [--repetitions 9]
/// [--no-peer] [--no-remote]</c>, <c>--peer-only</c>, <c>--remote-only</c>, <c>--warm-loop N COUNT [--plain]</c>; anything
/// else goes to BenchmarkDotNet. (The loader child's switch is the bench talking to itself, checked before this.)
/// </summary>
internal static class BenchCommandLine
{
    public const int ExitUsage = 2;

    /// <summary>The invocation, or null after printing the errors (exit <see cref="ExitUsage"/>) or the help (exit 0).</summary>
    public static BenchInvocation? Parse(string[] args, TextWriter output, TextWriter errors, out int exit)
    {
        var quick = new Option<bool>("--quick") { Description = "One JSON object of ratios measured side by side (about a minute)" };
        var sizes = new Option<int[]?>("--sizes")
        {
            Description = "Function counts, comma-separated (default 1000,10000,100000; --remote-only: 10000)",
            HelpName = "N,N,...",
            CustomParser = ParseSizes,
        };
        var repetitions = new Option<int>("--repetitions") { Description = "Measurements per figure (median taken)", DefaultValueFactory = _ => 9 };
        repetitions.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--repetitions must be at least 1");
        });
        var noPeer = new Option<bool>("--no-peer") { Description = "Leave out the gcc peer (needs gcc; minutes of compiling the first time)" };
        var noRemote = new Option<bool>("--no-remote") { Description = "Leave out the team cache's figures (need a local redis-server)" };
        var peerOnly = new Option<bool>("--peer-only") { Description = "Only the gcc peer's figures" };
        var remoteOnly = new Option<bool>("--remote-only") { Description = "Only the team cache's figures" };
        var warmLoop = new Option<int[]?>("--warm-loop")
        {
            Description = "Write an N-function cache once, load it COUNT times, print medians (for profilers)",
            HelpName = "N COUNT",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
        };
        var plain = new Option<bool>("--plain") { Description = "With --warm-loop: an unprelinked cache" };

        var root = new RootCommand("AotCache benchmarks. Anything not listed here is passed to BenchmarkDotNet (e.g. --filter '*').")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        foreach (Option o in new Option[] { quick, sizes, repetitions, noPeer, noRemote, peerOnly, remoteOnly, warmLoop, plain }) root.Options.Add(o);
        root.Validators.Add(r =>
        {
            int modes = new[] { r.GetValue(quick), r.GetValue(peerOnly), r.GetValue(remoteOnly), r.GetResult(warmLoop) is not null }.Count(m => m);
            if (modes > 1) r.AddError("choose one of --quick, --peer-only, --remote-only and --warm-loop");
            if (r.GetValue(plain) && r.GetResult(warmLoop) is null) r.AddError("--plain is an option of --warm-loop");
            if (r.GetResult(warmLoop) is not null && r.GetValue(warmLoop) is { } w && w.Any(n => n < 1)) r.AddError("--warm-loop takes two positive numbers: functions and loads");
        });

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not { ClearsParseErrors: true })
        {
            foreach (ParseError e in parsed.Errors) errors.WriteLine($"error: {e.Message}");
            errors.WriteLine("usage: aotcache-bench --quick [--sizes N,N,...] [--repetitions N] [--no-peer] [--no-remote] | --peer-only | --remote-only | " +
                "--warm-loop N COUNT [--plain] | BenchmarkDotNet arguments (see --help)");
            exit = ExitUsage;
            return null;
        }
        if (parsed.Action is { ClearsParseErrors: true }) // --help (and --version): printed, nothing to run
        {
            exit = parsed.Invoke(new InvocationConfiguration { Output = output, Error = errors });
            return null;
        }
        exit = 0;
        BenchMode mode = parsed.GetValue(quick) ? BenchMode.Quick
            : parsed.GetValue(peerOnly) ? BenchMode.PeerOnly
            : parsed.GetValue(remoteOnly) ? BenchMode.RemoteOnly
            : parsed.GetResult(warmLoop) is not null ? BenchMode.WarmLoop
            : BenchMode.BenchmarkDotNet;
        int[] loop = parsed.GetResult(warmLoop) is not null && parsed.GetValue(warmLoop) is { Length: 2 } given ? given : [0, 0];
        return new BenchInvocation(mode, parsed.GetResult(sizes) is null ? null : parsed.GetValue(sizes), parsed.GetValue(repetitions), !parsed.GetValue(noPeer), !parsed.GetValue(noRemote),
            (loop[0], loop[1]), parsed.GetValue(plain), [.. parsed.UnmatchedTokens]);
    }

    private static int[]? ParseSizes(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var sizes = new List<int>();
        foreach (string part in text.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 2)
            {
                result.AddError($"--sizes takes function counts of at least 2, separated by commas (1000,10000), not '{text}'");
                return null;
            }
            sizes.Add(n);
        }
        return [.. sizes];
    }
}
