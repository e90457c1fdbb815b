using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.Remote;

/// <summary>
/// Module entries (REMOTE.md §10): the whole cache file a build wrote, byte for byte, followed by its <em>seal</em> — a
/// small AotCache file, signed like a function entry when the client holds a signing key, whose one private section
/// names the module key and the file's length and SHA-256. The file itself stays exactly what an offline build writes
/// (unsigned), so a client that fetches it writes those bytes as its local cache; the signature lives in the seal.
/// </summary>
public sealed class RemoteModuleFormat
{
    /// <summary>The private section kind of the seal record (FORMAT.md §4, private kinds): "MS", module seal.</summary>
    public const uint SealSectionKind = 0x8000_4D53;

    /// <summary>The seal record's first 8 bytes.</summary>
    public static ReadOnlySpan<byte> SealMagic => "aotcseal"u8;

    /// <summary>Bytes of the seal record before the key's text.</summary>
    public const int SealRecordFixedSize = 56;

    /// <summary>The producer string of seals (informational).</summary>
    public const string SealProducer = "aotcache-remote module seal";

    private readonly ReadOptions _sealOptions;
    private readonly ReadOptions _fileOptions = ReadOptions.Full with { Signatures = null };

    /// <param name="target">The target every module is built for.</param>
    /// <param name="fingerprint">The compiler configuration every module carries.</param>
    /// <param name="cpuFeatures">The CPU features builds are allowed to use (a key input).</param>
    /// <param name="signingKey">Signs seals; null writes them unsigned.</param>
    /// <param name="signatures">What a fetched seal must be signed with; null accepts unsigned seals.</param>
    public RemoteModuleFormat(TargetDescription target, RemoteFingerprint fingerprint, CpuFeatures cpuFeatures = CpuFeatures.None,
        SigningKey? signingKey = null, SignaturePolicy? signatures = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(fingerprint);
        if (!Enum.IsDefined(target.Architecture) || !Enum.IsDefined(target.Abi) || !Enum.IsDefined(target.Os))
            throw new ArgumentException($"unknown target {target}", nameof(target));
        Target = target;
        Fingerprint = fingerprint;
        CpuFeatures = cpuFeatures;
        SigningKey = signingKey;
        Signatures = signatures;
        // Every check of FORMAT.md §14, section checksums included, and the signature policy for the seal [RMT-26].
        _sealOptions = ReadOptions.Full with { Signatures = signatures };
    }

    public TargetDescription Target { get; }
    public RemoteFingerprint Fingerprint { get; }
    public CpuFeatures CpuFeatures { get; }
    public SigningKey? SigningKey { get; }
    public SignaturePolicy? Signatures { get; }

    /// <summary>The key of a build with these inputs under this client's target, CPU features and fingerprint [RMT-23].</summary>
    public RemoteModuleKey KeyOf(IEnumerable<ModuleInput> inputs) =>
        RemoteModuleKey.For(RemoteModuleKeyInputs.Current(Target.Architecture, Target.Abi, Target.Os, CpuFeatures, Fingerprint.Hash,
            RemoteModuleKey.HashInputs(inputs)));

