using System.CommandLine;
using System.Diagnostics;
using AotCache.Codegen;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.Linking;

namespace AotCache.Demo;

/// <summary>
/// <c>aotcache-demo</c>: compile the demo functions, write <c>demo.aotc</c>, then start a fresh process
/// (<c>aotcache-demo run FILE</c>) that loads the cache and calls into it. Nothing compiled in the first
/// process is visible to the second: it has only the file.
/// </summary>
public static class Program
{
    /// <summary>A host function the loaded code imports.</summary>
    private delegate void PrintI64(long value);

    public static int Main(string[] args)
    {
        var cacheDir = new Option<DirectoryInfo>("--cache-dir") { Description = "Where to write demo.aotc (default: a fresh temporary directory)" };
        var root = new RootCommand("AotCache demo: compile with Iced, write a cache file, load and run it in a fresh process");
        root.Options.Add(cacheDir);
        root.SetAction(parse => CompileAndRunFresh(parse.GetValue(cacheDir)));

        var file = new Argument<FileInfo>("file") { Description = "The cache file to load" };
        var run = new Command("run", "Load a demo cache file and run its functions (the fresh process)");
        run.Arguments.Add(file);
        run.SetAction(parse => RunFromCache(parse.GetValue(file)!));
        root.Subcommands.Add(run);
        return root.Parse(args).Invoke();
    }

    private static int CompileAndRunFresh(DirectoryInfo? cacheDir)
    {
        string directory = cacheDir?.FullName ?? Directory.CreateTempSubdirectory("aotcache-demo-").FullName;
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "demo.aotc");

        var stopwatch = Stopwatch.StartNew();
        byte[] bytes = IrCompiler.Compile(DemoProgram.Module(), new IrCompileOptions { Producer = "aotcache-demo 1.0" });
        TimeSpan compile = stopwatch.Elapsed;
        // Nothing half-written is ever left under the final name: write a temporary file, then rename.
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
        using (CacheImage image = CacheImage.Read(bytes, ReadOptions.Full))
            Console.WriteLine($"compiled {image.Functions.Length} functions ({image.Code.Length} bytes of x86-64, {image.Relocations.Length} relocations) in {compile.TotalMilliseconds:F1} ms");
        Console.WriteLine($"wrote {path} ({bytes.Length} bytes)");

        Console.WriteLine($"starting a fresh process to load it (this process: {Environment.ProcessId})");
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add("run");
        start.ArgumentList.Add(path);
        using Process child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        string errors = child.StandardError.ReadToEnd();
        child.WaitForExit();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) Console.WriteLine("  | " + line);
        foreach (string line in errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)) Console.Error.WriteLine("  ! " + line);
        Console.WriteLine(child.ExitCode == 0 ? "the fresh process ran the cached code successfully" : $"the fresh process failed (exit code {child.ExitCode})");
        return child.ExitCode;
    }

    private static int RunFromCache(FileInfo file)
    {
        var printed = new List<long>();
        var imports = new ChainedResolver(
            new ImportTable().Add("print_i64", new PrintI64(value => { printed.Add(value); Console.WriteLine($"print_i64({value}) called from cached code"); })),
            new NativeLibraryResolver("libc.so.6"));
        var stopwatch = Stopwatch.StartNew();
        LoadedModule module;
        try
        {
            module = LoadedModule.LoadFile(file.FullName, new LoadOptions { Imports = imports });
        }
        catch (AotCacheException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        using (module)
        {
            Console.WriteLine($"process {Environment.ProcessId} loaded {file.Name} in {stopwatch.Elapsed.TotalMilliseconds:F2} ms: " +
                $"{module.Image.Functions.Length} functions, one mapping of {module.Region.Size} bytes at 0x{module.Region.Address:x}");
            foreach (var (start, length, protection) in module.Segments)
                Console.WriteLine($"  segment 0x{start:x} +{length,-6} {protection}");
            foreach (var (function, arguments) in DemoProgram.Runs)
            {
                stopwatch.Restart();
                Value result = module.Invoke(function, [.. arguments.Select(Value.I64)]);
                Console.WriteLine($"{function}({string.Join(", ", arguments)}) = {result}   [{stopwatch.Elapsed.TotalMilliseconds:F2} ms]");
            }
        }
        return 0;
    }
}
