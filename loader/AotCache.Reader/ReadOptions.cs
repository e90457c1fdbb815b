namespace AotCache.Reader;

/// <summary>How much a reader checks beyond what loading needs.</summary>
public sealed record ReadOptions
{
    /// <summary>What a loader checks: the whole-file checksum (one pass at hash speed) and every structural rule.</summary>
    public static readonly ReadOptions Default = new();

    /// <summary>Also checks each section's own checksum [INT-2], as <c>cachedump --verify</c> does.</summary>
    public static readonly ReadOptions Full = new() { VerifySectionChecksums = true };

    /// <summary>Check every section checksum as well as the file checksum.</summary>
    public bool VerifySectionChecksums { get; init; }

    /// <summary>
    /// <see cref="CacheImage.OpenFile"/> maps a file that no other user can change (FORMAT.md §16.3), so a loader can
    /// map its code pages straight from the page cache, shared by every process that loads it. False always reads a
    /// private copy. Files others could write are always copied, before any byte is checked.
    /// </summary>
    public bool MapFiles { get; init; } = true;

    /// <summary>Signature requirements; null: a signature, if present, is checked for shape only.</summary>
    public SignaturePolicy? Signatures { get; init; }
}
