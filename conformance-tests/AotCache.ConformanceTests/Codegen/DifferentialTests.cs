using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.DiffRunner;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>
/// Issue 3, differential testing: for generated programs, the reference interpreter and the compiled code
/// agree bit for bit: <c>interpret(p, args) == call(load(write(compile(p))), args)</c>, including what the
/// host imports saw (how often the counted C# callbacks ran and with what) and every writable global after
/// each call. The compiled side runs in a child process (<see cref="DiffRunnerProcess"/>) that only reads
/// the cache files: nothing the compiler or writer left in this process's memory can help it.
/// </summary>
public sealed partial class DifferentialTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Programs per run: 1000, or AOTCACHE_DIFF_PROGRAMS for a longer exploration.</summary>
    private static readonly int Programs =
        int.TryParse(Environment.GetEnvironmentVariable("AOTCACHE_DIFF_PROGRAMS"), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 1000;

    private readonly string _directory = Directory.CreateTempSubdirectory("aotc-diff-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed class Counters
    {
        public int Compared, Discarded, Calls, HostCalls, Files;
    }

    [Fact]
    public void ISSUE_3_compiled_programs_run_in_another_process_agree_with_the_interpreter()
    {
        var stopwatch = Stopwatch.StartNew();
        var counters = new Counters();
        using var runner = new DiffRunnerProcess();
        Property property = Prop.ForAll(IrProgramGenerator.Arbitrary(), program => Agree(program, runner, counters));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Programs).WithMaxRejected(Programs / 10).WithQuietOnSuccess(true), property);

        output.WriteLine($"{counters.Compared} programs compared ({counters.Calls} entry calls, {counters.HostCalls} counted host calls), " +
                         $"{counters.Discarded} discarded, {runner.Starts} runner process(es), {stopwatch.Elapsed.TotalSeconds:F1} s");
        Assert.True(counters.Compared >= Programs, $"only {counters.Compared} programs were compared");
        Assert.True(counters.Discarded * 20 <= counters.Compared, $"{counters.Discarded} programs were discarded: the generator makes too many runaways");
        Assert.True(counters.HostCalls > counters.Compared, "the generated programs hardly call the counted host callbacks");
        Assert.Equal(1, runner.Starts);
    }

    /// <summary>One program: interpret, compile and write, run in the child, compare; throws with both sides and
    /// the program's listing on any difference.</summary>
    private Property Agree(DiffProgram program, DiffRunnerProcess runner, Counters counters)
    {
        IReadOnlyList<EntryOutcome>? expected = Interpret(program);
        if (expected is null)
        {
            counters.Discarded++;
            return false.When(false); // the interpreter ran out of fuel or stack: nothing to compare
        }
        string path = Path.Combine(_directory, $"p{counters.Files++}.aotc");
        File.WriteAllBytes(path, IrCompiler.Compile(program.Module, program.Options));
        IReadOnlyList<EntryOutcome> actual;
        try
        {
            actual = runner.Run(new DiffRequest(path, program.ResultIsF64, program.WritableGlobals, program.Calls));
        }
        finally
        {
            File.Delete(path);
        }
        counters.Compared++;
        counters.Calls += program.Calls.Count;
        counters.HostCalls += (int)expected.Sum(o => o.HostCalls);
        if (!expected.SequenceEqual(actual)) throw new DifferentialMismatchException(Describe(program, expected, actual));
        return true.ToProperty();
    }

    /// <summary>What the interpreter says each entry call yields; null when it traps (a runaway program).</summary>
    public static IReadOnlyList<EntryOutcome>? Interpret(DiffProgram program)
    {
        var host = new DiffHostState();
        var interpreter = new IrInterpreter(program.Module, (import, args) => CallHost(host, import, args),
            new IrInterpreterLimits { MaxSteps = 2_000_000, MaxCallDepth = 100 });
        var outcomes = new List<EntryOutcome>();
        try
        {
            foreach (EntryArguments a in program.Calls)
            {
                host.Reset();
                IrValue? result = interpreter.Invoke(DiffRequest.EntryName,
                    IrValue.I64(a.Depth), IrValue.I64(a.A), IrValue.I64(a.B), IrValue.F64Bits(a.XBits), IrValue.F64Bits(a.YBits));
                outcomes.Add(new EntryOutcome(result!.Value.Bits, host.Calls, host.Checksum,
                    [.. program.WritableGlobals.Select(g => interpreter.GetGlobal(g).Bits)]));
            }
        }
        catch (IrTrapException)
        {
            return null;
        }
        return outcomes;
    }

    /// <summary>The interpreter's side of the imports: the same C# callbacks as the child's, and the same libc/libm exports.</summary>
    internal static IrValue CallHost(DiffHostState host, IrImport import, ReadOnlySpan<IrValue> args) => import.Name switch
    {
        DiffHost.Tick => IrValue.I64(DiffHost.TickResult(host, args[0].Bits)),
        DiffHost.Mix => IrValue.F64(DiffHost.MixResult(host, args[0].Bits, args[1].AsF64)),
        DiffHost.Note => Note(host, args[0].Bits),
        DiffHost.Labs => IrValue.I64(Labs(args[0].Bits)),
        DiffHost.Floor => IrValue.F64(Floor(args[0].AsF64)),
        _ => throw new InvalidOperationException($"no host function '{import.Name}'"),
    };

    private static IrValue Note(DiffHostState host, long argument)
    {
        DiffHost.NoteEffect(host, argument);
        return default;
    }

    [LibraryImport("libc.so.6", EntryPoint = "labs")]
    private static partial long Labs(long value);

    [LibraryImport("libm.so.6", EntryPoint = "floor")]
    private static partial double Floor(double value);

    private static string Describe(DiffProgram program, IReadOnlyList<EntryOutcome> expected, IReadOnlyList<EntryOutcome> actual)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"compiled code and interpreter disagree ({(program.Shrunk ? "shrunk from " : "")}seed {program.Seed}, size {program.Size})\n");
        for (int i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"call {i}: {(i < program.Calls.Count ? program.Calls[i].ToString() : "?")}\n");
            sb.Append("  interpreter: ").Append(i < expected.Count ? Show(expected[i], program.ResultIsF64) : "-").Append('\n');
            sb.Append("  compiled:    ").Append(i < actual.Count ? Show(actual[i], program.ResultIsF64) : "-").Append('\n');
        }
        sb.Append(program);
        return sb.ToString();
    }

    private static string Show(EntryOutcome o, bool f64) => string.Create(CultureInfo.InvariantCulture,
        $"result {(f64 ? IrValue.F64Bits(o.ResultBits) : IrValue.I64(o.ResultBits))}, host calls {o.HostCalls}, checksum {o.HostChecksum}, " +
        $"globals [{string.Join(", ", o.GlobalBits.Select(b => "0x" + b.ToString("x16", CultureInfo.InvariantCulture)))}]");
}

/// <summary>The compiled code computed something other than the interpreter.</summary>
public sealed class DifferentialMismatchException(string message) : Exception(message);
