using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Tools.CacheDump;

public static partial class CacheDumpCommand
{
    /// <summary>
    /// Opens and validates the file with the loader's own validator (<see cref="ReadOptions.Full"/>: section
    /// checksums too, so dump and <c>--verify</c> accept exactly the same files), then verifies or dumps it.
    /// A malformed file is one error line and exit 1; an unreadable one is exit 2; output that cannot be written
    /// is exit 4. Nothing else is caught: the reader throws only <see cref="AotCacheException"/> for bad bytes, so
    /// anything else is a bug here.
    /// </summary>
    private static int Execute(DumpRequest request, TextWriter stdout, TextWriter stderr)
    {
        CacheImage image;
        try
        {
            image = CacheImage.OpenFile(request.Path, ReadOptions.Full with { MapFiles = false }); // a copy: a file truncated meanwhile cannot fault the tool
        }
        catch (AotCacheException e)
        {
            return Report(stderr, ErrorLine(e, FileBytes(request.Path)), ExitMalformed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Report(stderr, $"error: cannot read {request.Path}: {e.Message}", ExitUnreadable);
        }

        using (image)
        {
            try
            {
                return Output(request, image, stdout);
            }
            catch (IOException e)
            {
                // A full disk or a stream closed under us: no stack trace, a code that says the output is incomplete.
                return Report(stderr, $"error: cannot write the output: {e.Message}", ExitOutputFailed);
            }
        }
    }

    private static int Output(DumpRequest request, CacheImage image, TextWriter stdout)
    {
        if (!request.Verify)
        {
            string fileName = Path.GetFileName(request.Path);
            if (request.Json) JsonDump.Write(image, fileName, request.Sections, stdout);
            else TextDump.Write(image, fileName, request.Sections, stdout);
            return ExitOk;
        }
        ref readonly FileHeader h = ref image.Header;
        stdout.WriteLine($"OK: {request.Path} is a valid AotCache {h.MajorVersion}.{h.MinorVersion} file " +
            $"({image.Functions.Length} functions, {image.Relocations.Length} relocations)");
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

    /// <summary>The file's bytes for naming the field of an error, or empty when it cannot be read again.</summary>
    private static byte[] FileBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            return [];
        }
    }

    /// <summary><c>error: Code (number) at offset N (0xN) [REQ-1] in FIELD: detail</c>; the offset and field are left
    /// out when the problem is not at a byte of the file (e.g. a required signature that is missing).</summary>
    internal static string ErrorLine(AotCacheException e, ReadOnlySpan<byte> file)
    {
        bool atField = e.Offset >= 0 && e.Code != ErrorCode.SignatureMissing;
        string at = atField ? $" at offset {e.Offset} (0x{e.Offset:x})" : "";
        string field = atField && file.Length > 0 ? $" in {FieldNames.At(file, e.Offset)}" : "";
        return $"error: {e.Code} ({(int)e.Code}){at} [{e.Requirement}]{field}: {e.Detail}";
    }

    /// <summary><c>REC-7 at offset N (0xN) in FIELD: message</c>.</summary>
    internal static string FindingLine(LintFinding f, ReadOnlySpan<byte> file) =>
        $"{f.Recommendation} at offset {f.Offset} (0x{f.Offset:x}) in {FieldNames.At(file, f.Offset)}: {f.Message}";
}
