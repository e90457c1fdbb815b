using System.CommandLine;
using AotCache.Format;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// <c>cachedump FILE... [--json] [--verify [--strict] [--trust KEY]... [--require-signature]] [--why-stale NAME]
/// [--function NAME]... [--symbol PATTERN]... [--hex KIND]... [--no-disasm] [--section NAME]...</c> and
/// <c>cachedump diff A B [--json]</c>: the command line only. What each mode does is in <c>CacheDumpCommand.Execute.cs</c>.
/// </summary>
public static partial class CacheDumpCommand
{
    /// <summary>Exit code of a valid file dumped or verified (and loadable by the default, strict, loader), of a
    /// <c>--why-stale</c> function that is not stale, and of <c>diff</c> with no differences.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code of a file that is not a valid AotCache file.</summary>
    public const int ExitMalformed = 1;

    /// <summary>Exit code of a file that cannot be read, of a command line that cannot be understood, and of a name
    /// (<c>--function</c>, <c>--why-stale</c>) or section (<c>--hex</c>) the file does not have.</summary>
    public const int ExitUnreadable = 2;

    /// <summary>Exit code of <c>--verify --strict</c> on a valid file with SHOULD-level findings (and nothing stale).</summary>
    public const int ExitStrictFindings = 3;

    /// <summary>Exit code when the output cannot be written (a full disk, a closed stream): the dump is incomplete.</summary>
    public const int ExitOutputFailed = 4;

    /// <summary>Exit code of <c>--verify</c> on a valid file that the default (strict) loader refuses because functions or
    /// data are stale [LOAD-5] [DEP-2], and of <c>--why-stale</c> on a stale function.</summary>
    public const int ExitStale = 5;

    /// <summary>Exit code of <c>diff</c> when the files differ.</summary>
    public const int ExitDifferent = 6;

