using AotCache.ConformanceTests.FrontEnd;
using AotCache.Demo.Build;
using AotCache.Format;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Native;

/// <summary>
/// The example C host (tools/c-host, built with its Makefile) runs caches the Nib front end wrote through libaotcache,
/// with host functions of its own, and prints what nib itself prints for the same program.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class CHostTests(NativeToolchain native)
{
    private ChildProcess.Result CHost(params string[] arguments) => ChildProcess.Run(native.CHost, arguments, TimeSpan.FromMinutes(2));

    /// <summary>Builds <paramref name="text"/> with the front end (in-process) and runs its cache with nib's own host functions.</summary>
    private (string CachePath, string Output, long Result) BuildAndRun(string name, string text)
    {
        BuildResult build = Nib.Build(native.NewDirectory(name), text, name);
        var (output, result, _) = Nib.Run(build.CachePath);
        return (build.CachePath, output, result);
    }

    [Fact]
    public void The_C_host_runs_the_tours_program_and_prints_what_nib_prints()
    {
        var (cache, output, result) = BuildAndRun("tour", File.ReadAllText(Path.Combine(Nib.ExamplesDirectory, "tour.nib")));
        ChildProcess.Result run = CHost(cache);
        Assert.True(run.ExitCode == (int)(result & 0xFF), $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Equal(output, run.Stdout); // host print_i64 and print_f64, libm's sqrt, a writable global
        Assert.Contains("6765\n", run.Stdout);
    }

    [Fact]
    public void The_C_host_runs_a_generated_program_of_300_functions_as_nib_does()
    {
        var (cache, output, _) = BuildAndRun("generated", Nib.Generated(300));
        ChildProcess.Result run = CHost(cache, "--hot-swappable");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(output, run.Stdout);
    }

    [Fact]
    public void The_C_hosts_print_f64_writes_numbers_as_nib_does()
    {
        const string program = """
            extern fn print_f64(x: f64);
            fn main() -> i64 {
                print_f64(0.5);
                print_f64(5.0);
                print_f64(100.0);
                print_f64(3.0 / 7.0);
                print_f64(1.0 / 3000.0);
                print_f64(0.00001);
                print_f64(0.000001);
                print_f64(123456789012345.0);
                print_f64(1000000000000000.0);
                print_f64(10000000000000000.0);
                print_f64(100000000000000000.0);
                print_f64(12345678901234567890.0);
                print_f64(0.0 - 2.5);
                print_f64(0.0);
                let zero = 0.0;
                print_f64(1.0 / zero);
                print_f64(zero / zero);
                return 0;
            }
            """;
        var (cache, output, _) = BuildAndRun("floats", program);
        ChildProcess.Result run = CHost(cache);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(output, run.Stdout);
    }

    [Fact]
    public void The_C_host_refuses_a_cache_that_imports_its_host_function_with_another_signature()
    {
        // print_i64 imported as (f64) -> void: the C host registers it as (i64) -> void.
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "wrong" };
        b.AddImportFunction("print_i64", b.AddDeclaration(Signature.SysV([ScalarType.F64], [])));
        b.AddFunction("main", new FunctionBody([0x31, 0xC0, 0xC3], Signature.SysV([], [ScalarType.I64]))); // xor eax, eax; ret
        string path = Path.Combine(native.NewDirectory("wrong"), "wrong.aotc");
        File.WriteAllBytes(path, b.ToArray());
        ChildProcess.Result run = CHost(path);
        Assert.Equal(4, run.ExitCode);
        Assert.Contains("status 5, error code 203", run.Stderr);
        Assert.Contains("requirement LOAD-4", run.Stderr);
        Assert.Contains("'print_i64' was registered as sysv (i64) -> void", run.Stderr);
        Assert.Contains("the file declares sysv (f64) -> void", run.Stderr);
    }

    [Fact]
    public void The_C_host_refuses_a_stale_caller_strictly_and_in_lenient_mode_reports_the_call_that_reached_it()
    {
        // leaf() = 7; caller() = leaf() + 1, compiled against leaf as (i64) -> i64: stale [LOAD-5]; main() = caller() + 1.
        Signature noneToI64 = Signature.SysV([], [ScalarType.I64]);
        byte[] callThenAdd1 = [0x48, 0x83, 0xEC, 0x08, 0xE8, 0, 0, 0, 0, 0x48, 0x83, 0xC4, 0x08, 0x48, 0xFF, 0xC0, 0xC3];
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale" };
        b.AddFunction("leaf", new FunctionBody([0xB8, 0x07, 0, 0, 0, 0xC3], noneToI64));
        b.AddFunction("caller", new FunctionBody(callThenAdd1, noneToI64,
            [new Relocation(5, RelocationKind.FunctionPcRel32, "leaf", -4, Signature.SysV([ScalarType.I64], [ScalarType.I64]).Hash)]));
        b.AddFunction("main", new FunctionBody(callThenAdd1, noneToI64, [new Relocation(5, RelocationKind.FunctionPcRel32, "caller", -4)]));
        string path = Path.Combine(native.NewDirectory("stale"), "stale.aotc");
        File.WriteAllBytes(path, b.ToArray());

        ChildProcess.Result strict = CHost(path);
        Assert.Equal(4, strict.ExitCode);
        Assert.Contains("cannot load the cache: status 4, error code 205", strict.Stderr);
        Assert.Contains("requirement LOAD-5", strict.Stderr);

        ChildProcess.Result lenient = CHost(path, "--lenient");
        Assert.Equal(4, lenient.ExitCode);
        Assert.Contains("the program reached a refused function: status 7, error code 205, offset -1, requirement LOAD-5", lenient.Stderr);
        Assert.Contains("refused function 'caller'", lenient.Stderr);
    }

    [Fact]
    public void The_C_host_reports_a_malformed_cache_with_the_specs_code_offset_and_requirement()
    {
        string path = Path.Combine(native.NewDirectory("garbage"), "garbage.aotc");
        File.WriteAllBytes(path, new byte[200]);
        ChildProcess.Result run = CHost(path);
        Assert.Equal(4, run.ExitCode);
        Assert.Contains("status 3, error code 1, offset 0, requirement HDR-1: BadMagic (1)", run.Stderr);
    }
}
