using System.Runtime.InteropServices;
using System.Text.Json;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Reader.Memory;

namespace AotCache.Tools.CacheDump;

public static partial class CacheDumpCommand
{
    /// <summary>Why a file could not be used: the exit code, the text line, and (malformed files) the reader's exception
    /// and the field it points at.</summary>
    private sealed record FileError(int Exit, string Line, string Message, AotCacheException? Exception = null, string? Field = null);

    /// <summary>
    /// Runs the request on every file, in order. Text: each file's output follows the previous one; with several files an
    /// error line starts with the file's path. JSON: one object per file (an array of them for several files), errors
    /// included as objects (<c>"error": {code, number, offset, field, requirement, message}</c>) on standard output. The exit
    /// code is the first file's that is not 0. Output that cannot be written is exit 4 at once.
    /// </summary>
    private static int Execute(DumpRequest request, TextWriter stdout, TextWriter stderr)
    {
        List<TrustedKey> trusted;
        try
        {
            trusted = TrustedKeys.Parse(request.Trust ?? []);
        }
        catch (UsageException e)
        {
            return Report(stderr, $"error: {e.Message}", ExitUnreadable);
        }
        ReadOptions options = ReadOptions.Full;
        if (trusted.Count > 0 || request.RequireSignature)
            options = options with { Signatures = new SignaturePolicy { RequireSignature = request.RequireSignature, TrustedKeys = [.. trusted.Select(t => t.Key)] } };

        bool several = request.Paths.Count > 1;
        int exit = ExitOk;
        try
        {
            if (request.Json)
            {
                JsonDump.Print(stdout, json =>
                {
                    if (several) json.WriteStartArray();
                    foreach (string path in request.Paths)
                    {
                        int code = One(request, path, options, trusted, null, json, stderr, several);
                        if (exit == ExitOk) exit = code;
                    }
                    if (several) json.WriteEndArray();
                });
                return exit;
            }
            foreach (string path in request.Paths)
            {
                int code = One(request, path, options, trusted, stdout, null, stderr, several);
                if (exit == ExitOk) exit = code;
            }
            return exit;
        }
        catch (IOException e)
        {
            // A full disk or a stream closed under us: no stack trace, a code that says the output is incomplete.
            return Report(stderr, $"error: cannot write the output: {Names.Escape(e.Message)}", ExitOutputFailed);
        }
    }

    /// <summary>One file: read and validated, then dumped, verified, explained or hex-dumped; exactly one of
    /// <paramref name="text"/> and <paramref name="json"/> is given.</summary>
    private static int One(DumpRequest request, string path, ReadOptions options, IReadOnlyList<TrustedKey> trusted,
        TextWriter? text, Utf8JsonWriter? json, TextWriter stderr, bool several)
    {
        // Dumps name the file, never its directory (outputs that are compared across machines); verdicts name the path.
        string shown = request.Verify || request.WhyStale is not null ? path : Path.GetFileName(path);
        MappedFile? mapped = Open(path, options, out CacheImage? image, out FileError? error);
        if (error is not null) return Fail(error, shown, json, stderr, several ? path : null);
        using (mapped)
        using (image)
        {
            if (request.WhyStale is { } name) return WhyStale(image!, path, name, text, json, stderr, several);
            if (request.Verify) return Verify(request, image!, path, trusted, text, json);
            if (request.HexSections.Count > 0) return Hex(request, image!, shown, text, json, stderr, several);
            if (request.Filter.MissingFunctions(image!).ToList() is { Count: > 0 } missing)
                return Fail(new FileError(ExitUnreadable, $"error: no function named {string.Join(", ", missing.Select(Names.Quote))} in {Names.Escape(path)} " +
                    $"({image!.Functions.Length} functions; --symbol 'PATTERN*' finds names)", $"no function named {string.Join(", ", missing.Select(Names.Quote))}"),
                    shown, json, stderr, null);
            if (json is not null) JsonDump.Write(image!, shown, request.Sections, json, request.Filter);
            else TextDump.Write(image!, shown, request.Sections, text!, request.Filter);
            return ExitOk;
        }
    }

