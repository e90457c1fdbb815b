using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using AotCache.Format;

namespace AotCache.Remote;

/// <summary>One named input of a whole build (REMOTE.md §10.1): a source file, the module name, the host interface, …</summary>
/// <param name="Name">The input's name, unique among a build's inputs (UTF-8, not empty).</param>
/// <param name="Bytes">Its exact bytes.</param>
public readonly record struct ModuleInput(string Name, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>An input whose bytes are the UTF-8 encoding of <paramref name="text"/>.</summary>
    public static ModuleInput OfText(string name, string text) => new(name, Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// Everything a module entry depends on, and so everything its key is derived from (REMOTE.md §10.1): the format's major
/// version, the target, the CPU features the build was allowed to use, the canonical fingerprint of the compiler's
/// configuration, and the hash of the build's inputs.
/// </summary>
/// <param name="InputsHash">The XxHash128 of the canonical encoding of the build's inputs (<see cref="RemoteModuleKey.HashInputs"/>).</param>
/// <param name="CpuFeatures">The CPU features the compiler was configured to use (the build's, not one function's).</param>
public readonly record struct RemoteModuleKeyInputs(
    ushort FormatMajor,
    Architecture Architecture,
    Abi Abi,
    TargetOs Os,
    CpuFeatures CpuFeatures,
    ulong Fingerprint,
    UInt128 InputsHash)
{
    /// <summary>Inputs for a file of the major version this library writes.</summary>
    public static RemoteModuleKeyInputs Current(Architecture architecture, Abi abi, TargetOs os, CpuFeatures cpuFeatures, ulong fingerprint,
        UInt128 inputsHash) =>
        new(FormatConstants.MajorVersion, architecture, abi, os, cpuFeatures, fingerprint, inputsHash);
}

/// <summary>
/// The key of one module entry: <c>aotc:module:1:</c> followed by the 32 lowercase hex digits of the XxHash128 (seed 0)
/// of the 48-byte canonical encoding of its <see cref="RemoteModuleKeyInputs"/>, which begins with the domain tag
/// <c>aotc-mod</c> [RMT-23]. No function key (<c>aotc:1:</c>, <see cref="RemoteKey"/>) can equal a module key.
/// </summary>
public sealed class RemoteModuleKey : IEquatable<RemoteModuleKey>
{
    /// <summary>The text every module key starts with; the <c>1</c> is the version of this derivation.</summary>
    public const string Prefix = "aotc:module:1:";

    /// <summary>The first 8 bytes of the canonical encoding.</summary>
    public static ReadOnlySpan<byte> DomainTag => "aotc-mod"u8;

    /// <summary>Length of the canonical encoding in bytes.</summary>
    public const int EncodedLength = 48;

    /// <summary>Length of a key's text: the prefix and 32 hex digits.</summary>
    public const int TextLength = 14 + 32;

    private RemoteModuleKey(RemoteModuleKeyInputs inputs, string text)
    {
        Inputs = inputs;
        Text = text;
    }

    /// <summary>What the key was derived from; a fetched entry's file must match the target, fingerprint and CPU features [RMT-26].</summary>
    public RemoteModuleKeyInputs Inputs { get; }

    /// <summary>The key as the store holds it, e.g. <c>aotc:module:1:0f3c…</c>.</summary>
    public string Text { get; }

    /// <summary>Derives the key of <paramref name="inputs"/>.</summary>
    /// <exception cref="ArgumentException">The target is not one FORMAT.md defines.</exception>
    public static RemoteModuleKey For(RemoteModuleKeyInputs inputs)
    {
        Span<byte> encoded = stackalloc byte[EncodedLength];
        Encode(inputs, encoded);
        UInt128 hash = XxHash128.HashToUInt128(encoded);
        return new RemoteModuleKey(inputs, Prefix + hash.ToString("x32", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Writes the canonical encoding (REMOTE.md §10.2): the domain tag <c>aotc-mod</c> at 0, <c>format_major</c> u16 at 8,
    /// <c>architecture</c> u16 at 10, <c>abi</c> u16 at 12, <c>os</c> u16 at 14, <c>cpu_features</c> u64 at 16,
    /// <c>fingerprint</c> u64 at 24, the inputs hash's low half u64 at 32 and its high half u64 at 40; little-endian.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="For"/>, or <paramref name="destination"/> is shorter than 48 bytes.</exception>
    public static void Encode(RemoteModuleKeyInputs inputs, Span<byte> destination)
    {
        if (destination.Length < EncodedLength)
            throw new ArgumentException($"the canonical encoding takes {EncodedLength} bytes; the destination has {destination.Length}", nameof(destination));
        if (!Enum.IsDefined(inputs.Architecture) || !Enum.IsDefined(inputs.Abi) || !Enum.IsDefined(inputs.Os))
            throw new ArgumentException($"target {(ushort)inputs.Architecture}/{(ushort)inputs.Abi}/{(ushort)inputs.Os} is not one FORMAT.md §3 defines", nameof(inputs));
        DomainTag.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], inputs.FormatMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], (ushort)inputs.Architecture);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[12..], (ushort)inputs.Abi);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], (ushort)inputs.Os);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], (ulong)inputs.CpuFeatures);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], inputs.Fingerprint);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], (ulong)inputs.InputsHash);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[40..], (ulong)(inputs.InputsHash >> 64));
    }

    /// <summary>
    /// The inputs hash (REMOTE.md §10.1): XxHash128 of the inputs in ascending order of their names' UTF-8 bytes, each
    /// encoded as u32 name length, the name's UTF-8 bytes, u64 content length, the content.
    /// </summary>
    /// <exception cref="ArgumentException">No inputs, an empty name, or a name given twice.</exception>
    public static UInt128 HashInputs(IEnumerable<ModuleInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var named = new List<(byte[] Name, ReadOnlyMemory<byte> Bytes)>();
        foreach (ModuleInput input in inputs)
        {
            ArgumentException.ThrowIfNullOrEmpty(input.Name, nameof(inputs));
            named.Add((Encoding.UTF8.GetBytes(input.Name), input.Bytes));
        }
        if (named.Count == 0) throw new ArgumentException("a build has at least one input", nameof(inputs));
        named.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        var hash = new XxHash128();
        Span<byte> length = stackalloc byte[8];
        for (int i = 0; i < named.Count; i++)
        {
            if (i > 0 && named[i].Name.AsSpan().SequenceEqual(named[i - 1].Name))
                throw new ArgumentException($"the input '{Encoding.UTF8.GetString(named[i].Name)}' is given twice", nameof(inputs));
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)named[i].Name.Length);
            hash.Append(length[..4]);
            hash.Append(named[i].Name);
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)named[i].Bytes.Length);
            hash.Append(length);
            hash.Append(named[i].Bytes.Span);
        }
        return hash.GetCurrentHashAsUInt128();
    }

    /// <inheritdoc/>
    public bool Equals(RemoteModuleKey? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RemoteModuleKey);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

    /// <summary>The key's text.</summary>
    public override string ToString() => Text;
}
