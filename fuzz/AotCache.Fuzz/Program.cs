using System.Globalization;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using SharpFuzz;

namespace AotCache.Fuzz;

/// <summary>
/// Commands (fuzz/README.md):
/// <list type="bullet">
/// <item>no arguments: the AFL++ entry point; each input is one candidate cache file given to <see cref="Target.Run"/>;</item>
/// <item><c>seed-corpus [--out DIR]</c>: regenerate fuzz/corpus from the golden caches and the spec vectors;</item>
/// <item><c>ci [--seconds N] [--executions N] [--seed S] [--corpus DIR] [--findings DIR] [--queue DIR]</c>: the bounded in-process coverage-guided run;</item>
/// <item><c>replay FILE...</c>: run inputs through the target uninstrumented and say what each did;</item>
/// <item><c>to-vector FILE NAME</c>: print a finding as a spec vector (annotated hex with its expected error).</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                Target.Run(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            });
            return 0;
        }
        try
        {
            return args[0] switch
            {
                "seed-corpus" => SeedCorpusCommand(Options(args)),
                "ci" => CiCommand(Options(args)),
                "replay" => Replay(args[1..]),
                "to-vector" when args.Length == 3 => ToVector(args[1], args[2]),
                _ => Usage($"unknown command '{string.Join(' ', args)}'"),
            };
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"error: {problem}");
        Console.Error.WriteLine("usage: AotCache.Fuzz                (AFL++ entry point, see fuzz/README.md)");
        Console.Error.WriteLine("       AotCache.Fuzz seed-corpus [--out DIR]");
        Console.Error.WriteLine("       AotCache.Fuzz ci [--seconds N] [--executions N] [--seed S] [--corpus DIR] [--findings DIR] [--queue DIR]");
        Console.Error.WriteLine("       AotCache.Fuzz replay FILE...");
        Console.Error.WriteLine("       AotCache.Fuzz to-vector FILE NAME");
        return 2;
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected --name value, got '{args[i]}'");
            options[args[i][2..]] = args[i + 1];
        }
        return options;
    }

    private static int SeedCorpusCommand(Dictionary<string, string> options)
    {
        string root = SeedCorpus.RepositoryRoot();
        string directory = options.GetValueOrDefault("out") ?? SeedCorpus.DefaultDirectory(root);
        int count = SeedCorpus.Write(root, directory);
        long bytes = Directory.EnumerateFiles(directory).Sum(p => new FileInfo(p).Length);
        Console.WriteLine($"{count} seeds, {bytes} bytes, in {directory}");
        return 0;
    }

    private static int CiCommand(Dictionary<string, string> options)
    {
        string root = SeedCorpus.RepositoryRoot();
        string corpus = options.GetValueOrDefault("corpus") ?? SeedCorpus.DefaultDirectory(root);
        FuzzReport report = RunCi(
            TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("seconds") ?? "45", CultureInfo.InvariantCulture)),
            int.Parse(options.GetValueOrDefault("seed") ?? "1", CultureInfo.InvariantCulture),
            SeedCorpus.Load(corpus),
            options.GetValueOrDefault("findings") ?? Path.Combine(root, "fuzz", "findings", "in-process"),
            options.GetValueOrDefault("queue"),
            Console.Out,
            long.Parse(options.GetValueOrDefault("executions") ?? long.MaxValue.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
        return report.Finding is null ? 0 : 1;
    }

    /// <summary>The bounded run: instrument, fuzz, print the report (and a finding as hex). Shared with the CI test.</summary>
    public static FuzzReport RunCi(TimeSpan duration, int seed, IReadOnlyList<byte[]> seeds, string? findings, string? queue, TextWriter log,
        long maxExecutions = long.MaxValue, TimeSpan? perInputLimit = null)
    {
        using var target = new InstrumentedTarget();
        log.WriteLine($"instrumented {string.Join(", ", target.Summary)}");
        var fuzzer = new InProcessFuzzer(target.Run, new CoverageMap())
        {
            Duration = duration,
            MaxExecutions = maxExecutions,
            PerInputLimit = perInputLimit ?? TimeSpan.FromSeconds(2),
            Seed = seed,
            FindingsDirectory = findings,
            QueueDirectory = queue,
        };
        FuzzReport report = fuzzer.Run(seeds);
        log.WriteLine($"seed {seed}: {report}");
        if (report.Finding is { } f)
        {
            log.WriteLine($"{f.Kind}: {f.Detail}");
            log.WriteLine($"input ({f.Input.Length} bytes){(f.SavedAs is null ? "" : $", saved as {f.SavedAs}")}:");
            log.WriteLine(Convert.ToHexString(f.Input));
        }
        return report;
    }

    private static int Replay(string[] files)
    {
        if (files.Length == 0) throw new ArgumentException("replay needs at least one file");
        int failures = 0;
        foreach (string file in files)
        {
            try
            {
                Target.Run(File.ReadAllBytes(file));
                Console.WriteLine($"{file}: ok ({Outcome(File.ReadAllBytes(file))})");
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"{file}: CRASH {e}");
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>What the reader says about an input, read as the target reads it (checksums fixed up if they fail).</summary>
    private static string Outcome(byte[] input)
    {
        byte[] bytes = input;
        try
        {
            try
            {
                using CacheImage image = CacheImage.Read(bytes, ReadOptions.Full);
            }
            catch (AotCacheException e) when (e.Code is ErrorCode.FileChecksumMismatch or ErrorCode.SectionChecksumMismatch)
            {
                bytes = (byte[])input.Clone();
                if (!Target.FixChecksums(bytes)) throw;
                using CacheImage image = CacheImage.Read(bytes, ReadOptions.Full);
            }
            using CacheImage accepted = CacheImage.Read(bytes, ReadOptions.Full);
            Target.Link(accepted, LinkMode.Direct, StalePolicy.Lenient);
            return (bytes == input ? "" : "checksums fixed up; ") + "read and linked";
        }
        catch (AotCacheException e)
        {
            return (bytes == input ? "" : "checksums fixed up; ") + $"{e.Code} ({(int)e.Code}) at {e.Offset} [{e.Requirement}]";
        }
        catch (HarnessLimitException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Prints a finding in the text form of spec/vectors/README.md, 16 bytes a line, with the error the
    /// (fixed) reader reports as its expectation. Review it, mark the broken field, and commit it under
    /// spec/vectors/regression/.
    /// </summary>
    private static int ToVector(string file, string name)
    {
        byte[] input = File.ReadAllBytes(file);
        AotCacheException error;
        try
        {
            using CacheImage image = CacheImage.Read(input, ReadOptions.Full);
            Console.Error.WriteLine($"{file}: the reader accepts it; a regression of the loader belongs in a loader test, not a vector");
            return 1;
        }
        catch (AotCacheException e)
        {
            error = e;
        }
        var w = Console.Out;
        w.WriteLine($"# {name}: found by the fuzzer (fuzz/README.md). {error.Detail}");
        w.WriteLine($"@expect error {error.Code} {(int)error.Code} at 0x{error.Offset:X}");
        w.WriteLine($"@requirement {error.Requirement}");
        w.WriteLine("@fixup none");
        for (int at = 0; at < input.Length; at += 16)
        {
            ReadOnlySpan<byte> line = input.AsSpan(at, Math.Min(16, input.Length - at));
            string hex = string.Join(' ', line.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
            string mark = error.Offset >= at && error.Offset < at + line.Length ? $" ; <== BROKEN at 0x{error.Offset:X}" : "";
            w.WriteLine($"{at:X8}: {hex}{mark}");
        }
        return 0;
    }
}