    /// <summary>The exit codes, as <c>--help</c> lists them.</summary>
    private const string ExitCodes =
        "Exit codes: 0 valid file (dumped, or verified and loadable by the default strict loader; diff: no differences); " +
        "1 malformed file (one error line naming the code, number, offset, requirement and field; under --json an error object); " +
        "2 unreadable file, bad command line, or a --function, --why-stale or --hex name the file lacks; 3 --verify --strict found " +
        "SHOULD-level [REC-n] findings in a valid file; 4 the output could not be written; 5 --verify: valid, but stale functions " +
        "or data make the strict loader refuse it [LOAD-5] [DEP-2] (before 3), or --why-stale: the function is stale; " +
        "6 diff: the files differ. With several files: the first file's code that is not 0.";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the tool as <c>Main</c> does, writing to the given streams instead of the console.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var files = new Argument<string[]>("FILE") { Description = "The AotCache files to inspect, one after the other", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the dump, verdict or errors as JSON, for programs (an array of objects for several files)" };
        var verify = new Option<bool>("--verify")
        {
            Description = "Validate everything, section checksums included; print one OK line, or STALE and the stale functions with " +
                "their reasons when the default (strict) loader would refuse the file, or the error, which names its code, number, " +
                "offset, requirement ID and field",
        };
        var strict = new Option<bool>("--strict")
        {
            Description = "With --verify: also report SHOULD-level findings (FORMAT.md's [REC-n] recommendations), one line each; " +
                "exit 3 when there are any",
        };
        var trust = new Option<string[]>("--trust")
        {
            Description = "With --verify: check the file's signature against this trusted key (repeatable). hmac:NAME:SECRET_FILE is an " +
                "HMAC-SHA256 key known by NAME (no ':' in it) whose secret is the raw bytes of SECRET_FILE (at least 32); " +
                "ecdsa:PUBLIC_KEY_FILE is an ECDSA P-256 public key in PEM (BEGIN PUBLIC KEY). A file signed by another key, or " +
                "changed after signing, is refused [AUTH-2]. The OK line says 'signed by trusted key ...', 'unsigned', or, " +
                "without --trust, 'signature present, not checked'",
            HelpName = "KEY",
        };
        var requireSignature = new Option<bool>("--require-signature")
        {
            Description = "With --verify: refuse an unsigned file [AUTH-3] (a signed one needs --trust to be checked)",
        };
        var whyStale = new Option<string?>("--why-stale")
        {
            Description = "Explain why this function (or data object) is stale: the chain of its stale references down to the " +
                "signature or content change that started it, as the loader's stale analysis finds them; exit 5 if stale, 0 if not",
            HelpName = "NAME",
        };
        var functions = new Option<string[]>("--function")
        {
            Description = "Dump only this function (repeatable): its symbol, record, relocations, dependencies and disassembly",
            HelpName = "NAME",
        };
        var symbols = new Option<string[]>("--symbol")
        {
            Description = "Dump only the functions, data objects and symbols whose names match (repeatable; * any characters, ? one)",
            HelpName = "PATTERN",
        };
        var hex = new Option<string[]>("--hex")
        {
            Description = "Print this section's bytes in hex instead of the dump (repeatable): a FORMAT.md name in any case " +
                "(code, relocations) or a kind number (0x80004e49 for a private section)",
            HelpName = "SECTION",
        };
        var noDisassembly = new Option<bool>("--no-disasm") { Description = "Leave out the disassembly of the functions" };
        var sections = new Option<string[]>("--section")
        {
            Description = $"Print only this part of the dump (repeatable, any case): {string.Join(", ", DumpSections.Names)}",
            HelpName = "NAME",
        };

        var diffA = new Argument<string>("A") { Description = "The older file" };
        var diffB = new Argument<string>("B") { Description = "The newer file" };
        var diffJson = new Option<bool>("--json") { Description = "Print the differences as JSON" };
        var diff = new Command("diff", "Compare two AotCache files: sections, symbols, functions whose code or relocations differ " +
            "(relocated fields masked, so prelinked addresses do not count), data objects, and signature changes with the callers " +
            "they leave stale. Exit 0 when nothing differs, 6 when something does");
        diff.Arguments.Add(diffA);
        diff.Arguments.Add(diffB);
        diff.Options.Add(diffJson);
        diff.SetAction(parse => Diff(parse.GetValue(diffA)!, parse.GetValue(diffB)!, parse.GetValue(diffJson), stdout, stderr));

        var root = new RootCommand("Prints and verifies AotCache files (x86-64 code caches), like readelf and objdump. " + ExitCodes);
        root.Arguments.Add(files);
        foreach (Option o in new Option[] { json, verify, strict, trust, requireSignature, whyStale, functions, symbols, hex, noDisassembly, sections })
            root.Options.Add(o);
        root.Subcommands.Add(diff);
        root.Validators.Add(result =>
        {
            bool dumpOptions = result.GetValue(noDisassembly) || result.GetValue(sections) is { Length: > 0 } || result.GetValue(functions) is { Length: > 0 }
                || result.GetValue(symbols) is { Length: > 0 } || result.GetValue(hex) is { Length: > 0 };
            if (result.GetValue(verify) && dumpOptions)
                result.AddError("--verify prints a verdict and takes no dump options (--no-disasm, --section, --function, --symbol, --hex)");
            if (result.GetValue(whyStale) is not null && (dumpOptions || result.GetValue(verify)))
                result.AddError("--why-stale explains one function and takes no dump options and no --verify");
            if (result.GetValue(hex) is { Length: > 0 } && (result.GetValue(sections) is { Length: > 0 } || result.GetValue(functions) is { Length: > 0 }
                    || result.GetValue(symbols) is { Length: > 0 } || result.GetValue(noDisassembly)))
                result.AddError("--hex prints whole sections instead of the dump: it takes no --section, --function, --symbol or --no-disasm");
            if (result.GetValue(strict) && !result.GetValue(verify))
                result.AddError("--strict is a level of --verify: use --verify --strict");
            if ((result.GetValue(trust) is { Length: > 0 } || result.GetValue(requireSignature)) && !result.GetValue(verify))
                result.AddError("--trust and --require-signature check signatures for --verify: use them with --verify");
            foreach (string name in result.GetValue(sections) ?? [])
                if (DumpSections.Parse(name) is null)
                    result.AddError($"--section {Names.Quote(name)}: not a part of the dump; one of {string.Join(", ", DumpSections.Names)}");
            foreach (string name in result.GetValue(hex) ?? [])
                if (SectionKinds.Parse(name) is null)
                    result.AddError($"--hex {Names.Quote(name)}: not a section; a FORMAT.md name ({string.Join(", ", Enum.GetNames<SectionKind>())}) or a kind number");
        });
        root.SetAction(parse =>
        {
            var request = new DumpRequest(
                parse.GetValue(files)!,
                parse.GetValue(verify),
                parse.GetValue(json),
                DumpSections.Select(parse.GetValue(sections), disassemble: !parse.GetValue(noDisassembly)),
                parse.GetValue(strict),
                parse.GetValue(trust) ?? [],
                parse.GetValue(requireSignature))
            {
                Filter = new DumpFilter(parse.GetValue(functions) ?? [], parse.GetValue(symbols) ?? []),
                HexSections = [.. (parse.GetValue(hex) ?? []).Select(h => SectionKinds.Parse(h)!.Value)],
                WhyStale = parse.GetValue(whyStale),
            };
            return Execute(request, stdout, stderr);
        });

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not { ClearsParseErrors: true }) // --help clears them
        {
            // A usage error is "cannot do what was asked", like an unreadable file: exit 2, not 1 (malformed file).
            foreach (var error in parsed.Errors) stderr.WriteLine($"error: {Names.Escape(error.Message)}");
            stderr.WriteLine("usage: cachedump FILE... [--json] [--verify [--strict] [--trust KEY]... [--require-signature]] [--why-stale NAME] " +
                "[--function NAME]... [--symbol PATTERN]... [--hex SECTION]... [--no-disasm] [--section NAME]... | cachedump diff A B [--json] (see --help)");
            return ExitUnreadable;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }
}
