using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Loader;

namespace AotCache.DiffRunner;

/// <summary>
/// Reads requests (<see cref="DiffRequest"/>), one per line, from standard input; for each, loads the
/// cache file with <see cref="LoadedModule"/>, calls <c>entry</c> through a typed function pointer for every
/// argument set, and answers with one line of outcomes. Prints a ready line first; runs until end of input or <c>quit</c>.
/// </summary>
public static unsafe class Program
{
    private static readonly DiffHostState s_host = new();

    public static int Main()
    {
        var signatureI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
        var table = new ImportTable()
            .Add(DiffHost.Tick, (nint)(delegate* unmanaged<long, long>)&Tick, signatureI64)
            .Add(DiffHost.Mix, (nint)(delegate* unmanaged<long, double, double>)&Mix, Signature.SysV([ScalarType.I64, ScalarType.F64], [ScalarType.F64]))
            .Add(DiffHost.Note, (nint)(delegate* unmanaged<long, void>)&Note, Signature.SysV([ScalarType.I64], []));
        using var libraries = new NativeLibraryResolver(DiffHost.NativeLibraries);
        var options = new LoadOptions { Imports = new ChainedResolver(table, libraries) };

        Console.Out.WriteLine(DiffRequest.Ready); // the parent waits for this line, however long starting took
        Console.Out.Flush();
        string? line;
        while ((line = Console.In.ReadLine()) is not null && line != "quit")
        {
            string reply;
            try
            {
                reply = DiffRequest.FormatReply(Run(DiffRequest.Parse(line), options));
            }
            catch (Exception e)
            {
                reply = DiffRequest.FormatError($"{e.GetType().Name}: {e.Message}");
            }
            Console.Out.WriteLine(reply);
            Console.Out.Flush();
        }
        return 0;
    }

    private static List<EntryOutcome> Run(DiffRequest request, LoadOptions options)
    {
        using LoadedModule module = LoadedModule.LoadFile(request.Path, options);
        ScalarType result = request.ResultIsF64 ? ScalarType.F64 : ScalarType.I64;
        nint entry = module.GetFunctionPointer(DiffRequest.EntryName,
            Signature.SysV([ScalarType.I64, ScalarType.I64, ScalarType.I64, ScalarType.F64, ScalarType.F64], [result]));
        nint[] globals = [.. request.Globals.Select(module.GetSymbolAddress)];
        var outcomes = new List<EntryOutcome>();
        foreach (EntryArguments a in request.Calls)
        {
            s_host.Reset();
            long bits = request.ResultIsF64
                ? BitConverter.DoubleToInt64Bits(((delegate* unmanaged<long, long, long, double, double, double>)entry)(a.Depth, a.A, a.B, a.X, a.Y))
                : ((delegate* unmanaged<long, long, long, double, double, long>)entry)(a.Depth, a.A, a.B, a.X, a.Y);
            module.ThrowIfRefusedCallOccurred();
            outcomes.Add(new EntryOutcome(bits, s_host.Calls, s_host.Checksum, [.. globals.Select(g => Marshal.ReadInt64(g))]));
        }
        return outcomes;
    }

    [UnmanagedCallersOnly]
    private static long Tick(long argument) => DiffHost.TickResult(s_host, argument);

    [UnmanagedCallersOnly]
    private static double Mix(long a, double x) => DiffHost.MixResult(s_host, a, x);

    [UnmanagedCallersOnly]
    private static void Note(long argument) => DiffHost.NoteEffect(s_host, argument);
}
