using System.Text.Json;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using AotCache.Writer;

namespace AotCache.ConformanceTests.CacheDump;

/// <summary>
/// The modes of <c>cachedump</c> beyond a whole dump (issue 18 item 6, issue 16 item 4): <c>--verify</c> that does not
/// call a stale file OK, <c>--why-stale</c>, <c>--verify --json</c> and JSON errors, filters, <c>--hex</c>, several files,
/// case-insensitive names, and relocated operands named from their relocations.
/// </summary>
public sealed class CacheDumpModeTests : IDisposable
{
    private static readonly AotCache.Format.ScalarType I64 = AotCache.Format.ScalarType.I64;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("cachedump-modes-");

    public void Dispose() => _directory.Delete(recursive: true);

    // --- --verify and stale files ---------------------------------------------------------------------------

    [Fact]
    public void Verify_of_a_stale_file_says_STALE_names_each_stale_function_with_its_reasons_and_exits_5()
    {
        string path = Write("stale.aotc", GoldenModules.Stale());

        (int exit, string output, string errors) = Run(path, "--verify");

        Assert.Equal(CacheDumpCommand.ExitStale, exit);
        Assert.Equal("", errors);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.DoesNotContain("OK", lines[0]);
        Assert.StartsWith($"STALE: {path} is a valid AotCache 1.2 file (3 functions, 2 relocations), unsigned; the default (strict) loader refuses it: 1 stale function", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.Equal("  caller: [LOAD-5] caller refers to callee compiled against sysv (i64) -> i64 (0xdbaf7e9886e7f093), but callee is now " +
            "sysv (i64, i64) -> i64 (0xa913b656f06a3605) (relocation 1)", lines[1]);
        Assert.StartsWith("  caller: [DEP-2] caller depends on the content of other as it was ", lines[2]);
        Assert.EndsWith("(dependency 0)", lines[2]);
    }

    /// <summary>The verdict agrees with the default loader: OK exactly when a strict load succeeds.</summary>
    [Theory]
    [InlineData("example")]
    [InlineData("imports")]
    [InlineData("stale")]
    public void Verify_says_OK_exactly_when_the_default_strict_loader_accepts_the_file(string name)
    {
        byte[] bytes = GoldenModules.All[name]();
        string path = Write(name + ".aotc", bytes);
        bool loaderRefusesAsStale;
        using (CacheImage image = CacheImage.Read(bytes))
        {
            // Link against nothing: imports fail later than the stale check, which is all that is asked here.
            try
            {
                LoadedModule.Load(image, new LoadOptions()).Dispose();
                loaderRefusesAsStale = false;
            }
            catch (AotCacheException e)
            {
                loaderRefusesAsStale = e.Code == ErrorCode.StaleCaller;
            }
        }

        (int exit, string output, _) = Run(path, "--verify");

        Assert.Equal(loaderRefusesAsStale, exit == CacheDumpCommand.ExitStale);
        Assert.Equal(!loaderRefusesAsStale, output.StartsWith("OK: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_json_is_one_object_with_the_stale_functions_and_their_reasons()
    {
        string path = Write("stale.aotc", GoldenModules.Stale());

        (int exit, string output, string errors) = Run(path, "--verify", "--json");

        Assert.Equal(CacheDumpCommand.ExitStale, exit);
        Assert.Equal("", errors);
        using JsonDocument document = JsonDocument.Parse(output);
        JsonElement root = document.RootElement;
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.False(root.GetProperty("strictLoaderAccepts").GetBoolean());
        Assert.Equal(5, root.GetProperty("exitCode").GetInt32());
        JsonElement caller = Assert.Single(root.GetProperty("stale").EnumerateArray());
        Assert.Equal("caller", caller.GetProperty("name").GetString());
        Assert.Equal("function", caller.GetProperty("kind").GetString());
        Assert.Equal(["LOAD-5", "DEP-2"], caller.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("requirement").GetString()));
        Assert.Equal(["callee", "other"], caller.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("target").GetString()));
        Assert.Equal(["relocation", "dependency"], caller.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("record").GetString()));
        Assert.False(root.TryGetProperty("findings", out _)); // only with --strict

        (int okExit, string ok, _) = Run(Write("example.aotc", GoldenModules.Example()), "--verify", "--json", "--strict");
        using JsonDocument okDocument = JsonDocument.Parse(ok);
        Assert.Equal(okDocument.RootElement.GetProperty("findings").GetArrayLength() > 0 ? CacheDumpCommand.ExitStrictFindings : CacheDumpCommand.ExitOk, okExit);
        Assert.True(okDocument.RootElement.GetProperty("strictLoaderAccepts").GetBoolean());
        Assert.Equal(0, okDocument.RootElement.GetProperty("stale").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, okDocument.RootElement.GetProperty("findings").ValueKind);
    }

    [Fact]
    public void Errors_under_json_are_objects_with_code_number_offset_field_requirement_and_message()
    {
        byte[] bytes = GoldenModules.Example();
        string path = Write("truncated.aotc", bytes[..^100]);

        (int verifyExit, string verify, string verifyErrors) = Run(path, "--verify", "--json");
        (int dumpExit, string dump, _) = Run(path, "--json");
        (int missingExit, string missing, _) = Run(Path.Combine(_directory.FullName, "absent.aotc"), "--json");

        Assert.Equal(CacheDumpCommand.ExitMalformed, verifyExit);
        Assert.Equal("", verifyErrors);
        using JsonDocument document = JsonDocument.Parse(verify);
        Assert.False(document.RootElement.GetProperty("valid").GetBoolean());
        JsonElement error = document.RootElement.GetProperty("error");
        Assert.Equal("Truncated", error.GetProperty("code").GetString());
        Assert.Equal((int)ErrorCode.Truncated, error.GetProperty("number").GetInt32());
        Assert.Equal(16, error.GetProperty("offset").GetInt64());
        Assert.Equal("header.file_size", error.GetProperty("field").GetString());
        Assert.Equal("HDR-4", error.GetProperty("requirement").GetString());
        Assert.Contains($"{bytes.Length}", error.GetProperty("message").GetString());
        Assert.Equal(1, document.RootElement.GetProperty("exitCode").GetInt32());

        Assert.Equal(CacheDumpCommand.ExitMalformed, dumpExit);
        using JsonDocument dumpDocument = JsonDocument.Parse(dump);
        Assert.Equal("Truncated", dumpDocument.RootElement.GetProperty("error").GetProperty("code").GetString());

        Assert.Equal(CacheDumpCommand.ExitUnreadable, missingExit);
        using JsonDocument missingDocument = JsonDocument.Parse(missing);
        JsonElement unreadable = missingDocument.RootElement.GetProperty("error");
        Assert.Equal("Unreadable", unreadable.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, unreadable.GetProperty("offset").ValueKind);
        Assert.Contains("No such file or directory", unreadable.GetProperty("message").GetString());
    }

    // --- --why-stale -----------------------------------------------------------------------------------------

    /// <summary>base's content changed; mid inlined base (stale by content); top inlined mid (stale because mid is).</summary>
    private static byte[] ChainModule()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "chain" };
        Signature unary = Signature.SysV([I64], [I64]);
        DeclarationHandle d = b.AddDeclaration(unary);
        SymbolHandle baseFn = b.DeclareFunction("base", d), mid = b.DeclareFunction("mid", d), top = b.DeclareFunction("top", d);
        ContentHash midHash = ContentHash.Of("mid"u8);
        b.DefineFunction(baseFn, new FunctionBody([0x48, 0x89, 0xF8, 0xC3], unary) { ContentHash = ContentHash.Of("base v2"u8) });
        b.DefineFunction(mid, new FunctionBody([0x48, 0x89, 0xF8, 0xC3], unary, dependencies: [new Dependency("base", ContentHash.Of("base v1"u8))]) { ContentHash = midHash });
        b.DefineFunction(top, new FunctionBody([0x48, 0x89, 0xF8, 0xC3], unary, dependencies: [new Dependency("mid", midHash)]) { ContentHash = ContentHash.Of("top"u8) });
        b.DefineFunction(b.DeclareFunction("unrelated", d), new FunctionBody([0xC3], unary));
        return b.ToArray();
    }

    [Fact]
    public void Why_stale_follows_the_chain_from_the_function_to_the_change_that_started_it()
    {
        string path = Write("chain.aotc", ChainModule());

        (int exit, string output, string errors) = Run(path, "--why-stale", "top");

        Assert.Equal(CacheDumpCommand.ExitStale, exit);
        Assert.Equal("", errors);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal("'top' is stale: the default (strict) loader refuses the file, a lenient one refuses 'top'. Because:", lines[0]);
        Assert.Equal("  [DEP-2] top depends on the content of mid, which is stale itself (dependency 1)", lines[1]);
        Assert.StartsWith("    [DEP-2] mid depends on the content of base as it was ", lines[2]); // one level deeper
        Assert.Contains("but base is now", lines[2]);
        Assert.Equal(3, lines.Length);

        (_, string json, _) = Run(path, "--why-stale", "top", "--json");
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.True(document.RootElement.GetProperty("stale").GetBoolean());
        Assert.Equal([0, 1], document.RootElement.GetProperty("chain").EnumerateArray().Select(r => r.GetProperty("depth").GetInt32()));
        Assert.Equal(["TransitiveContent", "Content"], document.RootElement.GetProperty("chain").EnumerateArray().Select(r => r.GetProperty("kind").GetString()));
        Assert.Equal(["top", "mid"], document.RootElement.GetProperty("chain").EnumerateArray().Select(r => r.GetProperty("owner").GetString()));
    }

    [Fact]
    public void Why_stale_of_a_current_function_exits_0_and_of_an_unknown_name_exits_2()
    {
        string path = Write("chain.aotc", ChainModule());

        (int exit, string output, _) = Run(path, "--why-stale", "base");
        (int unknownExit, string unknownOutput, string unknownErrors) = Run(path, "--why-stale", "nowhere");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.StartsWith("'base' is not stale", output);
        Assert.Contains("but 2 other functions or data objects of the file are stale", output);
        Assert.Equal(CacheDumpCommand.ExitUnreadable, unknownExit);
        Assert.Equal("", unknownOutput);
        Assert.StartsWith("error: no function or data object named 'nowhere' in ", unknownErrors);
    }

    // --- filters ---------------------------------------------------------------------------------------------

    [Fact]
    public void Function_filter_dumps_only_that_function_everywhere()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (int exit, string output, string errors) = Run(path, "--function", "main");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        Assert.Contains("\nFunctions (1 of 3):\n", output);
        Assert.Contains("\nSymbols (1 of 7):\n", output);
        Assert.Contains("\nData objects (0 of 3):\n  (none)\n", output);
        Assert.Contains("main (function 2, code offset", output);
        Assert.DoesNotContain("add (function 0", output);
        Assert.DoesNotContain("scale (function 1", output);
        string relocations = output[output.IndexOf("\nRelocations (", StringComparison.Ordinal)..output.IndexOf("\nDependencies (", StringComparison.Ordinal)];
        Assert.All(relocations.Split('\n').Skip(3).Where(l => l.Length > 0), l => Assert.StartsWith("  main (function 2)", l));
    }

    [Fact]
    public void Symbol_patterns_select_functions_data_and_symbols_by_glob()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (int exit, string json, _) = Run(path, "--json", "--symbol", "*a*", "--symbol", "ops");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        Assert.Equal(["add", "scale", "main"], root.GetProperty("functions").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal(["ops", "factor", "calls"], root.GetProperty("dataObjects").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.DoesNotContain("host_print", root.GetProperty("symbols").EnumerateArray().Select(s => s.GetProperty("name").GetString()));

        (_, string text, _) = Run(path, "--symbol", "s?ale", "--section", "functions");
        Assert.Contains("\nFunctions (1 of 3):\n", text);
        Assert.Contains(" scale ", text);
    }

    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("f_1*", "f_123", true)]
    [InlineData("f_1*", "f_2", false)]
    [InlineData("f_?", "f_7", true)]
    [InlineData("f_?", "f_77", false)]
    [InlineData("*.cold", "entry.cold", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("", "", true)]
    public void Glob_matches_whole_names(string pattern, string name, bool expected) =>
        Assert.Equal(expected, DumpFilter.Glob(pattern, name));

    /// <summary>One function of a large cache: its own lines, not the whole table's.</summary>
    [Fact]
    public void One_function_of_a_5000_function_cache_prints_a_few_lines()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "many" };
        Signature nothing = Signature.SysV([], []);
        for (int i = 0; i < 5000; i++) b.AddFunction($"f_{i}", new FunctionBody([0x90, 0xC3], nothing));
        string path = Write("many.aotc", b.ToArray());

        (int exit, string output, _) = Run(path, "--function", "f_4321", "--no-disasm");
        (int missingExit, _, string missingErrors) = Run(path, "--function", "f_5000");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Contains("\nFunctions (1 of 5000):\n", output);
        Assert.Contains(" f_4321 ", output);
        Assert.DoesNotContain(" f_4320 ", output);
        Assert.True(output.Length < 4000, $"{output.Length} characters");
        Assert.Equal(CacheDumpCommand.ExitUnreadable, missingExit);
        Assert.StartsWith("error: no function named 'f_5000' in ", missingErrors);
    }

    // --- names, hex, several files ----------------------------------------------------------------------------

    [Fact]
    public void Section_names_are_matched_without_regard_to_case()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (int lower, string a, _) = Run(path, "--section", "relocations");
        (int upper, string b, _) = Run(path, "--section", "RELOCATIONS");
        (int hexLower, string c, _) = Run(path, "--hex", "code");
        (int hexMixed, string d, _) = Run(path, "--hex", "Code");

        Assert.Equal(0, lower + upper + hexLower + hexMixed);
        Assert.Equal(a, b);
        Assert.Equal(c, d);
        Assert.Contains("Relocations (7)", a);
    }

    [Fact]
    public void Hex_prints_a_section_with_file_offsets_and_ascii()
    {
        byte[] bytes = GoldenModules.Example();
        string path = Write("example.aotc", bytes);
        int code;
        using (CacheImage image = CacheImage.Read(bytes)) code = image.SectionOffset(SectionKind.Code);

        (int exit, string output, _) = Run(path, "--hex", "code");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Contains($"Hex dump of section Code (74 bytes at file offset 0x{code:x8}):\n", output);
        Assert.Contains($"  {code:x8}  48 8d 04 37 c3 cc cc cc  cc cc cc cc cc cc cc cc  |H..7............|\n", output);
        Assert.DoesNotContain("Disassembly", output);

        (int missingExit, _, string missingErrors) = Run(path, "--hex", "signature");
        Assert.Equal(CacheDumpCommand.ExitUnreadable, missingExit);
        Assert.StartsWith("error: the file has no section Signature (it has Strings, ", missingErrors);
    }

    [Fact]
    public void Private_sections_print_their_kind_in_hex_and_hex_dump_by_number()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "private" };
        b.AddFunction("f", new FunctionBody([0xC3], Signature.SysV([], [])));
        b.AddPrivateSection(0x8000_1234, "NIB!"u8);
        string path = Write("private.aotc", b.ToArray());

        (_, string text, _) = Run(path, "--section", "sections");
        (_, string json, _) = Run(path, "--json", "--section", "sections");
        (int exit, string hex, _) = Run(path, "--hex", "0x80001234");

        Assert.Contains("  0x80001234  ", text);
        Assert.DoesNotContain("2147488308", text);
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.Contains("0x80001234", document.RootElement.GetProperty("sections").EnumerateArray().Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Contains("Hex dump of section 0x80001234 (4 bytes", hex);
        Assert.Contains("4e 49 42 21", hex);
        Assert.Contains("|NIB!|", hex);
    }

    [Fact]
    public void Several_files_are_dumped_in_order_and_the_first_failing_code_is_the_exit_code()
    {
        string example = Write("example.aotc", GoldenModules.Example());
        string stale = Write("stale.aotc", GoldenModules.Stale());
        string missing = Path.Combine(_directory.FullName, "missing.aotc");

        (int exit, string text, string errors) = Run(example, stale, "--section", "header");
        (int verifyExit, string verify, _) = Run(example, stale, "--verify");
        (int mixedExit, string mixed, string mixedErrors) = Run(example, missing, stale, "--section", "header");
        (int jsonExit, string json, _) = Run(example, missing, "--json", "--section", "header");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        Assert.True(text.IndexOf("File: example.aotc", StringComparison.Ordinal) < text.IndexOf("File: stale.aotc", StringComparison.Ordinal));
        Assert.Equal(CacheDumpCommand.ExitStale, verifyExit);
        Assert.StartsWith("OK: ", verify);
        Assert.Contains("\nSTALE: ", verify);
        Assert.Equal(CacheDumpCommand.ExitUnreadable, mixedExit);
        Assert.Contains("File: stale.aotc", mixed); // the files after the failing one are still dumped
        Assert.StartsWith($"{missing}: error: cannot read {missing}: ", mixedErrors);
        Assert.Equal(CacheDumpCommand.ExitUnreadable, jsonExit);
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Array, document.RootElement.ValueKind);
        Assert.Equal("example", document.RootElement[0].GetProperty("header").GetProperty("moduleName").GetString());
        Assert.Equal("Unreadable", document.RootElement[1].GetProperty("error").GetProperty("code").GetString());
    }

    // --- disassembly of relocated fields -----------------------------------------------------------------------

    /// <summary>entry ends with a tail jump to an import through its thunk, and entry.cold follows: an unpatched rel32
    /// (zero) seems to jump to entry.cold. The operand must name the relocation's target instead.</summary>
    private static byte[] TailJumpModule(bool prelink)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "tail", Prelink = prelink };
        Signature unary = Signature.SysV([I64], [I64]);
        b.AddImportFunction("host_add", b.AddDeclaration(unary));
        b.AddData("table", DataKind.ReadOnly, new byte[16]);
        b.AddFunction("entry", new FunctionBody(
            [0x48, 0x8D, 0x05, 0, 0, 0, 0,    // lea rax, [rip+table+8]
             0xE9, 0, 0, 0, 0],                 // jmp host_add (thunk)
            unary, [new Relocation(3, RelocationKind.DataPcRel32, "table", 8 - 4), new Relocation(8, RelocationKind.ThunkPcRel32, "host_add", -4)]));
        b.AddFunction("entry.cold", new FunctionBody([0xC3], unary));
        return b.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Relocated_operands_name_their_relocation_targets_in_plain_and_prelinked_files(bool prelink)
    {
        string path = Write("tail.aotc", TailJumpModule(prelink));

        (int exit, string output, _) = Run(path, "--section", "disassembly");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        string jump = Assert.Single(output.Split('\n'), l => l.Contains("jmp ", StringComparison.Ordinal));
        Assert.EndsWith("jmp host_add@thunk ; ThunkPcRel32 -> host_add-4", jump);
        Assert.DoesNotContain("entry.cold", jump);
        string lea = Assert.Single(output.Split('\n'), l => l.Contains("lea ", StringComparison.Ordinal));
        Assert.EndsWith("lea rax, [table+8] ; DataPcRel32 -> table+4", lea);
        Assert.DoesNotContain("0xffff", output);
    }

    // --- diff ----------------------------------------------------------------------------------------------

    private static byte[] Version(bool changed)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "versions" };
        Signature unary = Signature.SysV([I64], [I64]), binary = Signature.SysV([I64, I64], [I64]);
        SymbolHandle callee = b.DeclareFunction("callee", b.AddDeclaration(changed ? binary : unary));
        SymbolHandle caller = b.DeclareFunction("caller", b.AddDeclaration(unary));
        SymbolHandle fresh = b.DeclareFunction("fresh", b.AddDeclaration(unary));
        SymbolHandle same = b.DeclareFunction("same", b.AddDeclaration(unary));
        b.DefineFunction(callee, new FunctionBody(changed ? [0x48, 0x8D, 0x04, 0x37, 0xC3] : [0x48, 0x89, 0xF8, 0xC3], changed ? binary : unary));
        byte[] call = [0xE8, 0, 0, 0, 0, 0xC3];
        // caller keeps the old expectation in the new version: stale. fresh was compiled against the current signature.
        b.DefineFunction(caller, new FunctionBody(call, unary, [new Relocation(1, RelocationKind.FunctionPcRel32, "callee", -4, unary.Hash)]));
        b.DefineFunction(fresh, new FunctionBody(call, unary, [new Relocation(1, RelocationKind.FunctionPcRel32, "callee", -4)]));
        b.DefineFunction(same, new FunctionBody([0xC3], unary));
        return b.ToArray();
    }

    [Fact]
    public void Diff_names_changed_functions_and_the_signature_change_with_the_callers_it_leaves_stale()
    {
        string a = Write("a.aotc", Version(changed: false));
        string b = Write("b.aotc", Version(changed: true));

        (int exit, string output, string errors) = Run("diff", a, b);

        Assert.Equal(CacheDumpCommand.ExitDifferent, exit);
        Assert.Equal("", errors);
        Assert.StartsWith($"--- {a}\n+++ {b}\n", output);
        Assert.Contains("\nFunctions:\n  ~ callee: code differs (4 -> 5 bytes)\n", output);
        Assert.DoesNotContain("~ same", output);
        Assert.DoesNotContain("~ caller", output); // neither its bytes nor its relocations changed
        Assert.Contains("\nSignature changes:\n  ~ callee: sysv (i64) -> i64 -> sysv (i64, i64) -> i64\n" +
            "      stale callers (refused by the strict loader [LOAD-5]): caller\n" +
            "      callers compiled against the new signature: fresh\n", output);

        (int jsonExit, string json, _) = Run("diff", a, b, "--json");
        Assert.Equal(CacheDumpCommand.ExitDifferent, jsonExit);
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.False(document.RootElement.GetProperty("identical").GetBoolean());
        JsonElement signature = Assert.Single(document.RootElement.GetProperty("differences").EnumerateArray(), d => d.GetProperty("part").GetString() == "signature");
        Assert.Equal("callee", signature.GetProperty("name").GetString());
    }

    [Fact]
    public void Diff_of_a_file_with_itself_exits_0_and_prelinking_alone_changes_no_function()
    {
        string a = Write("a.aotc", GoldenModules.Imports());
        // The same module unprelinked: relocated fields hold zeros instead of canonical-layout values.
        string plain = Write("tail-plain.aotc", TailJumpModule(prelink: false));
        string prelinked = Write("tail-prelinked.aotc", TailJumpModule(prelink: true));

        (int same, string sameOutput, _) = Run("diff", a, a);
        (int exit, string output, _) = Run("diff", plain, prelinked);

        Assert.Equal(CacheDumpCommand.ExitOk, same);
        Assert.EndsWith("no differences\n", sameOutput);
        Assert.Equal(CacheDumpCommand.ExitDifferent, exit);
        Assert.Contains("optional flags", output);
        Assert.DoesNotContain("Functions:", output);
    }

    [Fact]
    public void Diff_reports_a_malformed_file_like_a_dump_does()
    {
        string good = Write("good.aotc", GoldenModules.Example());
        string bad = Write("bad.aotc", GoldenModules.Example()[..200]);

        (int exit, string output, string errors) = Run("diff", good, bad);

        Assert.Equal(CacheDumpCommand.ExitMalformed, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"{bad}: error: Truncated (5) at offset 16 (0x10) [HDR-4] in header.file_size: ", errors);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }
}