    /// <summary>
    /// Maps the file (a regular file only: a FIFO, pipe or device is refused before it is read) and validates it
    /// with the loader's own validator (<see cref="ReadOptions.Full"/>: section checksums too, so dump and
    /// <c>--verify</c> accept exactly the same files). A malformed file's field is named from the bytes the validator saw
    /// (<see cref="FieldNames"/> reads only the header and the directory): the file is never read again. Nothing else
    /// is caught: the reader throws only <see cref="AotCacheException"/> for bad bytes, so anything else is a bug here.
    /// </summary>
    private static MappedFile? Open(string path, ReadOptions options, out CacheImage? image, out FileError? error)
    {
        image = null;
        error = null;
        MappedFile mapped;
        try
        {
            mapped = MappedFile.OpenRead(path, allowMapping: false); // a copy: a file truncated meanwhile cannot fault the tool
        }
        catch (AotCacheException e)
        {
            error = new FileError(ExitMalformed, ErrorLine(e, default), e.Detail, e); // larger than any file may be [LIM-2]
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string message = $"cannot read {Names.Escape(path)}: {Names.Escape(e.Message)}";
            error = new FileError(ExitUnreadable, $"error: {message}", message);
            return null;
        }
        try
        {
            image = CacheImage.Read(mapped.Memory, options);
            return mapped;
        }
        catch (AotCacheException e)
        {
            ReadOnlySpan<byte> bytes = mapped.Memory.Span;
            bool atField = e.Offset >= 0 && e.Code != ErrorCode.SignatureMissing;
            error = new FileError(ExitMalformed, ErrorLine(e, bytes), e.Detail, e, atField ? FieldNames.At(bytes, e.Offset) : null);
            mapped.Dispose();
            return null;
        }
    }

    /// <summary>Reports a file that cannot be used: its error line on standard error (prefixed by the path when several
    /// files run), or under <c>--json</c> an object in the output.</summary>
    private static int Fail(FileError error, string shown, Utf8JsonWriter? json, TextWriter stderr, string? prefix)
    {
        if (json is null)
            return Report(stderr, prefix is null ? error.Line : $"{Names.Escape(prefix)}: {error.Line}", error.Exit);
        json.WriteStartObject();
        json.WriteString("file", shown);
        if (error.Exit == ExitMalformed) json.WriteBoolean("valid", false);
        else json.WriteNull("valid"); // not known: the file was not read, or the request was not about its validity
        json.WriteStartObject("error");
        AotCacheException? e = error.Exception;
        json.WriteString("code", e is null ? (error.Exit == ExitUnreadable ? "Unreadable" : "Usage") : e.Code.ToString());
        if (e is null) json.WriteNull("number");
        else json.WriteNumber("number", (int)e.Code);
        if (e is null || e.Offset < 0 || e.Code == ErrorCode.SignatureMissing) json.WriteNull("offset");
        else json.WriteNumber("offset", e.Offset);
        if (error.Field is null) json.WriteNull("field");
        else json.WriteString("field", error.Field);
        if (e is null) json.WriteNull("requirement");
        else json.WriteString("requirement", e.Requirement);
        json.WriteString("message", error.Message);
        json.WriteEndObject();
        json.WriteNumber("exitCode", error.Exit);
        json.WriteEndObject();
        return error.Exit;
    }

