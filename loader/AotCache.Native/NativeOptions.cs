using System.Security.Cryptography;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;

namespace AotCache.Native;

/// <summary>
/// An <c>aotcache_options</c>: what C sets piece by piece, turned into the managed <see cref="ReadOptions"/> and
/// <see cref="LoadOptions"/> at each open or load. Setters and readers take one lock, so a load on another thread
/// sees the options either before or after a change, never half of it.
/// </summary>
internal sealed class NativeOptions
{
    /// <summary>What NULL options mean: load-level validation, no signature policy, strict, direct, no imports.</summary>
    public static readonly NativeOptions Defaults = new();

    private readonly Lock _lock = new();
    private bool _fullValidation;
    private StalePolicy _stalePolicy = StalePolicy.Strict;
    private LinkMode _linkMode = LinkMode.Direct;
    private bool _requireSignature;
    private bool _signaturePolicy;
    private readonly List<VerificationKey> _keys = [];
    private readonly Dictionary<string, FingerprintValue> _fingerprint = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (nint Address, Signature? Signature)> _imports = new(StringComparer.Ordinal);

    public void SetValidation(int validation)
    {
        if (validation is not (0 or 1)) throw new ArgumentException($"validation {validation} is neither AOTCACHE_VALIDATE_LOAD (0) nor AOTCACHE_VALIDATE_FULL (1)");
        lock (_lock) _fullValidation = validation == 1;
    }

    public void SetStalePolicy(int policy)
    {
        if (policy is not (0 or 1)) throw new ArgumentException($"stale policy {policy} is neither AOTCACHE_STALE_STRICT (0) nor AOTCACHE_STALE_LENIENT (1)");
        lock (_lock) _stalePolicy = policy == 0 ? StalePolicy.Strict : StalePolicy.Lenient;
    }

    public void SetLinkMode(int mode)
    {
        if (mode is not (0 or 1)) throw new ArgumentException($"link mode {mode} is neither AOTCACHE_LINK_DIRECT (0) nor AOTCACHE_LINK_HOT_SWAPPABLE (1)");
        lock (_lock) _linkMode = mode == 0 ? LinkMode.Direct : LinkMode.HotSwappable;
    }

    public void RequireSignature(bool required)
    {
        lock (_lock)
        {
            _requireSignature = required;
            _signaturePolicy = true;
        }
    }

    public void TrustHmacKey(string name, byte[] secret)
    {
        if (name.Length == 0) throw new ArgumentException("an HMAC key needs the name its signer used");
        if (secret.Length == 0) throw new ArgumentException("an HMAC key needs a non-empty secret");
        Trust(VerificationKey.Hmac(name, secret));
    }

    public void TrustEcdsaKey(byte[] subjectPublicKeyInfo)
    {
        ECDsa key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out int read);
            if (read != subjectPublicKeyInfo.Length) throw new ArgumentException($"public_key_der has {subjectPublicKeyInfo.Length - read} bytes after the key");
            if (key.KeySize != 256) throw new ArgumentException($"the key is a {key.KeySize}-bit ECDSA key; cache files are signed with P-256");
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new ArgumentException($"public_key_der is not a DER SubjectPublicKeyInfo of an ECDSA key: {e.Message}");
        }
        catch
        {
            key.Dispose();
            throw;
        }
        Trust(VerificationKey.Ecdsa(key));
    }

    private void Trust(VerificationKey key)
    {
        lock (_lock)
        {
            _keys.Add(key);
            _signaturePolicy = true;
        }
    }

    public void SetFingerprint(string key, FingerprintValue value)
    {
        if (key.Length == 0) throw new ArgumentException("a fingerprint key is not empty [STR-3]");
        lock (_lock) _fingerprint[key] = value;
    }

    public void AddImport(string name, nint address, Signature? signature)
    {
        if (name.Length == 0) throw new ArgumentException("an import's name is not empty [STR-3]");
        if (address == 0) throw new ArgumentException($"import '{name}' needs a non-NULL address");
        lock (_lock) _imports[name] = (address, signature);
    }

    public ReadOptions ReadOptions()
    {
        lock (_lock) return CurrentReadOptions();
    }

    private ReadOptions CurrentReadOptions() => new()
    {
        VerifySectionChecksums = _fullValidation,
        Signatures = _signaturePolicy ? new SignaturePolicy { RequireSignature = _requireSignature, TrustedKeys = [.. _keys] } : null,
    };

    /// <summary>Options for one load, with a fresh import resolver that records signature mismatches.</summary>
    public LoadOptions LoadOptions(out CheckedImports imports)
    {
        lock (_lock)
        {
            imports = new CheckedImports(new Dictionary<string, (nint, Signature?)>(_imports, StringComparer.Ordinal));
            return new LoadOptions
            {
                Imports = imports,
                Host = HostEnvironment.Current with { Fingerprint = new Dictionary<string, FingerprintValue>(_fingerprint, StringComparer.Ordinal) },
                StalePolicy = _stalePolicy,
                LinkMode = _linkMode,
                Read = CurrentReadOptions(),
            };
        }
    }
}
