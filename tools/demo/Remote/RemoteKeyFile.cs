using System.Security.Cryptography;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.Demo.Remote;

/// <summary>
/// The keys of <c>--remote-key FILE</c> (REMOTE.md §6.1): a text file of lines and PEM blocks.
/// <list type="bullet">
/// <item><c>hmac NAME SECRET</c>: an HMAC-SHA256 team secret (base64, at least 32 bytes) that signs uploads and is trusted.</item>
/// <item><c>hmac-trust NAME SECRET</c>: a secret that is trusted only (an older one, while a team rotates).</item>
/// <item>A <c>PRIVATE KEY</c> or <c>EC PRIVATE KEY</c> PEM block: an ECDSA P-256 key that signs uploads; its public key is trusted.</item>
/// <item>A <c>PUBLIC KEY</c> PEM block: a trusted ECDSA P-256 public key.</item>
/// </list>
/// Blank lines and lines starting with <c>#</c> are ignored. At most one key signs; at least one is trusted. A client
/// with a key file requires every fetched entry to be signed by a trusted key; without a signing key it uploads nothing.
/// </summary>
public sealed class RemoteKeyFile
{
    private RemoteKeyFile(SigningKey? signingKey, IReadOnlyList<VerificationKey> trusted, string description)
    {
        SigningKey = signingKey;
        Trusted = trusted;
        Description = description;
    }

    /// <summary>The key uploads are signed with; null: this client may only fetch.</summary>
    public SigningKey? SigningKey { get; }

    /// <summary>The keys a fetched entry may be signed with.</summary>
    public IReadOnlyList<VerificationKey> Trusted { get; }

    /// <summary>What the file holds, for the build summary: e.g. "hmac 'team' (signs), 1 trusted".</summary>
    public string Description { get; }

    /// <summary>The policy fetched entries are read with: a signature by a trusted key is required [RMT-20].</summary>
    public SignaturePolicy Policy => new() { RequireSignature = true, TrustedKeys = Trusted };

    /// <summary>Reads a key file.</summary>
    /// <exception cref="UsageException">The file cannot be read or says something this format does not; the message says what and where.</exception>
    public static RemoteKeyFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--remote-key: cannot read {path}: {e.Message}");
        }
        try
        {
            return Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--remote-key {path}: {e.Message}");
        }
    }

    /// <summary>Parses a key file's text.</summary>
    /// <exception cref="FormatException">What is wrong, with the line number.</exception>
    public static RemoteKeyFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        SigningKey? signing = null;
        string? signer = null;
        var trusted = new List<VerificationKey>();
        var names = new List<string>();

        void Sign(SigningKey key, string what)
        {
            if (signer is not null) throw new FormatException($"{what} would be a second signing key (the first is {signer}); keep one, or trust the other with hmac-trust or a PUBLIC KEY block");
            signing = key;
            signer = what;
        }

        // PEM blocks first; what is left must be key lines, comments or blank.
        ReadOnlySpan<char> rest = text;
        var outside = new System.Text.StringBuilder();
        while (PemEncoding.TryFind(rest, out PemFields pem))
        {
            outside.Append(rest[..pem.Location.Start]).Append('\n', CountLines(rest[pem.Location])); // keep line numbers
            string label = rest[pem.Label].ToString();
            string block = rest[pem.Location].ToString();
            int line = CountLines(text.AsSpan(0, text.Length - rest.Length + pem.Location.Start.Value)) + 1;
            switch (label)
            {
                case "PRIVATE KEY" or "EC PRIVATE KEY":
                {
                    ECDsa key = ImportEcdsa(block, line, label);
                    Sign(SigningKey.Ecdsa(key), $"the ECDSA key at line {line}");
                    trusted.Add(VerificationKey.Ecdsa(key));
                    names.Add("ecdsa (signs)");
                    break;
                }
                case "PUBLIC KEY":
                    trusted.Add(VerificationKey.Ecdsa(ImportEcdsa(block, line, label)));
                    names.Add("ecdsa");
                    break;
                default:
                    throw new FormatException($"line {line}: a PEM block labelled '{label}'; expected PRIVATE KEY, EC PRIVATE KEY or PUBLIC KEY (ECDSA P-256)");
            }
            rest = rest[pem.Location.End..];
        }
        outside.Append(rest);

        string[] lines = outside.ToString().Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string[] words = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words is not [("hmac" or "hmac-trust") and var kind, var name, var secretText])
                // The line is not echoed: it may hold a secret.
                throw new FormatException($"line {i + 1} is not 'hmac NAME SECRET', 'hmac-trust NAME SECRET' or part of a PEM block");
            byte[] secret;
            try
            {
                secret = Convert.FromBase64String(secretText);
            }
            catch (FormatException)
            {
                throw new FormatException($"line {i + 1}: the secret of '{name}' is not base64");
            }
            if (secret.Length < 32) throw new FormatException($"line {i + 1}: the secret of '{name}' has {secret.Length} bytes; HMAC-SHA256 needs at least 32");
            if (kind == "hmac") Sign(SigningKey.Hmac(name, secret), $"hmac '{name}' at line {i + 1}");
            trusted.Add(VerificationKey.Hmac(name, secret));
            names.Add(kind == "hmac" ? $"hmac '{name}' (signs)" : $"hmac '{name}'");
        }
        if (trusted.Count == 0) throw new FormatException("no key: expected 'hmac NAME SECRET' lines or PEM blocks of ECDSA P-256 keys");
        return new RemoteKeyFile(signing, trusted, string.Join(", ", names));
    }

    private static ECDsa ImportEcdsa(string pem, int line, string label)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new FormatException($"line {line}: the {label} block is not an ECDSA key ({e.Message})");
        }
        if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            throw new FormatException($"line {line}: the {label} block is not a P-256 key (signatures are ECDSA P-256, FORMAT.md §13.3)");
        }
        return key;
    }

    private static int CountLines(ReadOnlySpan<char> text) => text.Count('\n');
}
