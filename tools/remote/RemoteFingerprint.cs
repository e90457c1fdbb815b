using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.Remote;

/// <summary>One codegen fingerprint component (FORMAT.md §5.1) by value: its key, kind, match rule and value, with a
/// string value as text rather than as a reference into some file's string table.</summary>
/// <param name="Key">The component's key; not empty.</param>
/// <param name="Kind">What the value is.</param>
/// <param name="Match">How a host compares its own value with it.</param>
/// <param name="Number">The integer or the feature bits; 0 for strings.</param>
/// <param name="Text">The string value; null for integers and feature sets.</param>
public readonly record struct FingerprintSetting(string Key, FingerprintValueKind Kind, MatchRule Match, ulong Number, string? Text)
{
    public static FingerprintSetting OfInteger(string key, ulong value, MatchRule match = MatchRule.Equal) =>
        new(key, FingerprintValueKind.Integer, match, value, null);

    public static FingerprintSetting OfString(string key, string value, MatchRule match = MatchRule.Equal) =>
        new(key, FingerprintValueKind.String, match, 0, value ?? throw new ArgumentNullException(nameof(value)));

    public static FingerprintSetting OfFeatures(string key, ulong features, MatchRule match = MatchRule.Superset) =>
        new(key, FingerprintValueKind.FeatureSet, match, features, null);
}

/// <summary>
/// The canonical fingerprint of a compiler configuration (REMOTE.md §2.5): a hash of the fingerprint components
/// themselves, in key order, independent of where a file's string table puts their strings. The header's
/// <c>codegen_fingerprint</c> hashes the section's bytes, string references included, so two entries of the same
/// configuration whose symbol names differ in length get different header values; this one they share [RMT-16].
/// </summary>
public sealed class RemoteFingerprint
{
    private RemoteFingerprint(FingerprintSetting[] settings)
    {
        Settings = settings;
        Hash = HashOf(settings);
    }

    /// <summary>The components, sorted by the UTF-8 bytes of their keys.</summary>
    public IReadOnlyList<FingerprintSetting> Settings { get; }

    /// <summary>The canonical fingerprint hash: 0 without components, else the XxHash3-64 of their canonical encoding.</summary>
    public ulong Hash { get; }

    /// <summary>A fingerprint of <paramref name="settings"/>, in any order.</summary>
    /// <exception cref="ArgumentException">A key is empty or repeated, a kind or match rule unknown, Superset used with
    /// anything but a feature set, or a string value missing: what [FPR-1] forbids in a file.</exception>
    public static RemoteFingerprint Of(IEnumerable<FingerprintSetting> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        FingerprintSetting[] sorted = [.. settings];
        foreach (FingerprintSetting s in sorted)
        {
            ArgumentException.ThrowIfNullOrEmpty(s.Key, nameof(settings));
            if (!Enum.IsDefined(s.Kind) || !Enum.IsDefined(s.Match))
                throw new ArgumentException($"fingerprint component '{s.Key}' has an unknown value kind or match rule [FPR-1]", nameof(settings));
            if (s.Match == MatchRule.Superset && s.Kind != FingerprintValueKind.FeatureSet)
                throw new ArgumentException($"fingerprint component '{s.Key}': only feature sets compare as supersets [FPR-1]", nameof(settings));
            if ((s.Kind == FingerprintValueKind.String) != (s.Text is not null))
                throw new ArgumentException($"fingerprint component '{s.Key}': a string value has text, other values none", nameof(settings));
        }
        Array.Sort(sorted, (x, y) => CompareKeys(x.Key, y.Key));
        for (int i = 1; i < sorted.Length; i++)
            if (sorted[i - 1].Key == sorted[i].Key) throw new ArgumentException($"fingerprint key '{sorted[i].Key}' appears twice [FPR-1]", nameof(settings));
        return new RemoteFingerprint(sorted);
    }

