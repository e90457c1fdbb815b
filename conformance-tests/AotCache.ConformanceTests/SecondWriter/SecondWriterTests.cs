using System.Runtime.InteropServices;
using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Loader;
using AotCache.Loader.Linking;
using ValueType = AotCache.Format.ValueType;

namespace AotCache.ConformanceTests.SecondWriter;

/// <summary>
/// Files from the independent Python writer, loaded by the C# loader and run: if the two sides read
/// FORMAT.md differently, a call returns a wrong value or the file is refused.
/// </summary>
public sealed unsafe class SecondWriterTests(PythonWriter.Programs programs) : IClassFixture<PythonWriter.Programs>, IDisposable
{
    private static readonly Signature I64ToI64 = Signature.SysV([ValueType.I64], [ValueType.I64]);
    private const long HostValue = 0x1234_5678_9ABC;

    private readonly long* _hostValue = (long*)NativeMemory.AlignedAlloc(8, 8);

    public void Dispose() => NativeMemory.AlignedFree(_hostValue);

    [UnmanagedCallersOnly]
    private static long Scale(long x) => x * 3;

    private ImportTable Imports()
    {
        *_hostValue = HostValue;
        return new ImportTable()
            .Add("host_scale", (nint)(delegate* unmanaged<long, long>)&Scale, I64ToI64)
            .Add("host_value", (nint)_hostValue);
    }

    private LoadedModule Load(string name, HostEnvironment? host = null) =>
        LoadedModule.LoadFile(programs.PathOf(name), new LoadOptions
        {
            Imports = Imports(),
            Host = host ?? HostEnvironment.Current,
            Read = ReadOptions.Full,
        });

    private static long Call(LoadedModule module, string name, params long[] args) =>
        module.Invoke(name, [.. args.Select(Value.I64)]).AsI64;

    [Fact]
    public void Calls_a_call_a_tail_call_a_jcc_and_a_thunk_to_defined_functions_run()
    {
        var host = HostEnvironment.Current with
        {
            Fingerprint = new Dictionary<string, FingerprintValue> { ["compiler"] = FingerprintValue.String("aotcache-python 1") },
        };
        using LoadedModule module = Load("calls", host);

        Assert.Equal(11, Call(module, "twice_plus_one", 5));  // call double_it, jmp add_one
        Assert.Equal(7, Call(module, "abs_or_double", -7));   // js negate
        Assert.Equal(12, Call(module, "abs_or_double", 6));   // jmp double_it
        Assert.Equal(42, Call(module, "via_thunk", 41));      // ThunkPcRel32 to a defined function: L = S
    }

