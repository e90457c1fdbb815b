using System.Security.Cryptography;

namespace AotCache.Format;

/// <summary>What a signature signs [AUTH-2], in one definition for signer and verifier.</summary>
public static class SignedMessage
{
    /// <summary>
    /// Feeds the signed message into <paramref name="hash"/>: the bytes of <paramref name="file"/> before the
    /// signature section at <paramref name="signatureOffset"/>, with the file checksum field and the signature
    /// section's directory checksum field (at <paramref name="entryChecksumOffset"/>) taken as zero. Those two
    /// fields are computed after signing; every other byte before the section is fixed by then.
    /// </summary>
    public static void Append(IncrementalHash hash, ReadOnlySpan<byte> file, int signatureOffset, int entryChecksumOffset)
    {
        if (entryChecksumOffset < FormatConstants.FileChecksumOffset + 8 || entryChecksumOffset + 8 > signatureOffset || signatureOffset > file.Length)
            throw new ArgumentException("the signature section must follow the header and its directory entry");
        Span<byte> zeros = stackalloc byte[8];
        zeros.Clear();
        hash.AppendData(file[..FormatConstants.FileChecksumOffset]);
        hash.AppendData(zeros);
        hash.AppendData(file[(FormatConstants.FileChecksumOffset + 8)..entryChecksumOffset]);
        hash.AppendData(zeros);
        hash.AppendData(file[(entryChecksumOffset + 8)..signatureOffset]);
    }

    /// <summary>The key id of an ECDSA public key: SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static byte[] KeyIdOf(ECDsa key) => SHA256.HashData(key.ExportSubjectPublicKeyInfo());

    /// <summary>The key id of a shared HMAC key: SHA-256 of the key's name (never of the secret).</summary>
    public static byte[] KeyIdOf(string hmacKeyName) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(hmacKeyName));
}
