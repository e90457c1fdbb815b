using System.Text.RegularExpressions;
using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>The canonical fingerprint (REMOTE.md §2.5): the published vector, independence from the string table's
/// layout, and every part of every component counting.</summary>
public sealed partial class RemoteFingerprintTests
{
    private static readonly FingerprintSetting[] VectorSettings =
    [
        FingerprintSetting.OfInteger("opt_level", 2),
        FingerprintSetting.OfString("compiler", "nib 1.0"),
        FingerprintSetting.OfFeatures("cpu", 0x7d),
    ];

    /// <summary>Cross-checked with <c>xxhsum -H3</c> (xxHash 0.8.1) over the 65 bytes of REMOTE.md's table.</summary>
    private const ulong VectorHash = 0xacb7b024f61c77ce;

    [GeneratedRegex(@"^\| (?<name>[a-z_]+) \| `(?<hex>(?:[0-9a-f]{2} ?)+)` \|", RegexOptions.Multiline)]
    private static partial Regex ComponentRow();

    [Fact]
    [Requirement("RMT-16")]
    public void The_vector_of_REMOTE_md_hashes_as_published_in_any_order_of_the_settings()
    {
        Assert.Equal(VectorHash, RemoteFingerprint.Of(VectorSettings).Hash);
        Assert.Equal(VectorHash, RemoteFingerprint.Of(VectorSettings.Reverse()).Hash);
        Assert.Equal(["compiler", "cpu", "opt_level"], RemoteFingerprint.Of(VectorSettings).Settings.Select(s => s.Key));

        // The encoding in the spec's table is what hashes to the published value.
        string spec = File.ReadAllText(Path.Combine(GoldenFile.RepositoryRoot(), "spec", "REMOTE.md"));
        var rows = ComponentRow().Matches(spec).ToList();
        Assert.Equal(["compiler", "cpu", "opt_level"], rows.Select(r => r.Groups["name"].Value));
        byte[] encoding = Convert.FromHexString(string.Concat(rows.Select(r => r.Groups["hex"].Value.Replace(" ", "", StringComparison.Ordinal))));
        Assert.Equal(65, encoding.Length);
        Assert.Equal(VectorHash, System.IO.Hashing.XxHash3.HashToUInt64(encoding));
        Assert.Contains($"`{VectorHash:x16}`", spec, StringComparison.Ordinal);
    }

    /// <summary>A file with the vector's components and the given symbol names.</summary>
    private static byte[] FileWith(IEnumerable<FingerprintSetting> settings, string functionName, string moduleName = "")
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = moduleName };
        builder.AddFunction(functionName, new FunctionBody([0xC3], Signature.SysV([], [])));
        RemoteFingerprint.Of(settings).AddTo(builder);
        return builder.ToArray();
    }

    [Fact]
    [Requirement("RMT-16")]
    public void Files_of_one_configuration_share_the_canonical_hash_where_their_header_fingerprints_differ()
    {
        using var shortName = CacheImage.Read(FileWith(VectorSettings, "f"));
        using var longName = CacheImage.Read(FileWith(VectorSettings, "a_function_with_a_much_longer_name", "module"));
        // The header's value hashes string references, which the longer name moved (FORMAT.md [FPR-2]).
        Assert.NotEqual(shortName.Header.CodegenFingerprint, longName.Header.CodegenFingerprint);
        Assert.Equal(VectorHash, RemoteFingerprint.HashOf(shortName));
        Assert.Equal(VectorHash, RemoteFingerprint.HashOf(longName));
        Assert.Equal(RemoteFingerprint.Of(VectorSettings).Settings, RemoteFingerprint.Of(longName).Settings);
        Assert.Equal(VectorHash, RemoteFingerprint.Of(longName).Hash);

        using var none = CacheImage.Read(FileWith([], "f"));
        Assert.Equal(0UL, RemoteFingerprint.HashOf(none));
        Assert.Equal(0UL, RemoteFingerprint.Of([]).Hash);
    }

    [Fact]
    public void Every_part_of_every_component_changes_the_hash_informational_ones_included()
    {
        FingerprintSetting[][] variants =
        [
            [.. VectorSettings, FingerprintSetting.OfString("note", "x", MatchRule.Informational)],
            [VectorSettings[0] with { Number = 3 }, VectorSettings[1], VectorSettings[2]],
            [VectorSettings[0] with { Key = "opt_levels" }, VectorSettings[1], VectorSettings[2]],
            [VectorSettings[0] with { Match = MatchRule.Informational }, VectorSettings[1], VectorSettings[2]],
            [VectorSettings[0] with { Kind = FingerprintValueKind.FeatureSet }, VectorSettings[1], VectorSettings[2]],
            [VectorSettings[0], VectorSettings[1] with { Text = "nib 1.1" }, VectorSettings[2]],
            [VectorSettings[0], VectorSettings[1] with { Text = "nib 1.0 " }, VectorSettings[2]],
            [VectorSettings[0], VectorSettings[1], VectorSettings[2] with { Number = 0x7f }],
            // Length prefixes keep a key's end and a value's start apart.
            [VectorSettings[0], FingerprintSetting.OfString("compile", "rnib 1.0"), VectorSettings[2]],
        ];
        var hashes = variants.Select(v => RemoteFingerprint.Of(v).Hash).Append(VectorHash).ToList();
        Assert.Equal(hashes.Count, hashes.Distinct().Count());
    }

    [Fact]
    public void Settings_a_file_could_not_hold_are_refused()
    {
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() =>
            RemoteFingerprint.Of([FingerprintSetting.OfInteger("a", 1), FingerprintSetting.OfInteger("a", 2)])).Message, StringComparison.Ordinal);
        Assert.Contains("supersets", Assert.Throws<ArgumentException>(() =>
            RemoteFingerprint.Of([FingerprintSetting.OfInteger("a", 1, MatchRule.Superset)])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RemoteFingerprint.Of([FingerprintSetting.OfInteger("", 1)]));
        Assert.Throws<ArgumentException>(() => RemoteFingerprint.Of([new FingerprintSetting("a", FingerprintValueKind.String, MatchRule.Equal, 0, null)]));
    }
}
