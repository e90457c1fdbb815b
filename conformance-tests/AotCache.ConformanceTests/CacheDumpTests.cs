using System.Buffers.Binary;
using System.Text.Json;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using AotCache.Writer;

namespace AotCache.ConformanceTests;

/// <summary>
/// <c>cachedump</c> on files written to a temporary directory (never the checked-in golden files): exit codes,
/// the error line for damaged files, JSON that parses, and the stale marker.
/// </summary>
public sealed class CacheDumpTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("cachedump-tests-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Verify_accepts_a_valid_file_and_counts_its_functions_and_relocations()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (int exit, string output, string errors) = Run(path, "--verify");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal($"OK: {path} is a valid AotCache 1.2 file (3 functions, 7 relocations), unsigned\n", output.ReplaceLineEndings("\n"));
        Assert.Equal("", errors);
    }

    [Fact]
    public void Verify_reports_a_flipped_code_byte_as_a_file_checksum_mismatch_at_the_code_section()
    {
        byte[] bytes = GoldenModules.Example();
        int code = CodeSectionOffset(bytes);
        bytes[code + 1] ^= 0x40; // inside add's lea
        string path = Write("flipped.aotc", bytes);

        (int exit, string output, string errors) = Run(path, "--verify");

        Assert.Equal(CacheDumpCommand.ExitMalformed, exit);
        Assert.Equal("", output);
        // The loader names the damaged section: the code section's offset, in decimal and hex.
        Assert.StartsWith($"error: FileChecksumMismatch ({(int)ErrorCode.FileChecksumMismatch}) at offset {code} (0x{code:x}) [INT-1] in Code+0x0: ", errors);
        Assert.Contains("Code", errors);
        AssertOneErrorLine(errors);
    }

    [Fact]
    public void Verify_reports_a_truncated_file_as_truncated()
    {
        byte[] bytes = GoldenModules.Example();
        string path = Write("truncated.aotc", bytes[..^100]);

        (int exit, string output, string errors) = Run(path, "--verify");

        Assert.Equal(CacheDumpCommand.ExitMalformed, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"error: Truncated ({(int)ErrorCode.Truncated}) at offset 16 (0x10) [HDR-4] in header.file_size: ", errors);
        Assert.Contains($"{bytes.Length}", errors);
        AssertOneErrorLine(errors);
    }

    [Fact]
    public void Verify_reports_appended_bytes_as_a_file_size_mismatch()
    {
        string path = Write("appended.aotc", [.. GoldenModules.Example(), 0, 0, 0, 0]);

        (int exit, _, string errors) = Run(path, "--verify");

        Assert.Equal(CacheDumpCommand.ExitMalformed, exit);
        Assert.StartsWith($"error: FileSizeMismatch ({(int)ErrorCode.FileSizeMismatch}) at offset 16 (0x10) [HDR-4] in header.file_size: ", errors);
        AssertOneErrorLine(errors);
    }

    [Fact]
    public void Dump_mode_prints_the_same_error_line_for_a_malformed_file_and_json_an_error_object()
    {
        byte[] bytes = GoldenModules.Stale();
        string path = Write("truncated.aotc", bytes[..200]);

        (int verifyExit, _, string verifyErrors) = Run(path, "--verify");
        (int dumpExit, string dumpOutput, string dumpErrors) = Run(path);
        (int jsonExit, string jsonOutput, string jsonErrors) = Run(path, "--json");

        Assert.Equal(CacheDumpCommand.ExitMalformed, dumpExit);
        Assert.Equal(CacheDumpCommand.ExitMalformed, jsonExit);
        Assert.Equal(verifyExit, dumpExit);
        Assert.Equal(verifyErrors, dumpErrors);
        Assert.Equal("", jsonErrors); // under --json the error is an object in the output
        Assert.Contains("\"code\": \"Truncated\"", jsonOutput);
        Assert.Equal("", dumpOutput);
        Assert.StartsWith("error: Truncated (5) at offset 16 (0x10) [HDR-4] in header.file_size: ", dumpErrors);
    }

    [Fact]
    public void A_missing_file_exits_2_naming_the_path()
    {
        string path = Path.Combine(_directory.FullName, "no-such-file.aotc");

        (int exit, string output, string errors) = Run(path, "--verify");
        (int dumpExit, _, string dumpErrors) = Run(path);

        Assert.Equal(CacheDumpCommand.ExitUnreadable, exit);
        Assert.Equal(CacheDumpCommand.ExitUnreadable, dumpExit);
        Assert.Equal("", output);
        Assert.StartsWith($"error: cannot read {path}: ", errors);
        Assert.Contains("No such file or directory", errors);
        Assert.Equal(errors, dumpErrors);
        AssertOneErrorLine(errors);
    }

    [Fact]
    public void A_directory_is_unreadable_not_malformed()
    {
        (int exit, _, string errors) = Run(_directory.FullName);

        Assert.Equal(CacheDumpCommand.ExitUnreadable, exit);
        Assert.StartsWith($"error: cannot read {_directory.FullName}: ", errors);
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (int noFile, _, string noFileErrors) = Run();
        (int badSection, _, string badSectionErrors) = Run(path, "--section", "nonsense");
        (int verifyFilter, _, string verifyFilterErrors) = Run(path, "--verify", "--function", "add");

        Assert.Equal(CacheDumpCommand.ExitUnreadable, noFile);
        Assert.Contains("usage: cachedump FILE", noFileErrors);
        Assert.Equal(CacheDumpCommand.ExitUnreadable, badSection);
        Assert.Contains("nonsense", badSectionErrors);
        Assert.Equal(CacheDumpCommand.ExitUnreadable, verifyFilter);
        Assert.Contains("--verify", verifyFilterErrors);
    }

    [Fact]
    public void Json_dump_parses_and_names_every_function_with_its_disassembly()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (int exit, string output, string errors) = Run(path, "--json");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement root = json.RootElement;
        Assert.Equal("example.aotc", root.GetProperty("file").GetString());
        Assert.Equal("example", root.GetProperty("header").GetProperty("moduleName").GetString());
        Assert.Equal(["add", "scale", "main"], root.GetProperty("functions").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal(["add", "scale", "main"], root.GetProperty("disassembly").EnumerateArray().Select(f => f.GetProperty("function").GetString()));
        Assert.Equal(["ops", "factor", "calls"], root.GetProperty("dataObjects").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        // main's call to add: the annotation sits on the call instruction (e8), at main+7.
        JsonElement call = root.GetProperty("disassembly")[2].GetProperty("instructions").EnumerateArray()
            .Single(i => i.GetProperty("relocations").GetArrayLength() > 0 && i.GetProperty("relocations")[0].GetProperty("target").GetString() == "add");
        Assert.StartsWith("e8", call.GetProperty("bytes").GetString());
        Assert.Equal(0x20 + 7, call.GetProperty("address").GetInt32());
        Assert.Equal("-4", call.GetProperty("relocations")[0].GetProperty("addend").GetString());
        Assert.Equal("golden 1.0", root.GetProperty("fingerprint")[0].GetProperty("value").GetString());
        Assert.DoesNotContain(root.GetProperty("relocations").EnumerateArray().SelectMany(g => g.GetProperty("relocations").EnumerateArray()),
            r => r.GetProperty("stale").GetBoolean());
    }

    [Fact]
    public void Dump_of_the_stale_module_marks_the_stale_call_and_only_it()
    {
        string path = Write("stale.aotc", GoldenModules.Stale());

        (int exit, string output, string errors) = Run(path, "--section", "relocations", "--section", "disassembly");
        (_, string json, _) = Run(path, "--json", "--section", "relocations");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        string[] lines = output.Split('\n');
        string staleRow = Assert.Single(lines, l => l.Contains("STALE: compiled against", StringComparison.Ordinal));
        Assert.Contains("caller (function 2)", staleRow);
        Assert.Contains("callee", staleRow);
        Assert.Contains("+0xa", staleRow);
        Assert.EndsWith("STALE: compiled against sysv (i64) -> i64, callee is now sysv (i64, i64) -> i64", staleRow);
        Assert.DoesNotContain(lines, l => l.Contains("other", StringComparison.Ordinal) && l.Contains("STALE", StringComparison.Ordinal));
        string staleCall = Assert.Single(lines, l => l.EndsWith(" STALE", StringComparison.Ordinal));
        Assert.Contains("call ", staleCall);
        Assert.Contains("; FunctionPcRel32 -> callee-4", staleCall);
        Assert.DoesNotContain("Symbols:", output); // --section printed only what was asked

        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement stale = Assert.Single(document.RootElement.GetProperty("relocations").EnumerateArray()
            .SelectMany(g => g.GetProperty("relocations").EnumerateArray()), r => r.GetProperty("stale").GetBoolean());
        Assert.Equal("callee", stale.GetProperty("target").GetString());
        Assert.Equal("sysv (i64) -> i64", stale.GetProperty("expectedSignature").GetString());
        Assert.Equal("sysv (i64, i64) -> i64", stale.GetProperty("actualSignature").GetString());
        Assert.False(document.RootElement.TryGetProperty("functions", out _));
    }

    [Fact]
    public void No_disasm_leaves_out_only_the_disassembly()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (_, string full, _) = Run(path);
        (int exit, string output, _) = Run(path, "--no-disasm");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Contains("\nDisassembly:\n", full);
        Assert.DoesNotContain("Disassembly:", output);
        Assert.Equal(full[..full.IndexOf("\nDisassembly:\n", StringComparison.Ordinal)], output);
    }

    [Fact]
    public void The_dump_prints_the_file_name_never_the_directory()
    {
        string path = Write("example.aotc", GoldenModules.Example());

        (_, string text, _) = Run(path);
        (_, string json, _) = Run(path, "--json");

        Assert.StartsWith("File: example.aotc\n", text);
        Assert.DoesNotContain(_directory.FullName, text);
        Assert.DoesNotContain(_directory.FullName, json);
    }

    [Fact]
    public void A_signed_file_shows_version_1_1_and_its_signature_record()
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64)
        {
            ModuleName = "signed",
            SigningKey = SigningKey.Hmac("test key", [.. Enumerable.Range(1, 32).Select(i => (byte)i)]),
            Prelink = false, // signed and nothing newer: 1.1
        };
        builder.AddFunction("f", new FunctionBody([0xC3], builder.AddDeclaration(Signature.SysV([], [])).Signature));
        string path = Write("signed.aotc", builder.ToArray());

        (int verifyExit, string verify, _) = Run(path, "--verify");
        (int exit, string text, string errors) = Run(path, "--section", "header", "--section", "signature");
        (_, string json, _) = Run(path, "--json", "--section", "signature");

        Assert.Equal(CacheDumpCommand.ExitOk, verifyExit);
        Assert.Contains("is a valid AotCache 1.1 file (1 functions, 0 relocations)", verify);
        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        Assert.Contains("\n  Version:             1.1\n", text);
        Assert.Contains("\nSignature:\n  Algorithm: HmacSha256\n", text);
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement signature = document.RootElement.GetProperty("signature");
        Assert.Equal("HmacSha256", signature.GetProperty("algorithm").GetString());
        Assert.Equal(64, signature.GetProperty("signature").GetString()!.Length); // 32 bytes in hex
    }

    [Fact]
    public void Bytes_that_do_not_decode_are_shown_as_bad_and_the_disassembly_goes_on()
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "junk" };
        DeclarationHandle nothing = builder.AddDeclaration(Signature.SysV([], []));
        // ret, then a call cut off after two of its rel32 bytes, then (in the next function) a lone prefix.
        builder.AddFunction("cut", new FunctionBody([0xC3, 0xE8, 0x00, 0x00], nothing.Signature));
        builder.AddFunction("prefix", new FunctionBody([0x66], nothing.Signature));
        string path = Write("junk.aotc", builder.ToArray());

        (int exit, string output, string errors) = Run(path, "--section", "disassembly");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        Assert.Contains("  00000000  c3", output);
        Assert.Contains("  00000001  e8 00 00", output);
        Assert.Contains("(bad)", output);
        Assert.Contains("prefix (function 1, code offset 0x00000010, 1 bytes):\n  00000010  66 ", output);
    }

    /// <summary>Every header and directory byte changed, with the file checksum made right again so the change
    /// reaches the later checks: the tool either dumps the file or prints one error line, never throws.</summary>
    [Fact]
    public void Damaged_headers_and_directories_give_one_error_line_or_a_dump_never_an_exception()
    {
        byte[] original = GoldenModules.Imports();
        int end = FormatConstants.DirectoryOffset + (int)BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(80)) * SectionEntry.RecordSize;
        var codes = new HashSet<string>();
        for (int at = 0; at < end; at++)
        {
            if (at is >= FormatConstants.FileChecksumOffset and < FormatConstants.FileChecksumOffset + 8) continue;
            byte[] bytes = (byte[])original.Clone();
            bytes[at] ^= 0x81;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(bytes));
            string path = Write("damaged.aotc", bytes);

            (int exit, string output, string errors) = Run(path);

            if (exit == CacheDumpCommand.ExitOk)
            {
                Assert.Equal("", errors);
                Assert.StartsWith("File: damaged.aotc\n", output);
                continue;
            }
            Assert.True(exit == CacheDumpCommand.ExitMalformed, $"byte {at}: exit {exit}, {errors}");
            Assert.Equal("", output);
            Assert.StartsWith("error: ", errors);
            AssertOneErrorLine(errors);
            codes.Add(errors.Split(' ')[1]);
        }
        // Sanity: the damage reached many different checks, not just one.
        Assert.True(codes.Count >= 5, string.Join(", ", codes));
    }

    /// <summary>JSON numbers are exact only to 2^53: 64-bit addends and integer fingerprint values are strings, in both
    /// the relocation table and the disassembly annotations.</summary>
    [Fact]
    public void Json_writes_64_bit_addends_and_integer_fingerprint_values_exactly()
    {
        const long bigAddend = (1L << 62) + 1;
        const ulong bigValue = ulong.MaxValue - 1;
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "wide" };
        var sig = builder.AddDeclaration(Signature.SysV([], []));
        var f = builder.AddFunction("f", new FunctionBody([0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3], sig.Signature)); // movabs rax, imm64; ret
        builder.AddData("pointers", DataKind.ReadOnly, new byte[8], relocations: [new Relocation(0, RelocationKind.Absolute64, f.Name, bigAddend)]);
        builder.AddFingerprint("build.number", bigValue, MatchRule.Informational);
        string path = Write("wide.aotc", builder.ToArray());

        (int exit, string output, _) = Run(path, "--json");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement relocation = json.RootElement.GetProperty("relocations")[0].GetProperty("relocations")[0];
        Assert.Equal(JsonValueKind.String, relocation.GetProperty("addend").ValueKind);
        Assert.Equal("4611686018427387905", relocation.GetProperty("addend").GetString());
        Assert.Equal("18446744073709551614", json.RootElement.GetProperty("fingerprint")[0].GetProperty("value").GetString());
        Assert.DoesNotContain("\"addend\": -", output); // no addend anywhere is a JSON number
    }

    /// <summary>A TextWriter whose every write fails as a full disk does.</summary>
    private sealed class FullDisk : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => throw new IOException("No space left on device");
        public override void Write(string? value) => throw new IOException("No space left on device");
    }

    [Fact]
    public void Output_that_cannot_be_written_exits_4_with_one_line_and_no_stack_trace()
    {
        string path = Write("example.aotc", GoldenModules.Example());
        var errors = new StringWriter();

        int exit = CacheDumpCommand.Run([path], new FullDisk(), errors);
        int verifyExit = CacheDumpCommand.Run([path, "--verify"], new FullDisk(), new FullDisk());

        Assert.Equal(CacheDumpCommand.ExitOutputFailed, exit);
        Assert.Equal(CacheDumpCommand.ExitOutputFailed, verifyExit); // standard error gone too: the code says it
        Assert.Equal("error: cannot write the output: No space left on device\n", errors.ToString().ReplaceLineEndings("\n"));
    }

    /// <summary>The real thing: the tool's process with standard output on /dev/full (every write fails with ENOSPC).</summary>
    [Fact]
    public void The_process_with_stdout_on_dev_full_exits_4_without_a_stack_trace()
    {
        string path = Write("example.aotc", GoldenModules.Example());
        string tool = Path.Combine(AppContext.BaseDirectory, "cachedump.dll");
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet \"$0\" \"$1\" > /dev/full");
        start.ArgumentList.Add(tool);
        start.ArgumentList.Add(path);
        using var process = System.Diagnostics.Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(CacheDumpCommand.ExitOutputFailed, process.ExitCode);
        Assert.StartsWith("error: cannot write the output: ", errors);
        AssertOneErrorLine(errors);
    }

    [Theory]
    [InlineData(16, "header.file_size")]
    [InlineData(20, "header.file_size+4")]
    [InlineData(128 + 40 + 8, "directory[1].offset")]
    [InlineData(128 + 2 * 40 + 32, "directory[2].checksum")]
    public void Error_lines_name_the_field_at_the_offset(long offset, string field)
    {
        byte[] bytes = GoldenModules.Example();

        Assert.Equal(field, FieldNames.At(bytes, offset));
    }

    [Fact]
    public void Field_names_reach_records_inside_table_sections_and_say_padding_elsewhere()
    {
        byte[] bytes = GoldenModules.Example();
        using CacheImage image = CacheImage.Read(bytes);
        int symbols = image.SectionOffset(SectionKind.Symbols), relocations = image.SectionOffset(SectionKind.Relocations);

        Assert.Equal("Symbols[1].kind", FieldNames.At(bytes, symbols + SymbolRecord.RecordSize + 8));
        Assert.Equal("Relocations[2].addend", FieldNames.At(bytes, relocations + 2 * RelocationRecord.RecordSize + 16));
        Assert.Equal("Code+0x5", FieldNames.At(bytes, image.SectionOffset(SectionKind.Code) + 5));
        Assert.Equal("padding", FieldNames.At(bytes, image.SectionOffset(SectionKind.Code) - 1));
        Assert.Equal("end of file", FieldNames.At(bytes, bytes.Length));
        Assert.Equal("header.magic", FieldNames.At(bytes[..10], 0)); // a file too short for a directory
    }

    private static void AssertOneErrorLine(string errors)
    {
        Assert.StartsWith("error: ", errors);
        Assert.Single(errors.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", errors); // no stack trace
    }

    private static int CodeSectionOffset(byte[] bytes)
    {
        using CacheImage image = CacheImage.Read(bytes);
        return image.SectionOffset(SectionKind.Code);
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
