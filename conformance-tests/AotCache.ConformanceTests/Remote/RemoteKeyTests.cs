using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.RegularExpressions;
using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>Key derivation (REMOTE.md §2): the canonical encoding byte by byte, the hash, the text form and the
/// published test vector.</summary>
public sealed partial class RemoteKeyTests
{
    /// <summary>The vector of REMOTE.md §2.3: cross-checked with xxhsum -H2 (xxHash 0.8.1) over the 40 bytes.</summary>
    private static readonly RemoteKeyInputs Vector = new(1, new ContentHash(0x1122334455667788, 0x99aabbccddeeff00), 0x0123456789abcdef,
        Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux,
        CpuFeatures.Sse3 | CpuFeatures.Sse41 | CpuFeatures.Sse42 | CpuFeatures.Popcnt | CpuFeatures.Avx | CpuFeatures.Avx2);

    private const string VectorEncoding = "0100010001000100" + "7d00000000000000" + "efcdab8967452301" + "8877665544332211" + "00ffeeddccbbaa99";
    private const string VectorKey = "aotc:1:c5bb37aeb097bcd98e4ac74f979e53a6";

    [GeneratedRegex(@"^aotc:1:[0-9a-f]{32}$")]
    private static partial Regex KeyText();

    [Fact]
    [Requirement("RMT-1")]
    public void The_canonical_encoding_is_40_little_endian_bytes_in_the_documented_order()
    {
        var encoded = new byte[RemoteKey.EncodedLength];
        RemoteKey.Encode(Vector, encoded);
        Assert.Equal(VectorEncoding, Convert.ToHexStringLower(encoded));

        // The same layout, written independently of the library.
        var expected = new byte[40];
        BinaryPrimitives.WriteUInt16LittleEndian(expected.AsSpan(0), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(expected.AsSpan(2), (ushort)Architecture.X86_64);
        BinaryPrimitives.WriteUInt16LittleEndian(expected.AsSpan(4), (ushort)Abi.SysVAmd64);
        BinaryPrimitives.WriteUInt16LittleEndian(expected.AsSpan(6), (ushort)TargetOs.Linux);
        BinaryPrimitives.WriteUInt64LittleEndian(expected.AsSpan(8), (ulong)Vector.RequiredCpuFeatures);
        BinaryPrimitives.WriteUInt64LittleEndian(expected.AsSpan(16), Vector.Fingerprint);
        BinaryPrimitives.WriteUInt64LittleEndian(expected.AsSpan(24), Vector.ContentHash.Low);
        BinaryPrimitives.WriteUInt64LittleEndian(expected.AsSpan(32), Vector.ContentHash.High);
        Assert.Equal(expected, encoded);
    }

    [Fact]
    [Requirement("RMT-2")]
    public void The_key_is_the_prefix_and_the_XxHash128_of_the_encoding_in_32_lowercase_hex_digits()
    {
        RemoteKey key = RemoteKey.For(Vector);
        Assert.Equal(VectorKey, key.Text);
        Assert.Matches(KeyText(), key.Text);
        Assert.Equal(RemoteKey.TextLength, key.Text.Length);
        // xxHash's canonical form of the 128-bit value is big-endian: its hex is the number's, high digits first.
        Assert.Equal(RemoteKey.Prefix + Convert.ToHexStringLower(XxHash128.Hash(Convert.FromHexString(VectorEncoding))), key.Text);
        Assert.Equal(Vector, key.Inputs);
    }

    [Fact]
    public void The_vector_in_REMOTE_md_is_the_one_the_library_computes()
    {
        string spec = File.ReadAllText(Path.Combine(GoldenFile.RepositoryRoot(), "spec", "REMOTE.md"));
        Assert.Contains(VectorKey, spec, StringComparison.Ordinal);
        string hexInSpec = string.Concat(Regex.Matches(spec, @"^\| (\d+) \| \d+ \| [a-z_]+ \| `((?:[0-9a-f]{2} ?)+)` \|", RegexOptions.Multiline)
            .Select(m => m.Groups[2].Value.Replace(" ", "", StringComparison.Ordinal)));
        Assert.Equal(VectorEncoding, hexInSpec);
    }

    [Fact]
    public void Every_input_changes_the_key()
    {
        string baseline = RemoteKey.For(Vector).Text;
        RemoteKeyInputs[] variants =
        [
            Vector with { FormatMajor = 2 },
            Vector with { ContentHash = new ContentHash(Vector.ContentHash.Low ^ 1, Vector.ContentHash.High) },
            Vector with { ContentHash = new ContentHash(Vector.ContentHash.Low, Vector.ContentHash.High ^ (1UL << 63)) },
            Vector with { Fingerprint = Vector.Fingerprint + 1 },
            Vector with { Abi = Abi.Win64 },
            Vector with { Os = TargetOs.Windows },
            Vector with { Os = TargetOs.MacOS },
            Vector with { RequiredCpuFeatures = Vector.RequiredCpuFeatures | CpuFeatures.Avx512F },
            Vector with { RequiredCpuFeatures = CpuFeatures.None },
        ];
        var keys = variants.Select(v => RemoteKey.For(v).Text).Append(baseline).ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(baseline, RemoteKey.For(Vector with { }).Text);
    }

    [Fact]
    public void A_function_without_a_content_hash_or_with_an_unknown_target_has_no_key()
    {
        Assert.Contains("content hash", Assert.Throws<ArgumentException>(() => RemoteKey.For(Vector with { ContentHash = ContentHash.None })).Message,
            StringComparison.Ordinal);
        Assert.Contains("architecture 7", Assert.Throws<ArgumentException>(() => RemoteKey.For(Vector with { Architecture = (Architecture)7 })).Message,
            StringComparison.Ordinal);
        Assert.Contains("abi 0", Assert.Throws<ArgumentException>(() => RemoteKey.For(Vector with { Abi = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("os 9", Assert.Throws<ArgumentException>(() => RemoteKey.For(Vector with { Os = (TargetOs)9 })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RemoteKey.Encode(Vector, new byte[39]));
    }

    [Fact]
    public void Keys_compare_by_their_text()
    {
        Assert.Equal(RemoteKey.For(Vector), RemoteKey.For(Vector with { }));
        Assert.NotEqual(RemoteKey.For(Vector), RemoteKey.For(Vector with { Fingerprint = 1 }));
        Assert.Equal(VectorKey, RemoteKey.For(Vector).ToString());
    }
}