    /// <summary>
    /// The module entry of <paramref name="file"/> under <paramref name="key"/> [RMT-25]: the file's bytes unchanged, then
    /// the seal. Deterministic with an HMAC key or none.
    /// </summary>
    /// <exception cref="ArgumentException">The file is too short to be an AotCache file.</exception>
    public byte[] Seal(ReadOnlySpan<byte> file, RemoteModuleKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (file.Length < FormatConstants.HeaderSize) throw new ArgumentException($"{file.Length} bytes are not an AotCache file", nameof(file));
        byte[] keyText = Encoding.ASCII.GetBytes(key.Text);
        var record = new byte[SealRecordFixedSize + keyText.Length];
        SealMagic.CopyTo(record);
        BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(8), (ulong)file.Length);
        SHA256.HashData(file, record.AsSpan(16, 32));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(48), (uint)keyText.Length);
        keyText.CopyTo(record, SealRecordFixedSize);

        var builder = new CacheBuilder(Target)
        {
            Producer = SealProducer,
            ModuleName = "",
            Prelink = false,
            SigningKey = SigningKey,
        };
        builder.AddPrivateSection(SealSectionKind, record);
        byte[] seal = builder.ToArray();
        var entry = new byte[file.Length + seal.Length];
        file.CopyTo(entry);
        seal.CopyTo(entry, file.Length);
        return entry;
    }

    /// <summary>
    /// Reads a fetched module entry for <paramref name="key"/>: refuses it (false, with the reason) unless it is a file
    /// followed by a seal, the seal is valid under the signature policy and seals this key and this file, the file is valid,
    /// unsigned, for the key's target, fingerprint and CPU features [RMT-26], and the front end's <paramref name="fits"/>
    /// (null: none) accepts it [RMT-27]. On success <paramref name="file"/> is the file's bytes, a slice of
    /// <paramref name="entry"/>: what the client writes as its local cache. Never throws on bad bytes.
    /// </summary>
    public bool TryRead(ReadOnlyMemory<byte> entry, RemoteModuleKey key, Func<CacheImage, EntryRefusal?>? fits,
        out ReadOnlyMemory<byte> file, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out EntryRefusal? refusal)
    {
        ArgumentNullException.ThrowIfNull(key);
        file = default;
        ReadOnlySpan<byte> bytes = entry.Span;
        if (bytes.Length < FormatConstants.FileChecksumOffset)
        {
            refusal = new EntryRefusal(EntryProblem.Malformed, $"the entry's {bytes.Length} bytes are too short to hold a file and its seal");
            return false;
        }
        ulong fileSize = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        if (fileSize < FormatConstants.HeaderSize || fileSize > (ulong)(bytes.Length - FormatConstants.HeaderSize))
        {
            refusal = new EntryRefusal(EntryProblem.Malformed,
                $"the file's header says {fileSize} bytes, which leaves no room for a seal in the entry's {bytes.Length} bytes (truncated?)");
            return false;
        }
        int length = (int)fileSize;
        refusal = CheckSeal(entry[length..], key, bytes[..length]);
        if (refusal is not null) return false;

        if (!CacheImage.TryRead(entry[..length], out CacheImage? image, out AotCacheException? error, _fileOptions))
        {
            refusal = new EntryRefusal(EntryProblem.Malformed, $"the file: {error!.Code}: {error.Message}");
            return false;
        }
        using (image)
        {
            refusal = CheckFile(image!, key.Inputs) ?? fits?.Invoke(image!);
            if (refusal is not null) return false;
        }
        file = entry[..length];
        return true;
    }

    /// <summary>The seal: a valid file under the policy, of the key's target, holding only the seal record, which names
    /// this key and this file.</summary>
    private EntryRefusal? CheckSeal(ReadOnlyMemory<byte> sealBytes, RemoteModuleKey key, ReadOnlySpan<byte> file)
    {
        if (!CacheImage.TryRead(sealBytes, out CacheImage? seal, out AotCacheException? error, _sealOptions))
            return new EntryRefusal(error!.Code switch
            {
                ErrorCode.SignatureMissing => EntryProblem.Unsigned,
                ErrorCode.SignatureInvalid => EntryProblem.BadSignature,
                _ => EntryProblem.Malformed,
            }, $"the seal: {error.Code}: {error.Message}");
        using (seal)
        {
            if (seal!.Header.MajorVersion != key.Inputs.FormatMajor || seal.Architecture != key.Inputs.Architecture || seal.Abi != key.Inputs.Abi
                || seal.Os != key.Inputs.Os)
                return new EntryRefusal(EntryProblem.ForeignTarget,
                    $"the seal is a format {seal.Header.MajorVersion} file for {seal.Architecture}/{seal.Abi}/{seal.Os}, the key's is " +
                    $"format {key.Inputs.FormatMajor} for {key.Inputs.Architecture}/{key.Inputs.Abi}/{key.Inputs.Os}");
            foreach (SectionEntry section in seal.Directory)
                if (section.Kind is not ((uint)SectionKind.Strings or SealSectionKind or (uint)SectionKind.Signature))
                    return new EntryRefusal(EntryProblem.Shape, $"the seal has a section of kind {CacheImage.KindName(section.Kind)}; a seal holds its record only");
            if (!seal.TryGetSection(SealSectionKind, out ReadOnlySpan<byte> record))
                return new EntryRefusal(EntryProblem.Shape, "the seal has no seal record");
            if (record.Length < SealRecordFixedSize || !record[..8].SequenceEqual(SealMagic) || BinaryPrimitives.ReadUInt32LittleEndian(record[52..]) != 0
                || BinaryPrimitives.ReadUInt32LittleEndian(record[48..]) != (uint)(record.Length - SealRecordFixedSize))
                return new EntryRefusal(EntryProblem.Shape, "the seal record is malformed (magic, key length or reserved bytes)");
            ReadOnlySpan<byte> sealedKey = record[SealRecordFixedSize..];
            if (!sealedKey.SequenceEqual(Encoding.ASCII.GetBytes(key.Text)))
                return new EntryRefusal(EntryProblem.OtherKey, $"the entry is sealed for the key '{Names.Quote(Encoding.ASCII.GetString(sealedKey))}', not {key.Text}");
            if (BinaryPrimitives.ReadUInt64LittleEndian(record[8..]) != (ulong)file.Length)
                return new EntryRefusal(EntryProblem.Malformed,
                    $"the seal is of a {BinaryPrimitives.ReadUInt64LittleEndian(record[8..])}-byte file; the entry's file has {file.Length} bytes");
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(file, digest);
            if (!digest.SequenceEqual(record.Slice(16, 32)))
                return new EntryRefusal(EntryProblem.Malformed, "the file is not the one sealed: its SHA-256 differs from the seal's (tampered)");
        }
        return null;
    }

    /// <summary>The file: unsigned (what an offline build writes), of the key's target, fingerprint and CPU features.</summary>
    private static EntryRefusal? CheckFile(CacheImage image, RemoteModuleKeyInputs key)
    {
        if (image.Header.MajorVersion != key.FormatMajor || image.Architecture != key.Architecture || image.Abi != key.Abi || image.Os != key.Os)
            return new EntryRefusal(EntryProblem.ForeignTarget,
                $"the file is a format {image.Header.MajorVersion} file for {image.Architecture}/{image.Abi}/{image.Os}, the key's is " +
                $"format {key.FormatMajor} for {key.Architecture}/{key.Abi}/{key.Os}");
        if (image.HasSection(SectionKind.Signature))
            return new EntryRefusal(EntryProblem.Shape, "the file has a Signature section: a module entry's file is the unsigned file a build writes");
        ulong fingerprint = RemoteFingerprint.HashOf(image);
        if (fingerprint != key.Fingerprint)
            return new EntryRefusal(EntryProblem.OtherCompiler,
                $"the file's canonical fingerprint is {fingerprint:x16}, the key's {key.Fingerprint:x16} (another compiler or configuration)");
        if ((image.RequiredCpuFeatures & ~key.CpuFeatures) != 0)
            return new EntryRefusal(EntryProblem.OtherKey, $"the file needs CPU features {image.RequiredCpuFeatures}, beyond the key's {key.CpuFeatures}");
        return null;
    }
}
