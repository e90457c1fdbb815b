using System.Security.Cryptography;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Reader.Memory;
using Microsoft.Win32.SafeHandles;

namespace AotCache.Tools.CacheDump;

/// <summary>A key given with <c>--trust</c>, with the words the verdict names it by.</summary>
internal sealed record TrustedKey(VerificationKey Key, string Label);

/// <summary>
/// Parses <c>--trust KEY</c>: <c>hmac:NAME:SECRET_FILE</c> (an HMAC-SHA256 key known by NAME, whose secret is the raw
/// bytes of SECRET_FILE) or <c>ecdsa:PUBLIC_KEY_FILE</c> (an ECDSA P-256 public key in PEM). NAME holds no colon; a
/// file name may.
/// </summary>
internal static class TrustedKeys
{
    /// <summary>The largest key file read: keys are tens or hundreds of bytes.</summary>
    private const int MaxKeyFileLength = 1 << 16;

    /// <summary>Parses every <c>--trust</c> value, or throws <see cref="UsageException"/> naming the one that is wrong.</summary>
    public static List<TrustedKey> Parse(IEnumerable<string> values)
    {
        var keys = new List<TrustedKey>();
        foreach (string value in values) keys.Add(ParseOne(value));
        return keys;
    }

    private static TrustedKey ParseOne(string value)
    {
        string shown = Names.Quote(value);
        if (value.StartsWith("hmac:", StringComparison.Ordinal))
        {
            int colon = value.IndexOf(':', 5);
            if (colon <= 5 || colon == value.Length - 1)
                throw new UsageException($"--trust {shown}: an HMAC key is hmac:NAME:SECRET_FILE");
            string name = value[5..colon], secretFile = value[(colon + 1)..];
            byte[] secret = ReadKeyFile(secretFile, shown);
            try
            {
                return new TrustedKey(VerificationKey.Hmac(name, secret), $"hmac {Names.Quote(name)}");
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--trust {shown}: {e.Message}");
            }
        }
        if (value.StartsWith("ecdsa:", StringComparison.Ordinal) && value.Length > 6)
        {
            string file = value[6..];
            string pem = System.Text.Encoding.UTF8.GetString(ReadKeyFile(file, shown));
            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(pem);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new UsageException($"--trust {shown}: {Names.Quote(file)} holds no ECDSA public key in PEM: {Names.Escape(e.Message)}");
            }
            if (key.KeySize != 256)
            {
                key.Dispose();
                throw new UsageException($"--trust {shown}: an ECDSA P-256 key is needed, not a {key.KeySize}-bit one");
            }
            var verification = VerificationKey.Ecdsa(key);
            return new TrustedKey(verification, $"ecdsa {Names.Quote(file)} (key id {Convert.ToHexStringLower(verification.KeyId)[..16]}…)");
        }
        throw new UsageException($"--trust {shown}: a key is hmac:NAME:SECRET_FILE or ecdsa:PUBLIC_KEY_FILE");
    }

    private static byte[] ReadKeyFile(string path, string shown)
    {
        try
        {
            using SafeFileHandle handle = RegularFile.OpenRead(path); // a FIFO or device is refused, never read
            long length = RandomAccess.GetLength(handle);
            if (length > MaxKeyFileLength)
                throw new UsageException($"--trust {shown}: {Names.Quote(path)} is {length} bytes, not a key file (at most {MaxKeyFileLength})");
            byte[] bytes = new byte[length];
            int read = 0;
            while (read < bytes.Length && RandomAccess.Read(handle, bytes.AsSpan(read), read) is var n and > 0) read += n;
            return bytes[..read];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--trust {shown}: cannot read {Names.Quote(path)}: {Names.Escape(e.Message)}");
        }
    }
}

/// <summary>A command line that cannot be carried out as written: exit 2, one error line.</summary>
internal sealed class UsageException(string message) : Exception(message);
