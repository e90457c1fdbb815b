using System.Security.Cryptography;
using AotCache.Format;

namespace AotCache.Loader;

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

    public SignatureAlgorithm Algorithm { get; }
    internal byte[] Id { get; }
    internal byte[]? Secret { get; }
    internal ECDsa? PublicKey { get; }

    /// <summary>A shared HMAC-SHA256 secret, known by the name its signer used.</summary>
    public static VerificationKey Hmac(string name, byte[] secret) =>
        new(SignatureAlgorithm.HmacSha256, SignedMessage.KeyIdOf(name), (byte[])secret.Clone(), null);

    /// <summary>An ECDSA P-256 public key.</summary>
    public static VerificationKey Ecdsa(ECDsa publicKey) =>
        new(SignatureAlgorithm.EcdsaP256Sha256, SignedMessage.KeyIdOf(publicKey), null, publicKey);
}

/// <summary>
/// Which signatures a reader accepts (spec/SECURITY.md). Checked by <see cref="CacheImage.Read(ReadOnlyMemory{byte}, ReadOptions?)"/>,
/// so a refused file never reaches the loader and no byte of it is ever mapped executable.
/// </summary>
public sealed record SignaturePolicy
{
    /// <summary>Refuse files without a valid signature by a trusted key [AUTH-3].</summary>
    public bool RequireSignature { get; init; } = true;

    public IReadOnlyList<VerificationKey> TrustedKeys { get; init; } = [];
}