    /// <summary>
    /// <c>--verify</c>: <c>OK: …</c> for a file every loader accepts; <c>STALE: …</c> and exit 5 for a valid file the
    /// default (strict) loader refuses because functions or data were compiled against signatures or contents that
    /// changed [LOAD-5] [DEP-2], each stale owner with its reasons on the lines below; with <c>--strict</c> the
    /// SHOULD-level findings after that (exit 3 when there are some and nothing is stale).
    /// </summary>
    private static int Verify(DumpRequest request, CacheImage image, string path, IReadOnlyList<TrustedKey> trusted, TextWriter? text, Utf8JsonWriter? json)
    {
        ref readonly FileHeader h = ref image.Header;
        var stale = new StaleReport(image, new ImageFacts(image));
        var owners = stale.Owners();
        List<LintFinding> findings = request.Strict ? CacheLinter.Lint(image) : [];
        int exit = stale.Any ? ExitStale : findings.Count > 0 ? ExitStrictFindings : ExitOk;
        string verdict = SignatureVerdict(image, trusted);
        if (json is not null)
        {
            json.WriteStartObject();
            json.WriteString("file", path);
            json.WriteBoolean("valid", true);
            json.WriteString("version", $"{h.MajorVersion}.{h.MinorVersion}");
            json.WriteNumber("functions", image.Functions.Length);
            json.WriteNumber("relocations", image.Relocations.Length);
            json.WriteString("signature", verdict);
            json.WriteBoolean("strictLoaderAccepts", !stale.Any);
            json.WriteStartArray("stale");
            foreach (var (owner, isFunction, reasons) in owners)
            {
                json.WriteStartObject();
                json.WriteString("name", owner);
                json.WriteString("kind", isFunction ? "function" : "data");
                json.WriteStartArray("reasons");
                foreach (StaleReason r in reasons) StaleReport.WriteJson(json, r, withDepth: false);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (request.Strict)
            {
                json.WriteStartArray("findings");
                foreach (LintFinding f in findings)
                {
                    json.WriteStartObject();
                    json.WriteString("recommendation", f.Recommendation);
                    json.WriteNumber("offset", f.Offset);
                    json.WriteString("field", FieldNames.At(image.File, f.Offset));
                    json.WriteString("message", f.Message);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteNumber("exitCode", exit);
            json.WriteEndObject();
            return exit;
        }

        string valid = $"{Names.Escape(path)} is a valid AotCache {h.MajorVersion}.{h.MinorVersion} file " +
            $"({image.Functions.Length} functions, {image.Relocations.Length} relocations), {verdict}";
        if (!stale.Any) text!.WriteLine($"OK: {valid}");
        else
        {
            int functions = owners.Count(o => o.IsFunction), data = owners.Count - functions;
            string what = string.Join(" and ", new[] { Plural(functions, "stale function"), Plural(data, "stale data object") }.Where(s => s.Length > 0));
            text!.WriteLine($"STALE: {valid}; the default (strict) loader refuses it: {what} " +
                $"({(data > 0 ? "a lenient loader refuses it too: stale data" : "a lenient loader runs the rest")}; --why-stale NAME explains one)");
            foreach (var (owner, _, reasons) in owners)
                foreach (StaleReason r in reasons) text.WriteLine($"  {Names.Escape(owner)}: {StaleReport.Line(r)}");
        }
        foreach (LintFinding f in findings) text.WriteLine(FindingLine(f, image.File));
        if (findings.Count > 0) text.WriteLine($"{findings.Count} SHOULD-level finding{(findings.Count == 1 ? "" : "s")} (--strict)");
        return exit;
    }

    /// <summary><c>--why-stale NAME</c>: the chain from a function (or data object) to the signature or content changes
    /// that make it stale, as the loader's stale analysis records it; exit 5 when it is stale, 0 when it is not.</summary>
    private static int WhyStale(CacheImage image, string path, string name, TextWriter? text, Utf8JsonWriter? json, TextWriter stderr, bool several)
    {
        var report = new StaleReport(image, new ImageFacts(image));
        if (!report.Defines(name))
            return Fail(new FileError(ExitUnreadable, $"error: no function or data object named {Names.Quote(name)} in {Names.Escape(path)}",
                $"no function or data object named {Names.Quote(name)}"), path, json, stderr, null);
        IReadOnlyList<StaleReason> chain = report.Explain(name);
        int others = report.Owners().Count(o => o.Owner != name);
        if (json is not null)
        {
            json.WriteStartObject();
            json.WriteString("file", path);
            json.WriteString("name", name);
            json.WriteBoolean("stale", chain.Count > 0);
            json.WriteNumber("otherStale", others);
            json.WriteStartArray("chain");
            foreach (StaleReason r in chain) StaleReport.WriteJson(json, r, withDepth: true);
            json.WriteEndArray();
            json.WriteNumber("exitCode", chain.Count > 0 ? ExitStale : ExitOk);
            json.WriteEndObject();
            return chain.Count > 0 ? ExitStale : ExitOk;
        }
        if (several) text!.WriteLine($"{Names.Escape(path)}:");
        if (chain.Count == 0)
        {
            text!.WriteLine($"{Names.Quote(name)} is not stale: what it refers to and depends on is as it was compiled against" +
                (others > 0 ? $" (but {Plural(others, "other function or data object", "other functions or data objects")} of the file {(others == 1 ? "is" : "are")} stale, so the strict loader refuses the file)" : ""));
            return ExitOk;
        }
        text!.WriteLine($"{Names.Quote(name)} is stale: the default (strict) loader refuses the file, a lenient one refuses {Names.Quote(name)}. Because:");
        foreach (StaleReason r in chain) text.WriteLine($"{new string(' ', 2 + 2 * r.Depth)}{StaleReport.Line(r)}");
        return ExitStale;
    }

    /// <summary><c>--hex KIND</c>: the sections' bytes, in the order asked.</summary>
    private static int Hex(DumpRequest request, CacheImage image, string shown, TextWriter? text, Utf8JsonWriter? json, TextWriter stderr, bool several)
    {
        foreach (uint kind in request.HexSections)
            if (!HexDump.TryFind(image, kind, out _, out _))
                return Fail(new FileError(ExitUnreadable, $"error: {(several ? Names.Escape(shown) + ": " : "")}the file has no section {SectionKinds.Name(kind)} " +
                    $"(it has {HexDump.KindsPresent(image)})", $"the file has no section {SectionKinds.Name(kind)}"), shown, json, stderr, null);
        if (json is not null)
        {
            json.WriteStartObject();
            json.WriteString("file", shown);
            json.WriteStartArray("hex");
        }
        else text!.Write($"File: {ImageFacts.Printable(shown)}\n");
        foreach (uint kind in request.HexSections)
        {
            HexDump.TryFind(image, kind, out int offset, out ReadOnlySpan<byte> bytes);
            if (json is not null) HexDump.WriteJson(json, kind, offset, bytes);
            else HexDump.WriteText(text!, kind, offset, bytes);
        }
        if (json is not null)
        {
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return ExitOk;
    }

    /// <summary><c>cachedump diff A B</c>: exit 0 when nothing differs, 6 when something does, 1 or 2 when a file is
    /// malformed or unreadable (its error reported as for a dump).</summary>
    private static int Diff(string a, string b, bool asJson, TextWriter stdout, TextWriter stderr)
    {
        CacheImage? imageB = null;
        MappedFile? mappedB = null;
        string which = a;
        MappedFile? mappedA = Open(a, ReadOptions.Full, out CacheImage? imageA, out FileError? failure);
        if (failure is null)
        {
            which = b;
            mappedB = Open(b, ReadOptions.Full, out imageB, out failure);
        }
        try
        {
            if (failure is { } error)
            {
                if (!asJson) return Report(stderr, $"{Names.Escape(which)}: {error.Line}", error.Exit);
                int code = ExitOk;
                JsonDump.Print(stdout, json => code = Fail(error, which, json, stderr, null));
                return code;
            }
            List<Difference> differences = CacheDiff.Compare(imageA!, imageB!);
            if (asJson) JsonDump.Print(stdout, json => CacheDiff.WriteJson(json, a, b, differences));
            else CacheDiff.WriteText(stdout, a, b, differences);
            return differences.Count == 0 ? ExitOk : ExitDifferent;
        }
        catch (IOException e)
        {
            return Report(stderr, $"error: cannot write the output: {Names.Escape(e.Message)}", ExitOutputFailed);
        }
        finally
        {
            imageB?.Dispose();
            mappedB?.Dispose();
            imageA?.Dispose();
            mappedA?.Dispose();
        }
    }

    private static string Plural(int n, string one, string? many = null) => n == 0 ? "" : n == 1 ? $"1 {one}" : $"{n} {many ?? one + "s"}";

    /// <summary>Writes one line to standard error, if it can be written at all, and returns the exit code.</summary>
    private static int Report(TextWriter stderr, string line, int exitCode)
    {
        try
        {
            stderr.WriteLine(line);
        }
        catch (IOException)
        {
            // Standard error is gone too: the exit code is all that is left to say.
        }
        return exitCode;
    }

    /// <summary>What <c>--verify</c> says of a valid file's signature: <c>signed by trusted key …</c> (the reader checked
    /// it with the policy of <c>--trust</c> [AUTH-2]), <c>unsigned</c>, or <c>signature present, not checked</c>.</summary>
    private static string SignatureVerdict(CacheImage image, IReadOnlyList<TrustedKey> trusted)
    {
        if (!image.HasSection(SectionKind.Signature)) return "unsigned";
        if (trusted.Count == 0) return "signature present, not checked (no --trust key given)";
        SignatureRecord record = MemoryMarshal.Read<SignatureRecord>(image.File.Slice(image.SectionOffset(SectionKind.Signature), SignatureRecord.RecordSize));
        ReadOnlySpan<byte> keyId = record.KeyId;
        foreach (TrustedKey t in trusted)
            if ((ushort)t.Key.Algorithm == record.Algorithm && keyId.SequenceEqual(t.Key.KeyId)) return $"signed by trusted key {t.Label}";
        throw new InvalidOperationException("the reader accepted a signature by a key that was not given: a bug");
    }

    /// <summary><c>error: Code (number) at offset N (0xN) [REQ-1] in FIELD: detail</c>; the offset and field are left
    /// out when the problem is not at a byte of the file (e.g. a required signature that is missing).</summary>
    internal static string ErrorLine(AotCacheException e, ReadOnlySpan<byte> file)
    {
        bool atField = e.Offset >= 0 && e.Code != ErrorCode.SignatureMissing;
        string at = atField ? $" at offset {e.Offset} (0x{e.Offset:x})" : "";
        string field = atField && file.Length > 0 ? $" in {FieldNames.At(file, e.Offset)}" : "";
        return $"error: {e.Code} ({(int)e.Code}){at} [{e.Requirement}]{field}: {e.Detail}"; // names in it are escaped by the reader (Names)
    }

    /// <summary><c>REC-7 at offset N (0xN) in FIELD: message</c>.</summary>
    internal static string FindingLine(LintFinding f, ReadOnlySpan<byte> file) =>
        $"{f.Recommendation} at offset {f.Offset} (0x{f.Offset:x}) in {FieldNames.At(file, f.Offset)}: {f.Message}";
}
