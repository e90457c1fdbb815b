using System.Diagnostics;
using System.IO.Hashing;
using System.Text.Json;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.Memory;
using AotCache.Reader;
using AotCache.Reader.Memory;
using AotCache.Writer;

namespace AotCache.Bench;

/// <summary>
/// The quick mode: every figure of the performance issue as a ratio of two things measured side by side
/// in this run (medians of interleaved repetitions), printed as one JSON object.
/// </summary>
public static class QuickRun
{
    public static int Run(int[] sizes, int repetitions, TextWriter log, bool peer = true, bool remote = true)
    {
        string directory = Directory.CreateTempSubdirectory("aotcache-bench-").FullName;
        var result = new Dictionary<string, object>();
        var perFunctionWarm = new Dictionary<int, double>();
        var perFunctionFloor = new Dictionary<int, double>();
        var hotSwap = new Dictionary<int, double>();
        try
        {
            // The gcc peer is built (or found cached) before anything is measured; see PeerFigures.
            var processFigures = Peer.PeerFigures.Prepare(sizes, peer, directory, log);
            foreach (int n in sizes)
            {
                log.WriteLine($"[{n} functions] generating and compiling (cold)...");
                var workload = new Workload(n);
                string path = Path.Combine(directory, $"bench{n}.aotc");

                // Cold start: compile everything with the Iced backend, write, then link (load).
                var sw = Stopwatch.StartNew();
                byte[] file = workload.CompileAll();
                double compileSeconds = sw.Elapsed.TotalSeconds;
                AtomicFile.Write(path, file);
                using (LoadedModule.LoadFile(path, Workload.LoadOptions())) { }
                double cold = sw.Elapsed.TotalSeconds;

                // Warm start and the physical floor, interleaved, on a collected heap: the cold compile (and, before it,
                // the smaller sizes' front-end builds) leave gigabytes of garbage whose collection would land in whichever
                // warm start happens to allocate next. A warm start is a fresh process: it inherits no such heap.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                // Warm start and the physical floor, interleaved.
                var warm = new List<double>();
                var floor = new List<double>();
                var hashFloor = new List<double>();
                // The unwinder's deferred work: classifying and sorting the module's FDEs on its first lookup.
                var firstLookup = new List<double>();
                long allocated = 0, mapped = 0;
                bool codeMapped = false;
                for (int r = -2; r < repetitions; r++) // two unmeasured rounds first: the JIT, not the format, is not measured
                {
                    sw.Restart();
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    using (var module = LoadedModule.LoadFile(path, Workload.LoadOptions()))
                    {
                        if (r >= 0) warm.Add(sw.Elapsed.TotalSeconds);
                        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                        mapped = module.Region.Size;
                        codeMapped = module.CodeMappedFromFile;
                        sw.Restart();
                        bool found = FrameRegistration.Covers(module.GetSymbolAddress(Workload.Name(n - 1)) + 1, out _);
                        if (r >= 0 && found) firstLookup.Add(sw.Elapsed.TotalSeconds);
                    }

                    double f = Floor(path);
                    if (r >= 0) floor.Add(f);
                    double h = HashFloor(path);
                    if (r >= 0) hashFloor.Add(h);
                }
                double warmMedian = Median(warm), floorMedian = Median(floor), hashFloorMedian = Median(hashFloor);
                Dictionary<string, object> tools = ToolCosts(file, path, directory, repetitions);
                perFunctionWarm[n] = warmMedian / n;
                perFunctionFloor[n] = floorMedian / n;

                using var image = CacheImage.Read(file);
                long instructions = CountInstructions(image.Code);
                result[$"n{n}"] = new Dictionary<string, object>
                {
                    ["file_bytes"] = file.Length,
                    ["cold_over_warm"] = Round(cold / warmMedian),
                    ["warm_over_floor"] = Round(warmMedian / floorMedian),
                    ["warm_ms"] = Round(warmMedian * 1000),
                    ["floor_ms"] = Round(floorMedian * 1000),
                    ["cold_ms"] = Round(cold * 1000),
                    ["iced_instructions_per_second"] = Math.Round(instructions / compileSeconds),
                    ["loader_peak_over_mapped"] = Round((allocated + (double)mapped) / mapped),
                    ["hash_floor_ms"] = Round(hashFloorMedian * 1000),
                    ["warm_over_hash_floor"] = Round(warmMedian / hashFloorMedian),
                    ["code_mapped_from_file"] = codeMapped,
                    ["bytes_per_function"] = BytesPerFunction(image, n),
                    ["unwind_first_lookup_ms"] = firstLookup.Count > 0 ? Round(Median(firstLookup) * 1000) : -1,
                };
                foreach (var (key, value) in tools) ((Dictionary<string, object>)result[$"n{n}"])[key] = value;
                processFigures.AddDlopen(n, warmMedian, (Dictionary<string, object>)result[$"n{n}"]);

                hotSwap[n] = HotSwapOne(path, workload);
                ((Dictionary<string, object>)result[$"n{n}"])["hot_swap_one_us"] = Round(hotSwap[n] * 1e6);

                if (n == 10_000 || sizes.Length == 1)
                {
                    var (rebuild, compiled, writerBytesPerSecond) = Incremental(workload, image);
                    ((Dictionary<string, object>)result[$"n{n}"])["incremental_over_cold"] = Round(rebuild / cold);
                    ((Dictionary<string, object>)result[$"n{n}"])["incremental_recompiled"] = compiled;
                    ((Dictionary<string, object>)result[$"n{n}"])["writer_mb_per_second"] = Round(writerBytesPerSecond / 1e6);
                    var frontEnd = FrontEndIncremental(n, directory, log);
                    ((Dictionary<string, object>)result[$"n{n}"])["nib_incremental_over_cold"] = Round(frontEnd.Incremental / frontEnd.Cold);
                    ((Dictionary<string, object>)result[$"n{n}"])["nib_first_edit_over_cold"] = Round(frontEnd.FirstEdit / frontEnd.Cold);
                    ((Dictionary<string, object>)result[$"n{n}"])["nib_incremental_written_fraction"] = Round(frontEnd.WrittenFraction);
                    ((Dictionary<string, object>)result[$"n{n}"])["nib_incremental_recompiled"] = frontEnd.Compiled;
                    ((Dictionary<string, object>)result[$"n{n}"])["nib_incremental_edited_in_place"] = frontEnd.InPlace;
                    if (remote) Remote.RemoteFigures.Add(n, directory, log, (Dictionary<string, object>)result[$"n{n}"]);
                }
                processFigures.AddProcessAndMemory(n, path, (Dictionary<string, object>)result[$"n{n}"]);
                log.WriteLine($"[{n} functions] cold {cold * 1000:F0} ms, warm {warmMedian * 1000:F2} ms, floor {floorMedian * 1000:F2} ms, hot-swap {hotSwap[n] * 1e6:F0} µs");
            }
            if (sizes.Length > 1)
            {
                result["warm_per_function_largest_over_smallest"] = Round(perFunctionWarm[sizes[^1]] / perFunctionWarm[sizes[0]]);
                // The same ratio for the physical floor: how flat the machine itself lets a per-function cost be.
                result["floor_per_function_largest_over_smallest"] = Round(perFunctionFloor[sizes[^1]] / perFunctionFloor[sizes[0]]);
                result["hot_swap_largest_over_smallest"] = Round(hotSwap[sizes[^1]] / hotSwap[sizes[0]]);
            }
            (double staleSmall, double staleLarge) = StrictStaleLoad(2_000, 4_000);
            result["stale_strict_load_ms"] = new Dictionary<string, object> { ["n2000"] = Round(staleSmall * 1000), ["n4000"] = Round(staleLarge * 1000) };
            result["stale_strict_load_4000_over_2000"] = Round(staleLarge / staleSmall);
            result["machine"] = Machine;
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary><c>--remote-only</c>: the team cache's figures alone, for each size, as one JSON object.</summary>
    public static int RunRemoteOnly(int[] sizes, TextWriter log)
    {
        string directory = Directory.CreateTempSubdirectory("aotcache-bench-").FullName;
        try
        {
            var result = new Dictionary<string, object>();
            foreach (int n in sizes)
            {
                var figures = new Dictionary<string, object>();
                Remote.RemoteFigures.Add(n, directory, log, figures);
                result[$"n{n}"] = figures;
            }
            result["machine"] = Machine;
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static string Machine =>
        $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    /// <summary>What a zero-copy loader cannot avoid: map the file (as the reader does) and hash every byte once.</summary>
    private static double HashFloor(string path)
    {
        var sw = Stopwatch.StartNew();
        using MappedFile file = MappedFile.OpenRead(path);
        ulong hash = XxHash3.HashToUInt64(file.Memory.Span);
        double seconds = sw.Elapsed.TotalSeconds;
        GC.KeepAlive(hash);
        return seconds;
    }

    /// <summary>
    /// What telling the process's tools about a module costs a warm start (FORMAT.md §19.4), as ratios of medians of
    /// loads interleaved in rotating order (so that none always follows the cache-cold floor): registering unwind
    /// information against the same load without it (target ≤ 1.10), the whole feature (the same module written without
    /// an Unwind section, nothing to validate or register), and the opt-in perf map and debugger registration.
    /// </summary>
    private static Dictionary<string, object> ToolCosts(byte[] file, string path, string directory, int repetitions)
    {
        string plain = Path.Combine(directory, Path.GetFileNameWithoutExtension(path) + "-no-unwind.aotc");
        AtomicFile.Write(plain, WithoutUnwind(file));
        (string Path, LoadOptions Options)[] variants =
        [
            (path, Workload.LoadOptions()),
            (path, Workload.LoadOptions() with { RegisterUnwindInfo = false }),
            (plain, Workload.LoadOptions()),
            (path, Workload.LoadOptions() with { PerfMap = true, PerfMapDirectory = directory }),
            (path, Workload.LoadOptions() with { RegisterWithDebugger = true }),
        ];
        // Each round loads every variant once; a ratio is the median over rounds of the two loads' ratio in one round,
        // so that a busy machine's slow stretches (other processes on the two cores) fall on both sides of it.
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (int r = -1; r < 3 * repetitions; r++)
            for (int k = 0; k < variants.Length; k++)
            {
                int v = (k + Math.Max(r, 0)) % variants.Length;
                var sw = Stopwatch.StartNew();
                using (LoadedModule.LoadFile(variants[v].Path, variants[v].Options))
                    if (r >= 0) times[v].Add(sw.Elapsed.TotalSeconds);
            }
        File.Delete(plain);
        double Paired(int over, int under) => Round(Median([.. times[over].Zip(times[under], (a, b) => a / b)]));
        return new Dictionary<string, object>
        {
            ["unwind_registration_over_without"] = Paired(0, 1),
            ["unwind_file_over_file_without_unwind"] = Paired(0, 2),
            ["unwind_registered_ms"] = Round(Median(times[0]) * 1000),
            ["unwind_not_registered_ms"] = Round(Median(times[1]) * 1000),
            ["no_unwind_section_ms"] = Round(Median(times[2]) * 1000),
            ["perf_map_over_warm"] = Paired(3, 0),
            ["debugger_registration_over_warm"] = Paired(4, 0),
        };
    }

    /// <summary>The same module with no function's unwind information: what a file of format 1.1 would hold.</summary>
    internal static byte[] WithoutUnwind(byte[] file, bool prelink = true)
    {
        using CacheImage image = CacheImage.Read(file);
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = image.ModuleName, Prelink = prelink };
        builder.AddFingerprint("compiler.version", Workload.CompilerVersion);
        foreach (SymbolRecord s in image.Symbols)
            if (s.Kind == SymbolKind.ImportFunction) builder.AddImportFunction(image.GetString(s.Name), builder.AddDeclaration(image.GetSignature((int)s.Declaration)));
        var handles = new SymbolHandle[image.Functions.Length];
        for (int f = 0; f < handles.Length; f++)
        {
            SymbolRecord s = image.Symbols[(int)image.Functions[f].Symbol];
            handles[f] = builder.DeclareFunction(image.GetString(s.Name), builder.AddDeclaration(image.GetSignature((int)s.Declaration)), s.Linkage);
        }
        for (int f = 0; f < handles.Length; f++) builder.DefineFunction(handles[f], image.GetFunctionBody(f) with { Unwind = null });
        return builder.ToArray();
    }

    /// <summary>Bytes per function of each section of the file, and of the whole file.</summary>
    private static Dictionary<string, object> BytesPerFunction(CacheImage image, int functions)
    {
        var bytes = new Dictionary<string, object>();
        long listed = 0;
        foreach (SectionEntry e in image.Directory)
        {
            bytes[CacheImage.KindName(e.Kind).ToLowerInvariant()] = Round((double)e.Size / functions);
            listed += (long)e.Size;
        }
        bytes["header_directory_padding"] = Round((double)(image.File.Length - listed) / functions);
        bytes["file"] = Round((double)image.File.Length / functions);
        return bytes;
    }

    /// <summary>The physical floor: map the file, hash every byte, one mapping, copy the code, one protection change.</summary>
    private static double Floor(string path)
    {
        var sw = Stopwatch.StartNew();
        using MappedFile file = MappedFile.OpenRead(path);
        ReadOnlySpan<byte> bytes = file.Memory.Span;
        ulong hash = XxHash3.HashToUInt64(bytes);
        IExecutableMemory memory = LinuxMemory.Instance;
        // The code section is page-aligned and runs to near the end of a benchmark file: copy that many bytes.
        long size = (bytes.Length + memory.PageSize - 1) / memory.PageSize * memory.PageSize;
        MemoryRegion region = memory.Allocate(size);
        region.Write(0, bytes);
        memory.Protect(region, 0, size, PageProtection.ReadExecute);
        double seconds = sw.Elapsed.TotalSeconds;
        memory.Free(region);
        GC.KeepAlive(hash);
        return seconds;
    }

    /// <summary>
    /// Median time of a strict load refused for stale callers, at two sizes: every one of n callers calls its own callee
    /// (n distinct signatures) compiled against a signature the file lacks, so the refusal names 2n signatures. Linear
    /// work gives a ratio near 2; the per-reference scan of every declaration it replaced gave 4.
    /// </summary>
    private static (double Small, double Large) StrictStaleLoad(int small, int large)
    {
        byte[] Build(int n)
        {
            var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale-callers" };
            Signature Distinct(int i)
            {
                var parameters = new List<Format.ScalarType>();
                do { parameters.Add((Format.ScalarType)(1 + i % 5)); i /= 5; } while (i > 0);
                return Signature.SysV([.. parameters], [Format.ScalarType.I64]);
            }
            Signature callerSignature = b.AddDeclaration(Distinct(0)).Signature;
            for (int i = 0; i < n; i++)
            {
                var callee = b.AddFunction($"callee{i}", new FunctionBody([0xB8, 7, 0, 0, 0, 0xC3], b.AddDeclaration(Distinct(i)).Signature));
                b.AddFunction($"caller{i}", new FunctionBody([0xE8, 0, 0, 0, 0, 0xC3], callerSignature,
                    [new Relocation(1, RelocationKind.FunctionPcRel32, callee.Name, -4, Distinct(n + i).Hash)]));
            }
            return b.ToArray();
        }
        double Time(byte[] file)
        {
            var times = new List<double>();
            for (int r = -1; r < 7; r++)
            {
                using var image = CacheImage.Read(file); // a fresh image: no index left from the previous round
                var sw = Stopwatch.StartNew();
                if (LoadedModule.TryLoad(image, null, out LoadedModule? module, out _)) module!.Dispose();
                if (r >= 0) times.Add(sw.Elapsed.TotalSeconds);
            }
            return Median(times);
        }
        byte[] smallFile = Build(small), largeFile = Build(large);
        return (Time(smallFile), Time(largeFile));
    }

    /// <summary>Median time of committing a one-function redefinition in a hot-swappable module.</summary>
    private static double HotSwapOne(string path, Workload workload)
    {
        using var module = LoadedModule.LoadFile(path, Workload.LoadOptions(LinkMode.HotSwappable));
        int target = workload.Functions / 2;
        FunctionBody[] updates = [.. Enumerable.Range(1, 25).Select(v => UpdateFor(workload, workload.Function(target, new Random(target), variant: v)))];
        // Many commits, so that the median is the steady state: the first ones also grow the code arena, and
        // single commits of ~100 µs are at the mercy of a shared machine's scheduler.
        var times = new List<double>();
        for (int i = 0; i < 301; i++)
        {
            var sw = Stopwatch.StartNew();
            module.BeginUpdate().Redefine(Workload.Name(target), updates[i % updates.Length]).Commit();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return Median(times);
    }

    /// <summary>Compiles one function for a hot-swap update, against the program's symbols.</summary>
    private static FunctionBody UpdateFor(Workload workload, IrFunction f)
    {
        var module = workload.Module with { Functions = [f, .. workload.Module.Functions.Where(g => g.Name != f.Name && Calls(f, g.Name))] };
        var checker = IrChecker.Check(module with { Functions = [.. module.Functions.Select(g => g.Name == f.Name ? g : g with { Body = [] })] });
        return IrCompiler.CompileFunction(workload.Scope(), checker, f) with { ContentHash = Workload.HashOf(f) };
    }

    private static bool Calls(IrFunction f, string name) => f.Body.Any(s => s.ToString().Contains($"Callee = {name},", StringComparison.Ordinal));

    private static (double Seconds, int Compiled, double WriterBytesPerSecond) Incremental(Workload workload, CacheImage previous)
    {
        int edited = workload.Functions / 3;
        IrModule edit = workload.Module with
        {
            Functions = [.. workload.Module.Functions.Select((f, i) => i == edited ? workload.Function(i, new Random(i), variant: 7) : f)],
        };
        var times = new List<double>();
        int compiled = 0;
        byte[] file = [];
        for (int r = 0; r < 5; r++)
        {
            var sw = Stopwatch.StartNew();
            (file, compiled) = workload.Rebuild(edit, previous);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        // Writer throughput: lay out and write an already-defined module.
        var builder = new CacheBuilder(TargetDescription.LinuxX64);
        IrCompiler.AddTo(builder, workload.Module);
        var w = Stopwatch.StartNew();
        int bytes = builder.ToArray().Length;
        double writer = bytes / w.Elapsed.TotalSeconds;
        return (Median(times), compiled, writer);
    }

    /// <summary>
    /// The front end's own figure: a cold build of a generated Nib program (parse, check, compile every function
    /// with Iced, write) against the build after editing one function's body (find the change, recompile it,
    /// edit the previous cache in place). Each build gives one function a new body (a new variant every time) and
    /// edits the cache the build before wrote, as an edit-build loop does. The first edit after the cold build is
    /// also reported apart: it is the one a user meets first (the cold build, which pays for the cache's spare copy,
    /// has left it a few pages to write, like every later one).
    /// </summary>
    private static (double Cold, double Incremental, double FirstEdit, int Compiled, bool InPlace, double WrittenFraction) FrontEndIncremental(
        int n, string directory, TextWriter log)
    {
        // Warm-up on a small program: the bench runs without tiered compilation, so first calls pay the JIT.
        NibBuild(directory, "warmup", 200, null);
        NibBuild(directory, "warmup", 200, 50);
        NibBuild(directory, "warmup", 200, 50, variant: 2);

        double cold = NibBuild(directory, "nib", n, null).Seconds;
        double first = NibBuild(directory, "nib", n, n / 3, variant: 1).Seconds;
        var times = new List<double>();
        int compiled = 0;
        bool inPlace = true;
        Demo.Build.BuildResult? last = null;
        for (int r = 0; r < 7; r++)
        {
            var (seconds, result) = NibBuild(directory, "nib", n, n / 3, variant: r + 2);
            times.Add(seconds);
            compiled = result.Compiled + result.StaleRecompiled;
            inPlace &= result.Incremental;
            last = result;
        }
        log.WriteLine($"[{n} functions] Nib cold build {cold * 1000:F0} ms, first edit {first * 1000:F1} ms, later edits {Median(times) * 1000:F1} ms " +
            $"(last: find the change {last!.AnalyzeTime.TotalMilliseconds:F1} ms, compile and edit {last.CompileTime.TotalMilliseconds:F1} ms, " +
            $"write {last.WriteTime.TotalMilliseconds:F1} ms for {last.Write!.Value.BytesWritten} of {last.Write.Value.Length} bytes)");
        return (cold, Median(times), first, compiled, inPlace, (double)last.Write.Value.BytesWritten / last.Write.Value.Length);
    }

    private static (double Seconds, Demo.Build.BuildResult Result) NibBuild(string directory, string name, int functions, int? edit, int variant = 1)
    {
        string text = Demo.Generator.ProgramGenerator.Generate(new Demo.Generator.GeneratorOptions(functions, Seed: 7, Edit: edit, EditVariant: variant));
        var file = new Demo.Build.SourceFile(Path.Combine(directory, name + ".nib"), System.Text.Encoding.UTF8.GetBytes(text));
        var options = new Demo.Build.BuildOptions { CacheDirectory = Path.Combine(directory, name + "-cache") };
        var sw = Stopwatch.StartNew();
        Demo.Build.BuildResult result = Demo.Build.BuildEngine.Build(file, new Demo.Build.HostLibrary(TextWriter.Null), options).Result;
        return (sw.Elapsed.TotalSeconds, result);
    }

    private static long CountInstructions(ReadOnlySpan<byte> code)
    {
        var decoder = Iced.Intel.Decoder.Create(64, new Iced.Intel.ByteArrayCodeReader(code.ToArray()));
        long count = 0;
        while (decoder.IP < (ulong)code.Length)
        {
            decoder.Decode(out Iced.Intel.Instruction ins);
            if (ins.Code != Iced.Intel.Code.Int3) count++;
        }
        return count;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static double Round(double v) => Math.Round(v, 3);
}
