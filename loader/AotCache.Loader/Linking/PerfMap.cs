using System.Globalization;
using System.Text;

namespace AotCache.Loader.Linking;

/// <summary>
/// The perf map of this process (<c>DIR/perf-PID.map</c>, by default <c>/tmp/perf-PID.map</c>): one line
/// <c>START SIZE NAME</c> per function, START and SIZE in hex, which <c>perf report</c>, <c>perf top</c> and other
/// profilers read to name code that no ELF file describes. Lines are only appended: a hot-swap adds its new bodies,
/// and a profiler takes the most recent line that covers an address.
/// </summary>
internal static class PerfMap
{
    private static readonly object s_lock = new(); // a monitor: net8.0 has no System.Threading.Lock

    public static string PathIn(string directory) => Path.Combine(directory, $"perf-{Environment.ProcessId}.map");

    /// <summary>Appends one line per function; <paramref name="codeAddress"/> plus each offset is where it starts.</summary>
    public static void Append(string directory, nint codeAddress, IReadOnlyList<(string Name, long Offset, long Size)> functions)
    {
        var text = new StringBuilder(functions.Count * 32);
        foreach (var (name, offset, size) in functions)
            text.Append(((long)codeAddress + offset).ToString("x", CultureInfo.InvariantCulture)).Append(' ')
                .Append(size.ToString("x", CultureInfo.InvariantCulture)).Append(' ')
                .Append(CodeRegistration.ToolName(name)).Append('\n');
        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        lock (s_lock)
        {
            using var stream = new FileStream(PathIn(directory), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write(bytes);
        }
    }
}
