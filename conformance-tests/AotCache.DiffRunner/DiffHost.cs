namespace AotCache.DiffRunner;

/// <summary>
/// The host functions that differential-test programs import, defined once so that the loaded code (in
/// this process) and the reference interpreter (in the test process) call the same thing. The C#
/// callbacks count their calls in a <see cref="DiffHostState"/>; the libc and libm ones are real exports.
/// </summary>
public static class DiffHost
{
    /// <summary><c>i64 host_tick(i64)</c>: a counted C# callback whose result depends on how many calls came before.</summary>
    public const string Tick = "host_tick";

    /// <summary><c>f64 host_mix(i64, f64)</c>: a counted C# callback with mixed argument types.</summary>
    public const string Mix = "host_mix";

    /// <summary><c>void host_note(i64)</c>: a counted C# callback without result; folds its argument into a checksum.</summary>
    public const string Note = "host_note";

    /// <summary><c>long labs(long)</c> from libc.so.6.</summary>
    public const string Labs = "labs";

    /// <summary><c>double floor(double)</c> from libm.so.6.</summary>
    public const string Floor = "floor";

    public static readonly string[] NativeLibraries = ["libc.so.6", "libm.so.6"];

    /// <summary>x86's default NaN, which host_mix returns for any NaN so that its result does not depend on
    /// how the JIT ordered the operands of its own arithmetic.</summary>
    private const long DefaultNaNBits = unchecked((long)0xFFF8_0000_0000_0000);

    public static long TickResult(DiffHostState state, long argument)
    {
        state.Calls++;
        return unchecked(argument * 31 + state.Calls);
    }

    public static double MixResult(DiffHostState state, long a, double x)
    {
        state.Calls++;
        double r = x * 0.5 + (a & 0xFFFF) + state.Calls;
        return double.IsNaN(r) ? BitConverter.Int64BitsToDouble(DefaultNaNBits) : r;
    }

    public static void NoteEffect(DiffHostState state, long argument)
    {
        state.Calls++;
        state.Checksum = unchecked(state.Checksum * 1_000_003 + argument);
    }
}

/// <summary>What the counted host callbacks have seen since the last <see cref="Reset"/>.</summary>
public sealed class DiffHostState
{
    public long Calls { get; set; }
    public long Checksum { get; set; }

    public void Reset()
    {
        Calls = 0;
        Checksum = 0;
    }
}
