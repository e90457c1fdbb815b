using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using static System.Runtime.InteropServices.CallingConvention;

namespace AotCache.Demo.Build;

/// <summary>A function the host gives Nib programs through <c>extern fn</c>.</summary>
public sealed record HostFunction(string Name, IReadOnlyList<IrType> Parameters, IrType? Result, Delegate Implementation, string Description)
{
    public Signature Signature => IrCompiler.SignatureOf(Parameters, Result);
}

/// <summary>
/// The host functions a Nib program may declare <c>extern</c>, printing to one writer. An extern the host
/// does not provide is looked up among the exports of libm and libc (e.g. <c>sqrt</c>, <c>labs</c>) at load.
/// </summary>
public sealed class HostLibrary
{
    // Stored as Delegate (HostFunction.Implementation): the attribute makes NativeAOT compile their native-call stubs.
    [UnmanagedFunctionPointer(Cdecl)] private delegate void I64Sink(long value);
    [UnmanagedFunctionPointer(Cdecl)] private delegate void F64Sink(double value);
    [UnmanagedFunctionPointer(Cdecl)] private delegate long I64ToI64(long value);
    [UnmanagedFunctionPointer(Cdecl)] private delegate long NoArgumentI64();

    private readonly Dictionary<string, HostFunction> _functions = new(StringComparer.Ordinal);
    private long _ticks;

    public HostLibrary(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Output = output;
        Add("print_i64", [IrType.I64], null, new I64Sink(v => Output.Write(v.ToString(CultureInfo.InvariantCulture) + "\n")),
            "prints an integer and a line break");
        Add("print_f64", [IrType.F64], null, new F64Sink(v => Output.Write(v.ToString("R", CultureInfo.InvariantCulture) + "\n")),
            "prints a number (shortest round-trip form) and a line break");
        Add("print_char", [IrType.I64], null, new I64Sink(PrintChar), "prints one Unicode character, no line break");
        Add("tick", [IrType.I64], IrType.I64, new I64ToI64(v => { Interlocked.Increment(ref _ticks); return v + 1; }),
            "returns its argument plus one and counts its calls (used by generated programs)");
        Add("clock_ms", [], IrType.I64, new NoArgumentI64(() => Environment.TickCount64), "milliseconds since an arbitrary start");
    }

    public TextWriter Output { get; }

    /// <summary>Calls of <c>tick</c> so far.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    public IReadOnlyDictionary<string, HostFunction> Functions => _functions;

    /// <summary>The resolver for a loaded program: these functions, then libm and libc exports.</summary>
    public IImportResolver CreateResolver()
    {
        var table = new ImportTable();
        foreach (HostFunction f in _functions.Values) table.Add(f.Name, f.Implementation, f.Signature);
        // The libraries stay loaded for the life of the process: loaded code keeps their addresses.
        return new ChainedResolver(table, new NativeLibraryResolver("libm.so.6", "libc.so.6"));
    }

    private void Add(string name, IrType[] parameters, IrType? result, Delegate implementation, string description) =>
        _functions.Add(name, new HostFunction(name, parameters, result, implementation, description));

    private void PrintChar(long codePoint)
    {
        bool valid = codePoint is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF);
        Output.Write(valid ? char.ConvertFromUtf32((int)codePoint) : "\uFFFD");
    }

    /// <summary>How a host function is declared in Nib, for messages and documentation.</summary>
    public static string Describe(string name, IReadOnlyList<IrType> parameters, IrType? result)
    {
        var text = new StringBuilder("extern fn ").Append(name).Append('(');
        for (int i = 0; i < parameters.Count; i++)
            text.Append(i == 0 ? "" : ", ").Append("p").Append(i).Append(": ").Append(TypeName(parameters[i]));
        text.Append(')');
        if (result is { } r) text.Append(" -> ").Append(TypeName(r));
        return text.Append(';').ToString();
    }

    public static string TypeName(IrType t) => t == IrType.I64 ? "i64" : "f64";
}
