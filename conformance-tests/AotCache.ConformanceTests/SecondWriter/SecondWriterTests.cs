using System.Runtime.InteropServices;
using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;

namespace AotCache.ConformanceTests.SecondWriter;

/// <summary>
/// Files from the independent Python writer, loaded by the C# loader and run: if the two sides read
/// FORMAT.md differently, a call returns a wrong value or the file is refused. Every program runs four ways:
/// unprelinked (1.0) and prelinked (1.2, [REL-10]: its PC-relative fields already hold the values of the
/// canonical layout, FORMAT.md §16.2), each linked directly and hot-swappably, with the same results.
/// </summary>
public sealed unsafe class SecondWriterTests(PythonWriter.Programs programs) : IClassFixture<PythonWriter.Programs>, IDisposable
{
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private const long HostValue = 0x1234_5678_9ABC;

    private readonly long* _hostValue = (long*)NativeMemory.AlignedAlloc(8, 8);

    public void Dispose() => NativeMemory.AlignedFree(_hostValue);

    [UnmanagedCallersOnly]
    private static long Scale(long x) => x * 3;

    [UnmanagedCallersOnly]
    private static long Xor(long x) => x ^ 0xFF;

    private ImportTable Imports()
    {
        *_hostValue = HostValue;
        return new ImportTable()
            .Add("host_scale", (nint)(delegate* unmanaged<long, long>)&Scale, I64ToI64)
            .Add("host_xor", (nint)(delegate* unmanaged<long, long>)&Xor, I64ToI64)
            .Add("host_value", (nint)_hostValue);
    }

    /// <summary>Plain and prelinked, each linked directly and hot-swappably.</summary>
    public static TheoryData<bool, LinkMode> Ways => new()
    {
        { false, LinkMode.Direct }, { false, LinkMode.HotSwappable }, { true, LinkMode.Direct }, { true, LinkMode.HotSwappable },
    };

    /// <summary>The programs of <c>aotcache/programs.py</c>, but Appendix B's (its import prints).</summary>
    public static TheoryData<string> Runnable => ["calls", "imports", "data", "table", "all-kinds", "all-kinds-paged"];

    /// <summary>The program with every relocation kind, its code within one page and spread over two, each of the four ways.</summary>
    public static TheoryData<string, bool, LinkMode> AllKindsWays
    {
        get
        {
            var data = new TheoryData<string, bool, LinkMode>();
            foreach (string name in new[] { "all-kinds", "all-kinds-paged" })
                foreach (bool prelinked in new[] { false, true })
                    foreach (LinkMode mode in new[] { LinkMode.Direct, LinkMode.HotSwappable })
                        data.Add(name, prelinked, mode);
            return data;
        }
    }

    private static HostEnvironment HostFor(string name) => name == "calls"
        ? HostEnvironment.Current with { Fingerprint = new Dictionary<string, FingerprintValue> { ["compiler"] = FingerprintValue.String("aotcache-python 1") } }
        : HostEnvironment.Current;

