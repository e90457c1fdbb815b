using System.Buffers.Binary;
using System.IO.Hashing;
using AotCache.Format;

namespace AotCache.Remote;

/// <summary>
/// Everything a remote entry's code depends on, and so everything its key is derived from (REMOTE.md §2):
/// the format's major version, the function's content hash, the canonical fingerprint hash of the compiler's
/// configuration, the target and the CPU features the code needs.
/// </summary>
/// <param name="FormatMajor">The major version of the entry's AotCache file (<see cref="FormatConstants.MajorVersion"/>).</param>
/// <param name="ContentHash">The function's content hash (FORMAT.md §8); never <see cref="ContentHash.None"/>.</param>
/// <param name="Fingerprint">The canonical fingerprint hash (<see cref="RemoteFingerprint.Hash"/>, REMOTE.md §2.5): of the
/// fingerprint components themselves, not the header's <c>codegen_fingerprint</c>, which depends on the string table's layout.</param>
/// <param name="Architecture">The header's <c>architecture</c>.</param>
/// <param name="Abi">The header's <c>abi</c>.</param>
/// <param name="Os">The header's <c>os</c>.</param>
/// <param name="RequiredCpuFeatures">The function's <c>required_cpu_features</c> (FORMAT.md §5.2).</param>
public readonly record struct RemoteKeyInputs(
    ushort FormatMajor,
    ContentHash ContentHash,
    ulong Fingerprint,
    Architecture Architecture,
    Abi Abi,
    TargetOs Os,
    CpuFeatures RequiredCpuFeatures)
{
    /// <summary>Inputs for a file of the major version this library writes.</summary>
    public static RemoteKeyInputs Current(ContentHash contentHash, ulong fingerprint, Architecture architecture, Abi abi,
        TargetOs os, CpuFeatures requiredCpuFeatures) =>
        new(FormatConstants.MajorVersion, contentHash, fingerprint, architecture, abi, os, requiredCpuFeatures);
}

/// <summary>
/// The key of one remote entry: <c>aotc:1:</c> followed by the 32 lowercase hex digits of the XxHash128 (seed 0)
/// of the 40-byte canonical encoding of its <see cref="RemoteKeyInputs"/> [RMT-1] [RMT-2]. Two toolkits that
/// encode the same inputs compute the same key.
/// </summary>
public sealed class RemoteKey : IEquatable<RemoteKey>
{
    /// <summary>The text every key starts with; the <c>1</c> is the version of this key derivation.</summary>
    public const string Prefix = "aotc:1:";

    /// <summary>Length of the canonical encoding in bytes.</summary>
    public const int EncodedLength = 40;

    /// <summary>Length of a key's text: the prefix and 32 hex digits.</summary>
    public const int TextLength = 7 + 32;

    private RemoteKey(RemoteKeyInputs inputs, string text)
    {
        Inputs = inputs;
        Text = text;
    }

    /// <summary>What the key was derived from; a fetched entry must match these exactly [RMT-9].</summary>
    public RemoteKeyInputs Inputs { get; }

    /// <summary>The key as the store holds it, e.g. <c>aotc:1:0f3c…</c>.</summary>
    public string Text { get; }

    /// <summary>Derives the key of <paramref name="inputs"/>.</summary>
    /// <exception cref="ArgumentException">The content hash is none, or the target is not one FORMAT.md defines.</exception>
    public static RemoteKey For(RemoteKeyInputs inputs)
    {
        Span<byte> encoded = stackalloc byte[EncodedLength];
        Encode(inputs, encoded);
        UInt128 hash = XxHash128.HashToUInt128(encoded);
        return new RemoteKey(inputs, Prefix + hash.ToString("x32", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Writes the canonical encoding of <paramref name="inputs"/>: 40 bytes, every integer little-endian
    /// (REMOTE.md §2.1). <c>format_major</c> u16 at 0, <c>architecture</c> u16 at 2, <c>abi</c> u16 at 4, <c>os</c> u16
    /// at 6, <c>required_cpu_features</c> u64 at 8, <c>fingerprint</c> u64 at 16, the content hash's low half
    /// u64 at 24 and its high half u64 at 32.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="For"/>, or <paramref name="destination"/> is shorter than 40 bytes.</exception>
    public static void Encode(RemoteKeyInputs inputs, Span<byte> destination)
    {
        if (destination.Length < EncodedLength)
            throw new ArgumentException($"the canonical encoding takes {EncodedLength} bytes; the destination has {destination.Length}", nameof(destination));
        if (inputs.ContentHash.IsNone)
            throw new ArgumentException("a function without a content hash has no remote key: its content hash is all zero", nameof(inputs));
        if (!Enum.IsDefined(inputs.Architecture))
            throw new ArgumentException($"architecture {(ushort)inputs.Architecture} is not one FORMAT.md §3 defines", nameof(inputs));
        if (!Enum.IsDefined(inputs.Abi))
            throw new ArgumentException($"abi {(ushort)inputs.Abi} is not one FORMAT.md §3 defines", nameof(inputs));
        if (!Enum.IsDefined(inputs.Os))
            throw new ArgumentException($"os {(ushort)inputs.Os} is not one FORMAT.md §3 defines", nameof(inputs));
        BinaryPrimitives.WriteUInt16LittleEndian(destination[0..], inputs.FormatMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)inputs.Architecture);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], (ushort)inputs.Abi);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)inputs.Os);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)inputs.RequiredCpuFeatures);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], inputs.Fingerprint);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], inputs.ContentHash.Low);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], inputs.ContentHash.High);
    }

    /// <inheritdoc/>
    public bool Equals(RemoteKey? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RemoteKey);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

    /// <summary>The key's text.</summary>
    public override string ToString() => Text;
}
