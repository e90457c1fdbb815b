using System.Security.Cryptography;
using AotCache.Format;

namespace AotCache.Writer;

/// <summary>
/// A key that signs cache files (FORMAT.md §13.3, spec/SECURITY.md). HMAC-SHA256 with a shared secret is
/// deterministic; ECDSA P-256 signatures use a random nonce, so two signings of the same content differ in
/// the 64 signature bytes only.
/// </summary>
public abstract class SigningKey
{
    private protected SigningKey() { }

    internal abstract SignatureAlgorithm Algorithm { get; }
    internal abstract byte[] KeyId { get; }
    internal abstract byte[] Sign(ReadOnlySpan<byte> file, int signatureOffset, int entryChecksumOffset);

    /// <summary>A shared secret (at least 32 bytes) known by its name; the name's SHA-256 is the key id.</summary>
    public static SigningKey Hmac(string name, byte[] secret) => new HmacKey(name, secret);

    /// <summary>An ECDSA P-256 private key; the SHA-256 of its public key is the key id.</summary>
    public static SigningKey Ecdsa(ECDsa privateKey) => new EcdsaKey(privateKey);

    private sealed class HmacKey : SigningKey
    {
        private readonly byte[] _secret;
        private readonly byte[] _id;

        public HmacKey(string name, byte[] secret)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentNullException.ThrowIfNull(secret);
            if (secret.Length < 32) throw new ArgumentException("an HMAC-SHA256 secret needs at least 32 bytes", nameof(secret));
            _secret = (byte[])secret.Clone();
            _id = SignedMessage.KeyIdOf(name);
        }

        internal override SignatureAlgorithm Algorithm => SignatureAlgorithm.HmacSha256;
        internal override byte[] KeyId => _id;

        internal override byte[] Sign(ReadOnlySpan<byte> file, int signatureOffset, int entryChecksumOffset)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret);
            SignedMessage.Append(hmac, file, signatureOffset, entryChecksumOffset);
            return hmac.GetHashAndReset();
        }
    }

    private sealed class EcdsaKey : SigningKey
    {
        private readonly ECDsa _key;
        private readonly byte[] _id;

        public EcdsaKey(ECDsa key)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (key.KeySize != 256) throw new ArgumentException($"ECDSA P-256 keys only, not {key.KeySize}-bit", nameof(key));
            _key = key;
            _id = SignedMessage.KeyIdOf(key);
        }

        internal override SignatureAlgorithm Algorithm => SignatureAlgorithm.EcdsaP256Sha256;
        internal override byte[] KeyId => _id;

        internal override byte[] Sign(ReadOnlySpan<byte> file, int signatureOffset, int entryChecksumOffset)
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            SignedMessage.Append(sha, file, signatureOffset, entryChecksumOffset);
            return _key.SignHash(sha.GetHashAndReset(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
    }
}
