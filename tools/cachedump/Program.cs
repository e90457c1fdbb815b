using System.CommandLine;
using AotCache.Format;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// <c>cachedump FILE [--json] [--verify [--strict] [--trust KEY]... [--require-signature]] [--no-disasm] [--section NAME]...</c>:
/// the command line only.
/// What each mode does is in <c>CacheDumpCommand.Execute.cs</c>.
/// </summary>
public static partial class CacheDumpCommand
{
    /// <summary>Exit code of a valid file dumped or verified.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code of a file that is not a valid AotCache file.</summary>
    public const int ExitMalformed = 1;

    /// <summary>Exit code of a file that cannot be read, or of a command line that cannot be understood.</summary>
    public const int ExitUnreadable = 2;

    /// <summary>Exit code of <c>--verify --strict</c> on a valid file with SHOULD-level findings.</summary>
    public const int ExitStrictFindings = 3;

    /// <summary>Exit code when the output cannot be written (a full disk, a closed stream): the dump is incomplete.</summary>
    public const int ExitOutputFailed = 4;

    /// <summary>The exit codes, as <c>--help</c> lists them.</summary>
    private const string ExitCodes =
        "Exit codes: 0 valid file (dumped or verified); 1 malformed file (one error line naming the code, number, offset, " +
        "requirement and field); 2 unreadable file or bad command line; 3 --verify --strict found SHOULD-level [REC-n] " +
        "findings in a valid file; 4 the output could not be written.";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the tool as <c>Main</c> does, writing to the given streams instead of the console.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var file = new Argument<string>("FILE") { Description = "The AotCache file to inspect" };
        var json = new Option<bool>("--json") { Description = "Print the dump as JSON, for programs" };
        var verify = new Option<bool>("--verify")
        {
            Description = "Validate everything, section checksums included; print one OK line or the error, which names its " +
                "code, number, offset, requirement ID and field",
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
        var noDisassembly = new Option<bool>("--no-disasm") { Description = "Leave out the disassembly of the functions" };
        var sections = new Option<string[]>("--section")
        {
            Description = "Print only this part of the dump (repeatable)",
            HelpName = "NAME",
        };
        sections.AcceptOnlyFromAmong([.. DumpSections.Names]);

        var root = new RootCommand("Prints and verifies AotCache files (x86-64 code caches), like readelf and objdump. " + ExitCodes);
        root.Arguments.Add(file);
        root.Options.Add(json);
        root.Options.Add(verify);
        root.Options.Add(strict);
        root.Options.Add(trust);
        root.Options.Add(requireSignature);
        root.Options.Add(noDisassembly);
        root.Options.Add(sections);
        root.Validators.Add(result =>
        {
            if (result.GetValue(verify) && (result.GetValue(json) || result.GetValue(noDisassembly) || result.GetValue(sections) is { Length: > 0 }))
                result.AddError("--verify prints one line and takes no dump options (--json, --no-disasm, --section)");
            if (result.GetValue(strict) && !result.GetValue(verify))
                result.AddError("--strict is a level of --verify: use --verify --strict");
            if ((result.GetValue(trust) is { Length: > 0 } || result.GetValue(requireSignature)) && !result.GetValue(verify))
                result.AddError("--trust and --require-signature check signatures for --verify: use them with --verify");
        });
        root.SetAction(parse =>
        {
            var request = new DumpRequest(
                parse.GetValue(file)!,
                parse.GetValue(verify),
                parse.GetValue(json),
                DumpSections.Select(parse.GetValue(sections), disassemble: !parse.GetValue(noDisassembly)),
                parse.GetValue(strict),
                parse.GetValue(trust) ?? [],
                parse.GetValue(requireSignature));
            return Execute(request, stdout, stderr);
        });

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not { ClearsParseErrors: true }) // --help clears them
        {
            // A usage error is "cannot do what was asked", like an unreadable file: exit 2, not 1 (malformed file).
            foreach (var error in parsed.Errors) stderr.WriteLine($"error: {Names.Escape(error.Message)}");
            stderr.WriteLine("usage: cachedump FILE [--json] [--verify [--strict] [--trust KEY]... [--require-signature]] [--no-disasm] [--section NAME]... (see --help)");
            return ExitUnreadable;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }
}
