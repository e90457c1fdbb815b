using AotCache.Format;
using AotCache.Loader;

namespace AotCache.Tools.CacheDump;

public static partial class CacheDumpCommand
{
    /// <summary>
    /// Opens and validates the file with the loader's own validator (<see cref="ReadOptions.Full"/>: section
    /// checksums too, so dump and <c>--verify</c> accept exactly the same files), then verifies or dumps it.
    /// A malformed file is one error line and exit 1; an unreadable one is exit 2. Nothing else is caught:
    /// the reader throws only <see cref="AotCacheException"/> for bad bytes, so anything else is a bug here.
    /// </summary>
    private static int Execute(DumpRequest request, TextWriter stdout, TextWriter stderr)
    {
        CacheImage image;
        try
        {
            image = CacheImage.OpenFile(request.Path, ReadOptions.Full);
        }
        catch (AotCacheException e)
        {
            stderr.WriteLine(ErrorLine(e));
            return ExitMalformed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot read {request.Path}: {e.Message}");
            return ExitUnreadable;
        }

        using (image)
        {
            if (request.Verify)
            {
                ref readonly FileHeader h = ref image.Header;
                stdout.WriteLine($"OK: {request.Path} is a valid AotCache {h.MajorVersion}.{h.MinorVersion} file " +
                    $"({image.Functions.Length} functions, {image.Relocations.Length} relocations)");
                return ExitOk;
            }
            string fileName = Path.GetFileName(request.Path);
            if (request.Json) JsonDump.Write(image, fileName, request.Sections, stdout);
            else TextDump.Write(image, fileName, request.Sections, stdout);
            return ExitOk;
        }
    }

    /// <summary><c>error: Code (number) at offset N (0xN) [REQ-1]: detail</c>, the offset left out when the
    /// problem is not at a byte.</summary>
    internal static string ErrorLine(AotCacheException e)
    {
        string at = e.Offset >= 0 ? $" at offset {e.Offset} (0x{e.Offset:x})" : "";
        return $"error: {e.Code} ({(int)e.Code}){at} [{e.Requirement}]: {e.Detail}";
    }
}
