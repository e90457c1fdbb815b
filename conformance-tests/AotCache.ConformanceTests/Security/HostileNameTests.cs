using AotCache.ConformanceTests.Malformed;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Security;

/// <summary>
/// Names are any valid UTF-8 [STR-1]. Every message of the reader, the loader and cachedump that quotes one escapes
/// it (<see cref="Names"/>): no line break to forge another line (an <c>OK:</c> verdict), no escape sequence or
/// bidirectional override reaching a terminal.
/// </summary>
public sealed class HostileNameTests : IDisposable
{
    private static readonly Signature NoneToI64 = Signature.SysV([], [Format.ScalarType.I64]);
    private static readonly Signature I64ToI64 = Signature.SysV([Format.ScalarType.I64], [Format.ScalarType.I64]);
    private static readonly byte[] Return7 = [0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3]; // mov eax, 7; ret
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("hostile-names-");

    /// <summary>Names that would break a message's line, forge a verdict or drive a terminal: a line feed with a
    /// forged "OK:", an escape sequence, a right-to-left override, a NUL; caller is stale, so loading names them.</summary>
    public static byte[] HostileNames()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "evil\nOK: evil.aotc is a valid AotCache 1.0 file" };
        var sig = b.AddDeclaration(NoneToI64).Signature;
        var callee = b.AddFunction(HostileCallee, new FunctionBody(Return7, sig));
        b.AddFunction(HostileCaller, new FunctionBody([0xE8, 0, 0, 0, 0, 0xC3], sig,
            [new Relocation(1, RelocationKind.FunctionPcRel32, callee.Name, -4, I64ToI64.Hash)]));
        return b.ToArray();
    }

    public const string HostileCallee = "callee\u001b[2J\u202Eevil\0";
    public const string HostileCaller = "caller\nOK: forged line\r";


    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>Nothing that does not print as itself: C0 and C1 controls, DEL, bidirectional and other format characters.</summary>
    private static void AssertPrintable(string text)
    {
        foreach (char c in text)
        {
            Assert.False(char.IsControl(c), $"control character U+{(int)c:X4} in: {text}");
            Assert.False(System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format,
                $"format character U+{(int)c:X4} in: {text}");
        }
    }

    [Theory]
    [InlineData("main", "main", "'main'")]
    [InlineData("", "", "''")]
    [InlineData("a b.c$d", "a b.c$d", "'a b.c$d'")]
    [InlineData("it's", "it's", @"'it\'s'")]
    [InlineData("back\\slash", @"back\\slash", @"'back\\slash'")]
    [InlineData("line\nbreak\r\t", @"line\nbreak\r\t", @"'line\nbreak\r\t'")]
    [InlineData("esc\u001b[2J\u007f\u0085\0", @"esc\u001b[2J\u007f\u0085\u0000", @"'esc\u001b[2J\u007f\u0085\u0000'")]
    [InlineData("rtl\u202Eevil\u200B\u2028\u00A0", @"rtl\u202eevil\u200b\u2028\u00a0", @"'rtl\u202eevil\u200b\u2028\u00a0'")]
    [InlineData("größe→λ", "größe→λ", "'größe→λ'")]
    [InlineData("emoji\U0001F600tag\U000E0041", "emoji\U0001F600tag\\U000e0041", "'emoji\U0001F600tag\\U000e0041'")]
    public void Names_escape_what_does_not_print_and_quote_delimits_the_whole_name(string name, string escaped, string quoted)
    {
        Assert.Equal(escaped, Names.Escape(name));
        Assert.Equal(quoted, Names.Quote(name));
        AssertPrintable(Names.Quote(name));
        Assert.Same("plain", Names.Escape("plain")); // nothing to escape: no allocation
    }

    [Fact]
    public void Names_escape_a_lone_surrogate_by_value()
    {
        Assert.Equal(@"a\ud800b", Names.Escape("a\ud800b"));
    }

    [Fact]
    public void LOAD_5_a_strict_load_names_hostile_stale_callers_escaped_on_one_line()
    {
        using var image = CacheImage.Read(HostileNames());

        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image));

        Assert.Equal(ErrorCode.StaleCaller, e.Code);
        AssertPrintable(e.Message);
        Assert.Contains(@"caller\nOK: forged line\r refers to callee\u001b[2J\u202eevil\u0000 compiled against", e.Message);
        using var lenient = LoadedModule.Load(image, new LoadOptions { StalePolicy = StalePolicy.Lenient });
        RefusedFunction refused = Assert.Single(lenient.RefusedFunctions);
        Assert.Equal(HostileCaller, refused.Name); // the name itself is data, unchanged
        AssertPrintable(refused.Detail);
        var call = Assert.Throws<AotCacheException>(() => lenient.Invoke(HostileCaller));
        AssertPrintable(call.Message);
        var missing = Assert.Throws<KeyNotFoundException>(() => lenient.GetSymbolAddress("no\nsuch\u001b"));
        AssertPrintable(missing.Message);
    }

    [Fact]
    public void SYM_2_a_validator_message_quotes_a_hostile_duplicate_name_escaped()
    {
        byte[] bytes = HostileNames();
        var vandal = new Vandal(bytes);
        int symbols = vandal.SectionOffset(SectionKind.Symbols);
        // Symbol 1 gets symbol 0's name: a duplicate, reported with the name.
        byte[] duplicate = vandal.U64(symbols + SymbolRecord.RecordSize, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(symbols))).Reseal();

        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(duplicate));

        Assert.Equal(ErrorCode.DuplicateSymbolName, e.Code);
        AssertPrintable(e.Message);
        Assert.Contains(@"'callee\u001b[2J\u202eevil\u0000'", e.Message);

        string path = Path.Combine(_directory.FullName, "duplicate.aotc");
        File.WriteAllBytes(path, duplicate);
        (int exit, string output, string errors) = Run(path, "--verify");
        Assert.Equal(CacheDumpCommand.ExitMalformed, exit);
        Assert.Equal("", output);
        Assert.Single(errors.TrimEnd('\n').Split('\n'));
        AssertPrintable(errors.TrimEnd('\n'));
    }

    [Fact]
    public void Cachedump_prints_hostile_names_and_paths_escaped_and_one_verdict_line()
    {
        string path = Path.Combine(_directory.FullName, "evil\nOK: forged.aotc is a valid AotCache 1.0 file\u001b[2J.aotc");
        File.WriteAllBytes(path, HostileNames());

        (int verifyExit, string verify, string verifyErrors) = Run(path, "--verify");
        (int dumpExit, string dump, _) = Run(path, "--no-disasm");
        (int strictExit, string strict, _) = Run(path, "--verify", "--strict");

        // The module has a stale caller: one STALE verdict, then one line per reason, none of which a name can forge.
        Assert.Equal(CacheDumpCommand.ExitStale, verifyExit);
        Assert.Equal("", verifyErrors);
        string[] verifyLines = verify.TrimEnd('\n').Split('\n');
        Assert.StartsWith(@"STALE: " + path.Replace("\n", @"\n").Replace("\u001b", @"\u001b") + " is a valid", verifyLines[0]);
        Assert.All(verifyLines.Skip(1), l => Assert.StartsWith("  ", l));
        Assert.DoesNotContain(verifyLines, l => l.StartsWith("OK:", StringComparison.Ordinal));
        foreach (string line in verifyLines) AssertPrintable(line);
        Assert.Equal(CacheDumpCommand.ExitOk, dumpExit);
        foreach (string dumpLine in dump.TrimEnd('\n').Split('\n')) AssertPrintable(dumpLine);
        Assert.DoesNotContain(dump.Split('\n'), l => l.StartsWith("OK:", StringComparison.Ordinal));
        Assert.Contains(@"caller\nOK: forged line\r", dump);
        Assert.Equal(CacheDumpCommand.ExitStale, strictExit); // stale before SHOULD-level findings
        foreach (string strictLine in strict.TrimEnd('\n').Split('\n')) AssertPrintable(strictLine);
        Assert.Single(strict.Split('\n'), l => l.StartsWith("STALE:", StringComparison.Ordinal));
        Assert.Contains("SHOULD-level finding", strict);
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var errors = new StringWriter { NewLine = "\n" };
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }
}
