using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace AotCache.Fuzz;

/// <summary>
/// <see cref="Target.Run"/> running against SharpFuzz-instrumented copies of AotCache.Format, AotCache.Reader and
/// AotCache.Loader, without the SharpFuzz command-line tool: the assemblies are copied to a temporary
/// folder, instrumented there with <see cref="SharpFuzz.Fuzzer.Instrument"/> (the library call the tool
/// makes), and loaded with a copy of this assembly into their own <see cref="AssemblyLoadContext"/>.
/// Everything else (SharpFuzz.Common's trace map, System.IO.Hashing, the runtime) is shared with the
/// default context, so the branches the instrumented code takes land in <see cref="CoverageMap"/>.
/// </summary>
public sealed class InstrumentedTarget : IDisposable
{
    private static readonly string[] s_instrumented = ["AotCache.Format", "AotCache.Reader", "AotCache.Loader", "AotCache.Writer", "AotCache.Remote"];

    private readonly DirectoryInfo _folder;
    private readonly Context _context;

    public Action<ReadOnlyMemory<byte>> Run { get; }

    /// <summary>How many types were instrumented per assembly, e.g. "AotCache.Format: 40 types".</summary>
    public IReadOnlyList<string> Summary { get; }

    public InstrumentedTarget()
    {
        _folder = Directory.CreateTempSubdirectory("aotcache-fuzz-");
        var summary = new List<string>();
        foreach (string name in s_instrumented)
        {
            string copy = CopyBeside(name);
            int types = SharpFuzz.Fuzzer.Instrument(copy, type => type.StartsWith("AotCache.", StringComparison.Ordinal), SharpFuzz.Options.Value).Count();
            if (types == 0) throw new InvalidOperationException($"SharpFuzz instrumented no type of {name}");
            summary.Add($"{name}: {types} types");
        }
        string harness = CopyBeside(typeof(Target).Assembly.GetName().Name!);
        _context = new Context(_folder.FullName);
        Assembly loaded = _context.LoadFromAssemblyPath(harness);
        MethodInfo run = loaded.GetType(typeof(Target).FullName!, throwOnError: true)!.GetMethod(nameof(Target.Run))!;
        Run = run.CreateDelegate<Action<ReadOnlyMemory<byte>>>();
        if (!IsInstrumented(loaded))
            throw new InvalidOperationException("the harness copy did not bind to the instrumented assemblies");
        Summary = summary;
    }

    private bool IsInstrumented(Assembly harness) =>
        harness.GetReferencedAssemblies().Where(r => s_instrumented.Contains(r.Name))
            .All(r => AssemblyLoadContext.GetLoadContext(_context.LoadFromAssemblyName(r)) == _context);

    private string CopyBeside(string assemblyName)
    {
        string source = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        if (!File.Exists(source)) source = Assembly.Load(assemblyName).Location;
        string destination = Path.Combine(_folder.FullName, assemblyName + ".dll");
        File.Copy(source, destination, overwrite: true);
        return destination;
    }

    public void Dispose()
    {
        _context.Unload();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the files may still be mapped until the context is collected.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Resolves the instrumented copies (and the harness copy) from the folder; everything else from the default context.</summary>
    private sealed class Context(string folder) : AssemblyLoadContext("aotcache-fuzz", isCollectible: true)
    {
        protected override Assembly? Load(AssemblyName name)
        {
            string path = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}

/// <summary>
/// The AFL-style edge map that instrumented code writes: SharpFuzz.Common's <c>Trace.SharedMem</c> pointed at
/// a pinned 64 KiB array of ours, <c>Trace.PrevLocation</c> reset before each input. Hit counts are bucketed as
/// AFL does (1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+); an input is interesting when it sets a bucket never seen.
/// </summary>
public sealed class CoverageMap
{
    public const int Size = 1 << 16;

    private static readonly FieldInfo s_sharedMem = TraceField("SharedMem");
    private static readonly FieldInfo s_prevLocation = TraceField("PrevLocation");

    private readonly byte[] _trace = GC.AllocateArray<byte>(Size, pinned: true);
    private readonly byte[] _seen = new byte[Size];     // bucket bits ever seen, per edge

    /// <summary>Edges (map entries) ever hit.</summary>
    public int Edges { get; private set; }

    /// <summary>Points the instrumentation at this map. Only one map can be attached at a time.</summary>
    public void Attach()
    {
        // SharedMem is a byte*; reflection stores an IntPtr into a pointer field, which keeps this project free of unsafe code.
        s_sharedMem.SetValue(null, Marshal.UnsafeAddrOfPinnedArrayElement(_trace, 0));
    }

    public static void Detach() => s_sharedMem.SetValue(null, IntPtr.Zero);

    /// <summary>Before each input: an empty map and a fresh previous location.</summary>
    public void Reset()
    {
        Array.Clear(_trace);
        s_prevLocation.SetValue(null, 0);
    }

    /// <summary>After an input: merges its edges; true when it reached an edge or a hit-count bucket never seen before.</summary>
    public bool MergeNew()
    {
        bool fresh = false;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(_trace);
        for (int w = 0; w < words.Length; w++)
        {
            if (words[w] == 0) continue;
            for (int i = w * 8; i < w * 8 + 8; i++)
            {
                byte hits = _trace[i];
                if (hits == 0) continue;
                byte bucket = Bucket(hits);
                byte before = _seen[i];
                if ((before & bucket) != 0) continue;
                if (before == 0) Edges++;
                _seen[i] = (byte)(before | bucket);
                fresh = true;
            }
        }
        return fresh;
    }

    /// <summary>Map entries the last input hit (any count).</summary>
    public int LastEdgeCount()
    {
        int n = 0;
        foreach (byte b in _trace) if (b != 0) n++;
        return n;
    }

    private static byte Bucket(byte hits) => hits switch
    {
        1 => 1,
        2 => 2,
        3 => 4,
        <= 7 => 8,
        <= 15 => 16,
        <= 31 => 32,
        <= 127 => 64,
        _ => 128,
    };

    private static FieldInfo TraceField(string name) =>
        typeof(SharpFuzz.Common.Trace).GetField(name, BindingFlags.Public | BindingFlags.Static)
        ?? throw new InvalidOperationException($"SharpFuzz.Common.Trace.{name} not found: the SharpFuzz version changed");
}