    /// <summary>Loads a program as the Python writer wrote it, plain or prelinked, and checks that the loader saw the
    /// flag: a prelinked file linked directly runs the file's own full code pages (FORMAT.md §16.2, "Code used as is";
    /// the last, partial page is always copied), every other way a copy the loader linked.</summary>
    private LoadedModule Load(string name, bool prelinked, LinkMode mode = LinkMode.Direct)
    {
        LoadedModule module = LoadedModule.LoadFile(programs.PathOf(name, prelinked), new LoadOptions
        {
            Imports = Imports(),
            Host = HostFor(name),
            Read = ReadOptions.Full,
            LinkMode = mode,
        });
        try
        {
            Assert.Equal(prelinked, module.Image.IsPrelinked);
            // The lowest minor that describes the file [REC-10]: 1.3 with unwind information, 1.2 when prelinked.
            Assert.Equal(module.Image.HasUnwindInfo ? 3 : prelinked ? 2 : 0, module.Image.Header.MinorVersion);
            Assert.Equal(mode, module.LinkMode);
            Assert.Equal(prelinked && mode == LinkMode.Direct && module.Image.Code.Length >= 4096, module.CodeMappedFromFile);
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    private static long Call(LoadedModule module, string name, params long[] args) =>
        module.Invoke(name, [.. args.Select(Value.I64)]).AsI64;

    [Theory]
    [MemberData(nameof(Ways))]
    public void Calls_a_call_a_tail_call_a_jcc_and_a_thunk_to_defined_functions_run(bool prelinked, LinkMode mode)
    {
        using LoadedModule module = Load("calls", prelinked, mode);

        Assert.Equal(11, Call(module, "twice_plus_one", 5));  // call double_it, jmp add_one
        Assert.Equal(7, Call(module, "abs_or_double", -7));   // js negate
        Assert.Equal(12, Call(module, "abs_or_double", 6));   // jmp double_it
        Assert.Equal(42, Call(module, "via_thunk", 41));      // ThunkPcRel32 to a defined function: L = S
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LOAD_2_the_python_writers_equal_fingerprint_component_is_compared(bool prelinked)
    {
        using CacheImage image = CacheImage.OpenFile(programs.PathOf("calls", prelinked), ReadOptions.Full);
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { Imports = Imports() }));
        Assert.Equal(ErrorCode.FingerprintMismatch, e.Code);
        Assert.Contains("compiler", e.Message);
    }

    [Theory]
    [MemberData(nameof(Ways))]
    public void Imports_through_a_thunk_and_through_slots_reach_the_host(bool prelinked, LinkMode mode)
    {
        using LoadedModule module = Load("imports", prelinked, mode);

        Assert.Equal(21, Call(module, "call_thunk", 7));          // call host_scale via the loader's thunk
        Assert.Equal(24, Call(module, "call_slot", 8));           // call [rip+slot]
        Assert.Equal(HostValue, Call(module, "read_host_value")); // mov rax, [rip+slot]; mov rax, [rax]
        Assert.Equal(42, Call(module, "slot_to_local", 21));      // jmp [rip+slot] holding a local function
    }

    [Theory]
    [MemberData(nameof(Ways))]
    public void Data_is_reached_rip_relative_with_addends_minus_8_minus_5_and_offsets_into_objects(bool prelinked, LinkMode mode)
    {
        using LoadedModule module = Load("data", prelinked, mode);

        Assert.Equal(5 + 0x1000, Call(module, "bump"));   // add qword [rip+counter], imm32: A = -8
        Assert.Equal(5 + 0x2000, Call(module, "bump"));   // writable data keeps its value
        Assert.Equal(1, Call(module, "is_seven"));        // cmp qword [rip+seven], imm8: A = -5
        Assert.Equal('l', Call(module, "third_char"));    // [rip+text+2]: A = -4 + 2
        Assert.Equal(99, Call(module, "stash", 99));      // zero-filled object, 8 bytes in: A = -4 + 8
        Assert.Equal(16, module.Image.ZeroFillSize);
    }

    [Theory]
    [MemberData(nameof(Ways))]
    public void A_function_pointer_table_of_absolute64_entries_dispatches_to_functions_and_the_host(bool prelinked, LinkMode mode)
    {
        using LoadedModule module = Load("table", prelinked, mode);

        Assert.Equal(42, Call(module, "apply", 0, 41));   // add_one
        Assert.Equal(42, Call(module, "apply", 1, 21));   // double_it
        Assert.Equal(-5, Call(module, "apply", 2, 5));    // negate
        Assert.Equal(21, Call(module, "apply", 3, 7));    // host_scale, an Absolute64 to an import
        Assert.Equal(100, Call(module, "call_second", 50)); // movabs rax, ops+8: Absolute64 with A = 8
    }

    [Theory]
    [MemberData(nameof(AllKindsWays))]
    public void REL_10_every_relocation_kind_runs_with_slots_numbered_across_data_owned_relocations(string name, bool prelinked, LinkMode mode)
    {
        using LoadedModule module = Load(name, prelinked, mode);
        if (name == "all-kinds-paged") Assert.True(module.Image.Code.Length > 4096, "the paged program's code is more than a page");

        Assert.Equal(7, Call(module, "add_two", 5));              // call add_one (FunctionPcRel32), jmp add_one (ThunkPcRel32, L = S)
        Assert.Equal(42, Call(module, "via_data_slot", 41));      // rel_table's SlotPcRel32 (a data object's) holds slot(add_one) - rel_table
        Assert.Equal(18, Call(module, "bump"));                   // add qword [rip+counter], 1 (A = -5); then counter through its slot
        Assert.Equal(19, Call(module, "bump"));
        Assert.Equal(99, Call(module, "stash", 99));              // zero-filled data, 8 bytes in (A = +4)
        Assert.Equal(0xF0, Call(module, "call_xor", 0x0F));       // host_xor's thunk: the second, host_value (imported data) has none
        Assert.Equal(21, Call(module, "call_scale_slot", 7));     // jmp [rip+slot(host_scale)]
        Assert.Equal(HostValue, Call(module, "read_host_value")); // imported data through its slot
        Assert.Equal(-5, Call(module, "negate_slot", 5));         // jmp [rip+slot(negate)], numbered after add_one's
        Assert.Equal(-5, Call(module, "dispatch", 0, 5));         // ops[0]: Absolute64 in read-only data to negate
        Assert.Equal(0xF0, Call(module, "dispatch", 1, 0x0F));    // ops[1]: Absolute64 to the import host_xor
        Assert.Equal(0xF0, Call(module, "second_op", 0x0F));      // movabs rax, ops+8: Absolute64 in code
    }

    /// <summary>
    /// §16.2 placed by both sides: the reference loader puts each defined function and data object of the Python
    /// writer's file at the offset from the region's base that the Python writer's canonical layout gives.
    /// </summary>
    [Theory]
    [MemberData(nameof(Runnable))]
    public void REL_10_the_loader_places_every_defined_symbol_where_the_python_writers_canonical_layout_says(string name)
    {
        using LoadedModule module = Load(name, prelinked: false);
        IReadOnlyDictionary<string, long> layout = programs.Layout(name);

        Assert.NotEmpty(layout);
        foreach ((string symbol, long offset) in layout)
            Assert.True(offset == module.GetSymbolAddress(symbol) - module.Region.Address,
                $"{name}: {symbol} is at +0x{module.GetSymbolAddress(symbol) - module.Region.Address:x}, the Python layout says +0x{offset:x}");
    }

    /// <summary>
    /// The plain file, linked directly by the reference loader, holds in memory exactly the code of the prelinked file
    /// the Python writer wrote: every PC-relative field the loader computed (to functions, data, slots and thunks) is
    /// the value the Python writer put in the file. Absolute64 fields, which depend on where the module lands, are left out.
    /// </summary>
    [Theory]
    [MemberData(nameof(Runnable))]
    public void REL_10_a_plain_file_linked_directly_runs_the_code_of_the_prelinked_file(string name)
    {
        using LoadedModule module = Load(name, prelinked: false);
        using CacheImage prelinkedImage = CacheImage.Read(programs.Bytes(name, prelinked: true), ReadOptions.Full);

        int fields = 0;
        foreach (FunctionRecord f in prelinkedImage.Functions)
        {
            string function = prelinkedImage.SymbolName((int)f.Symbol);
            byte[] expected = prelinkedImage.FunctionCode(f).ToArray();
            byte[] loaded = new ReadOnlySpan<byte>((void*)module.GetSymbolAddress(function), (int)f.CodeSize).ToArray();
            foreach (RelocationRecord r in prelinkedImage.RelocationsOf(f))
            {
                if (r.Kind == RelocationKind.Absolute64)
                {
                    Array.Clear(expected, (int)r.Offset, 8);
                    Array.Clear(loaded, (int)r.Offset, 8);
                }
                else fields++;
            }
            Assert.True(expected.AsSpan().SequenceEqual(loaded),
                $"{name}: {function} loaded {Convert.ToHexString(loaded)}, the prelinked file holds {Convert.ToHexString(expected)}");
        }
        Assert.True(fields > 0, $"{name}: no PC-relative field compared");
    }

    /// <summary>
    /// Appendix B's module from both writers, prelinked (format 1.2) as the appendix prints it. FORMAT.md leaves the order
    /// of the string table free (its "Conformance kit" section): every byte that differs must belong to a string, a string
    /// reference, a checksum or the fingerprint hash (which covers string references); the prelinked fields of the code,
    /// the flag and the minor version must agree; both files must read, and dump to the same content.
    /// </summary>
    [Fact]
    public void The_appendix_B_module_from_both_writers_differs_only_where_the_spec_leaves_a_choice()
    {
        byte[] python = programs.Bytes("spec-example", prelinked: true);
        byte[] csharp = SpecExample.Build();
        Assert.Equal(csharp.Length, python.Length);
        var differing = new SortedSet<string>(StringComparer.Ordinal);
        var fields = programs.Fields("spec-example", prelinked: true);
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
        Assert.True(fromCSharp.IsPrelinked && fromPython.IsPrelinked, "Appendix B's file is prelinked");
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
        var lines = new List<string> { $"{image.Producer} {image.ModuleName} {image.Header.MinorVersion} {image.Header.OptionalFlags}" };
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
