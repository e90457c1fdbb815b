using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Reader.Memory;

namespace AotCache.Tools.CacheDump;

public static partial class CacheDumpCommand
{
    /// <summary>
    /// Maps the file (a regular file only: a FIFO, pipe or device is refused before it is read) and validates it
    /// with the loader's own validator (<see cref="ReadOptions.Full"/>: section checksums too, so dump and
    /// <c>--verify</c> accept exactly the same files), then verifies or dumps it. A malformed file is one error line
    /// and exit 1, its field named from the bytes the validator saw (<see cref="FieldNames"/> reads only the header
    /// and the directory): the file is never read again. An unreadable file or a bad <c>--trust</c> is exit 2; output
    /// that cannot be written is exit 4. Nothing else is caught: the reader throws only <see cref="AotCacheException"/>
    /// for bad bytes, so anything else is a bug here.
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

        MappedFile mapped;
        try
        {
            mapped = MappedFile.OpenRead(request.Path, allowMapping: false); // a copy: a file truncated meanwhile cannot fault the tool
        }
        catch (AotCacheException e)
        {
            return Report(stderr, ErrorLine(e, default), ExitMalformed); // larger than any file may be [LIM-2]
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Report(stderr, $"error: cannot read {Names.Escape(request.Path)}: {Names.Escape(e.Message)}", ExitUnreadable);
        }
        using (mapped)
        {
            CacheImage image;
            try
            {
                image = CacheImage.Read(mapped.Memory, options);
            }
            catch (AotCacheException e)
            {
                return Report(stderr, ErrorLine(e, mapped.Memory.Span), ExitMalformed);
            }
            try
            {
                return Output(request, image, trusted, stdout);
            }
            catch (IOException e)
            {
                // A full disk or a stream closed under us: no stack trace, a code that says the output is incomplete.
                return Report(stderr, $"error: cannot write the output: {Names.Escape(e.Message)}", ExitOutputFailed);
            }
        }
    }

    private static int Output(DumpRequest request, CacheImage image, IReadOnlyList<TrustedKey> trusted, TextWriter stdout)
    {
        if (!request.Verify)
        {
            string fileName = Path.GetFileName(request.Path);
            if (request.Json) JsonDump.Write(image, fileName, request.Sections, stdout);
            else TextDump.Write(image, fileName, request.Sections, stdout);
            return ExitOk;
        }
        ref readonly FileHeader h = ref image.Header;
        stdout.WriteLine($"OK: {Names.Escape(request.Path)} is a valid AotCache {h.MajorVersion}.{h.MinorVersion} file " +
            $"({image.Functions.Length} functions, {image.Relocations.Length} relocations), {SignatureVerdict(image, trusted)}");
        if (!request.Strict) return ExitOk;
        List<LintFinding> findings = CacheLinter.Lint(image);
        foreach (LintFinding f in findings) stdout.WriteLine(FindingLine(f, image.File));
        if (findings.Count == 0) return ExitOk;
        stdout.WriteLine($"{findings.Count} SHOULD-level finding{(findings.Count == 1 ? "" : "s")} (--strict)");
        return ExitStrictFindings;
    }

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