    [Fact]
    public void LOAD_2_the_python_writers_equal_fingerprint_component_is_compared()
    {
        using CacheImage image = CacheImage.OpenFile(programs.PathOf("calls"), ReadOptions.Full);
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { Imports = Imports() }));
        Assert.Equal(ErrorCode.FingerprintMismatch, e.Code);
        Assert.Contains("compiler", e.Message);
    }

    [Fact]
    public void Imports_through_a_thunk_and_through_slots_reach_the_host()
    {
        using LoadedModule module = Load("imports");

        Assert.Equal(21, Call(module, "call_thunk", 7));          // call host_scale via the loader's thunk
        Assert.Equal(24, Call(module, "call_slot", 8));           // call [rip+slot]
        Assert.Equal(HostValue, Call(module, "read_host_value")); // mov rax, [rip+slot]; mov rax, [rax]
        Assert.Equal(42, Call(module, "slot_to_local", 21));      // jmp [rip+slot] holding a local function
    }

    [Fact]
    public void Data_is_reached_rip_relative_with_addends_minus_8_minus_5_and_offsets_into_objects()
    {
        using LoadedModule module = Load("data");

        Assert.Equal(5 + 0x1000, Call(module, "bump"));   // add qword [rip+counter], imm32: A = -8
        Assert.Equal(5 + 0x2000, Call(module, "bump"));   // writable data keeps its value
        Assert.Equal(1, Call(module, "is_seven"));        // cmp qword [rip+seven], imm8: A = -5
        Assert.Equal('l', Call(module, "third_char"));    // [rip+text+2]: A = -4 + 2
        Assert.Equal(99, Call(module, "stash", 99));      // zero-filled object, 8 bytes in: A = -4 + 8
        using CacheImage image = CacheImage.OpenFile(programs.PathOf("data"));
        Assert.Equal(16, image.ZeroFillSize);
    }

    [Fact]
    public void A_function_pointer_table_of_absolute64_entries_dispatches_to_functions_and_the_host()
    {
        using LoadedModule module = Load("table");

        Assert.Equal(42, Call(module, "apply", 0, 41));   // add_one
        Assert.Equal(42, Call(module, "apply", 1, 21));   // double_it
        Assert.Equal(-5, Call(module, "apply", 2, 5));    // negate
        Assert.Equal(21, Call(module, "apply", 3, 7));    // host_scale, an Absolute64 to an import
        Assert.Equal(100, Call(module, "call_second", 50)); // movabs rax, ops+8: Absolute64 with A = 8
    }

    /// <summary>
    /// Appendix B's module from both writers. FORMAT.md leaves the order of the string table free (its "Conformance kit" section):
    /// every byte that differs must belong to a string, a string reference, a checksum or the fingerprint
    /// hash (which covers string references); both files must read, and dump to the same content.
    /// </summary>
    [Fact]
    public void The_appendix_B_module_from_both_writers_differs_only_where_the_spec_leaves_a_choice()
    {
        byte[] python = programs.Bytes("spec-example");
        byte[] csharp = SpecExample.Build();
        Assert.Equal(csharp.Length, python.Length);
        var differing = new SortedSet<string>(StringComparer.Ordinal);
        var fields = programs.Fields("spec-example");
        for (int at = 0; at < python.Length; at++)
        {
            if (python[at] == csharp[at]) continue;
            differing.Add(fields.Single(f => f.Offset <= at && at < f.Offset + f.Length).Key);
        }
        Assert.All(differing, key => Assert.True(IsFreeChoice(key), $"the writers disagree on {key}, which FORMAT.md fixes"));
        // The string table's order is the only choice here, and it does differ: the test is not vacuous.
        Assert.Contains(differing, key => key.StartsWith("Strings@", StringComparison.Ordinal));

        using CacheImage fromPython = CacheImage.Read(python, ReadOptions.Full);
        using CacheImage fromCSharp = CacheImage.Read(csharp, ReadOptions.Full);
        Assert.Equal(Content(fromCSharp), Content(fromPython));
    }

    private static bool IsFreeChoice(string key) =>
        key.StartsWith("Strings@", StringComparison.Ordinal)
        || key.EndsWith(".name", StringComparison.Ordinal) || key.EndsWith(".key", StringComparison.Ordinal)
        || key is "header.producer" or "header.module_name" or "header.file_checksum" or "header.codegen_fingerprint"
        || (key.StartsWith("Fingerprint[", StringComparison.Ordinal) && key.EndsWith(".value", StringComparison.Ordinal))
        || (key.StartsWith("directory[", StringComparison.Ordinal) && key.EndsWith(".checksum", StringComparison.Ordinal));

    /// <summary>What a file says, independent of where its strings sit.</summary>
    private static string Content(CacheImage image)
    {
        var lines = new List<string> { $"{image.Producer} {image.ModuleName} {image.Header.MinorVersion}" };
        foreach (SymbolRecord s in image.Symbols) lines.Add($"{image.GetString(s.Name)} {s.Kind} {s.Linkage} {s.Declaration} {s.Definition}");
        foreach (FingerprintComponent c in image.Fingerprint)
            lines.Add($"{image.GetString(c.Key)} {c.ValueKind} {c.Match} {image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32)))}");
        foreach (FunctionRecord f in image.Functions) lines.Add($"{f.Symbol} {f.CodeOffset} {Convert.ToHexString(image.FunctionCode(f))} {f.ContentHash}");
        foreach (RelocationRecord r in image.Relocations) lines.Add($"{r.Offset} {r.Kind} {r.Target} {r.Addend} {r.ExpectedSignatureHash:x}");
        foreach (DataObjectRecord d in image.DataObjects) lines.Add($"{d.Symbol} {d.Kind} {d.Offset} {Convert.ToHexString(image.DataBytes(d))}");
        return string.Join('\n', lines);
    }

    /// <summary>The Python writer's XXH3-64 (written from xxHash's algorithm description) against System.IO.Hashing,
    /// over lengths that take every branch: 0-16, 17-128, 129-240 bytes, and several 1024-byte blocks.</summary>
    [Fact]
    public void INT_1_the_python_writers_xxh3_agrees_with_system_io_hashing()
    {
        string[] lines = PythonWriter.Run("xxh3_vectors.py").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 300, $"only {lines.Length} lengths");
        foreach (string line in lines)
        {
            string[] parts = line.Split(' ');
            int length = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            byte[] sample = [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31 + 7) & 0xFF))];
            Assert.Equal($"{Checksums.SectionChecksum(sample):x16}", parts[1]);
        }
    }
}