    /// <summary>The fingerprint of a validated file's Fingerprint section.</summary>
    public static RemoteFingerprint Of(CacheImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new RemoteFingerprint(SettingsOf(image));
    }

    /// <summary>The canonical fingerprint hash of a validated file, read in place (the components are already sorted by
    /// key [FPR-1]).</summary>
    public static ulong HashOf(CacheImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        ReadOnlySpan<FingerprintComponent> components = image.Fingerprint;
        if (components.Length == 0) return 0;
        var hash = new XxHash3();
        Span<byte> scratch = stackalloc byte[8];
        foreach (FingerprintComponent c in components)
        {
            ReadOnlySpan<byte> text = c.ValueKind == FingerprintValueKind.String ? image.GetUtf8(new StringRef((uint)c.Value, (uint)(c.Value >> 32))) : default;
            Append(hash, image.GetUtf8(c.Key), c.ValueKind, c.Match, c.Value, text, scratch);
        }
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Adds every component to a builder, so the file it writes carries this fingerprint.</summary>
    public void AddTo(CacheBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (FingerprintSetting s in Settings)
        {
            switch (s.Kind)
            {
                case FingerprintValueKind.Integer: builder.AddFingerprint(s.Key, s.Number, s.Match); break;
                case FingerprintValueKind.String: builder.AddFingerprint(s.Key, s.Text!, s.Match); break;
                default: builder.AddFingerprintFeatures(s.Key, s.Number, s.Match); break;
            }
        }
    }

    /// <summary>The components and the hash, for messages.</summary>
    public override string ToString() =>
        $"{Hash:x16} ({string.Join(", ", Settings.Select(s => $"{s.Key}={(s.Text is null ? $"0x{s.Number:x}" : $"'{s.Text}'")}"))})";

    private static FingerprintSetting[] SettingsOf(CacheImage image)
    {
        ReadOnlySpan<FingerprintComponent> components = image.Fingerprint;
        var settings = new FingerprintSetting[components.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            FingerprintComponent c = components[i];
            settings[i] = c.ValueKind == FingerprintValueKind.String
                ? new FingerprintSetting(image.GetString(c.Key), c.ValueKind, c.Match, 0, image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32))))
                : new FingerprintSetting(image.GetString(c.Key), c.ValueKind, c.Match, c.Value, null);
        }
        return settings;
    }

    /// <summary>
    /// The canonical encoding (REMOTE.md §2.5), hashed as it is produced: per component, in ascending order of the
    /// UTF-8 bytes of the keys, u32 key length, the key's UTF-8 bytes, u8 value kind, u8 match rule, then for a string
    /// u32 length and its UTF-8 bytes, otherwise the u64 value; all little-endian.
    /// </summary>
    private static ulong HashOf(FingerprintSetting[] sorted)
    {
        if (sorted.Length == 0) return 0;
        var hash = new XxHash3();
        Span<byte> scratch = stackalloc byte[8];
        foreach (FingerprintSetting s in sorted)
            Append(hash, Encoding.UTF8.GetBytes(s.Key), s.Kind, s.Match, s.Number, s.Text is null ? default : Encoding.UTF8.GetBytes(s.Text), scratch);
        return hash.GetCurrentHashAsUInt64();
    }

    private static void Append(XxHash3 hash, ReadOnlySpan<byte> key, FingerprintValueKind kind, MatchRule match, ulong value, ReadOnlySpan<byte> text,
        Span<byte> scratch)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)key.Length);
        hash.Append(scratch[..4]);
        hash.Append(key);
        scratch[0] = (byte)kind;
        scratch[1] = (byte)match;
        hash.Append(scratch[..2]);
        if (kind == FingerprintValueKind.String)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)text.Length);
            hash.Append(scratch[..4]);
            hash.Append(text);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, value);
            hash.Append(scratch);
        }
    }

    private static int CompareKeys(string x, string y) =>
        Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y));
}
