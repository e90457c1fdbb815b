using System.IO.Hashing;

namespace AotCache.Format;

/// <summary>The integrity hashes of FORMAT.md §13. One definition, used by writer, reader and tools.</summary>
public static class Checksums
{
    /// <summary>
    /// File checksum [INT-1]: XxHash3-64, seed 0, over every byte of the file, with the 8 bytes of the
    /// checksum field (offset 24) taken as zero. <paramref name="file"/> must be at least a header long.
    /// </summary>
    public static ulong FileChecksum(ReadOnlySpan<byte> file)
    {
        if (file.Length < FormatConstants.HeaderSize)
            throw new ArgumentException("a file checksum needs at least a whole header", nameof(file));
        var hash = new XxHash3(FormatConstants.HashSeed);
        hash.Append(file[..FormatConstants.FileChecksumOffset]);
        hash.Append(stackalloc byte[8]);
        hash.Append(file[(FormatConstants.FileChecksumOffset + 8)..]);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Section checksum [INT-2]: XxHash3-64, seed 0, of the section's bytes.</summary>
    public static ulong SectionChecksum(ReadOnlySpan<byte> section) => XxHash3.HashToUInt64(section, FormatConstants.HashSeed);

    /// <summary>Codegen fingerprint [FPR-2]: XxHash3-64, seed 0, of the fingerprint section's bytes; 0 when absent.</summary>
    public static ulong CodegenFingerprint(ReadOnlySpan<byte> fingerprintSection) =>
        fingerprintSection.IsEmpty ? 0 : XxHash3.HashToUInt64(fingerprintSection, FormatConstants.HashSeed);
}
