using System.Security.Cryptography;
using AotCache.Format;

namespace AotCache.Reader;

/// <summary>A key trusted to have signed cache files.</summary>
public sealed class VerificationKey
{
    private VerificationKey(SignatureAlgorithm algorithm, byte[] id, byte[]? secret, ECDsa? publicKey)
    {
        Algorithm = algorithm;
        Id = id;
        Secret = secret;
        PublicKey = publicKey;
    }

    /// <summary>The signature algorithm the key verifies.</summary>
    public SignatureAlgorithm Algorithm { get; }
    internal byte[] Id { get; }
    internal byte[]? Secret { get; }
    internal ECDsa? PublicKey { get; }

    /// <summary>A shared HMAC-SHA256 secret, known by the name its signer used. The secret must have at least 32
    /// bytes, as the signer's does (spec/SECURITY.md, key handling): an empty or short secret is an
    /// <see cref="ArgumentException"/>, not a key that anyone could guess.</summary>
    public static VerificationKey Hmac(string name, byte[] secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < MinimumHmacSecretLength)
            throw new ArgumentException($"an HMAC-SHA256 secret needs at least {MinimumHmacSecretLength} bytes, not {secret.Length}", nameof(secret));
        return new(SignatureAlgorithm.HmacSha256, SignedMessage.KeyIdOf(name), (byte[])secret.Clone(), null);
    }

    /// <summary>The shortest HMAC secret a key may have, for signing and verifying alike.</summary>
    public const int MinimumHmacSecretLength = 32;

    /// <summary>The key id a file signed with this key records (FORMAT.md §13.3): SHA-256 of the HMAC key's name or of
    /// the ECDSA key's SubjectPublicKeyInfo.</summary>
    public ReadOnlySpan<byte> KeyId => Id;

    /// <summary>An ECDSA P-256 public key.</summary>
    public static VerificationKey Ecdsa(ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return new(SignatureAlgorithm.EcdsaP256Sha256, SignedMessage.KeyIdOf(publicKey), null, publicKey);
    }

    /// <summary>
    /// Whether <paramref name="signature"/> is this key's signature of <paramref name="file"/>'s signed message
    /// [AUTH-2]: every byte before the signature section at <paramref name="signatureSectionOffset"/>, with the file
    /// checksum and the signature section's directory checksum (at <paramref name="entryChecksumOffset"/>) taken as zero.
    /// HMAC results are compared in fixed time.
    /// </summary>
    internal bool Verifies(ReadOnlySpan<byte> file, int signatureSectionOffset, int entryChecksumOffset, ReadOnlySpan<byte> signature)
    {
        if (Secret is not null)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Secret);
            SignedMessage.Append(hmac, file, signatureSectionOffset, entryChecksumOffset);
            return CryptographicOperations.FixedTimeEquals(hmac.GetHashAndReset(), signature);
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        SignedMessage.Append(sha, file, signatureSectionOffset, entryChecksumOffset);
        return PublicKey!.VerifyHash(sha.GetHashAndReset(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}

/// <summary>
/// Which signatures a reader accepts (spec/SECURITY.md). Checked by <see cref="CacheImage.Read(ReadOnlyMemory{byte}, ReadOptions?)"/>,
/// so a refused file never reaches the loader and no byte of it is ever mapped executable.
/// </summary>
public sealed record SignaturePolicy
{
    /// <summary>Refuse files without a valid signature by a trusted key [AUTH-3].</summary>
    public bool RequireSignature { get; init; } = true;

    /// <summary>The keys whose signatures are accepted [AUTH-2].</summary>
    public IReadOnlyList<VerificationKey> TrustedKeys { get; init; } = [];
}
