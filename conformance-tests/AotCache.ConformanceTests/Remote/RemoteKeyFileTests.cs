using System.Security.Cryptography;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>The key file of <c>--remote-key</c> (REMOTE.md §6.1): HMAC lines and ECDSA PEM blocks, which key signs,
/// which are trusted, and messages that say what is wrong without repeating a secret.</summary>
public sealed class RemoteKeyFileTests
{
    private static readonly string Secret = Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);
    private static readonly string OldSecret = Convert.ToBase64String([.. Enumerable.Range(101, 40).Select(i => (byte)i)]);

    /// <summary>Whether an entry signed with <paramref name="signer"/> passes the file's policy.</summary>
    private static bool Verifies(RemoteKeyFile keys, SigningKey signer)
    {
        var scope = new SymbolScope().Add("f", SymbolKind.Function, Signature.SysV([], []));
        var body = new FunctionBody([0xC3], Signature.SysV([], [])) { ContentHash = new ContentHash(1, 2) };
        var writer = new RemoteEntryFormat(TargetDescription.LinuxX64, RemoteFingerprint.Of([]), "", signer);
        var reader = new RemoteEntryFormat(TargetDescription.LinuxX64, RemoteFingerprint.Of([]), "", null, keys.Policy);
        return reader.TryRead(writer.Write("f", body, scope), reader.KeyOf(body), "f", scope, out _, out _);
    }

    [Fact]
    public void HMAC_lines_sign_with_one_secret_and_trust_every_secret_listed()
    {
        RemoteKeyFile keys = RemoteKeyFile.Parse($"# team keys\n\nhmac team-2027 {Secret}\n  hmac-trust team-2026\t{OldSecret}  \n");
        Assert.NotNull(keys.SigningKey);
        Assert.Equal(2, keys.Trusted.Count);
        Assert.Equal("hmac 'team-2027' (signs), hmac 'team-2026'", keys.Description);
        Assert.True(keys.Policy.RequireSignature);
        Assert.True(Verifies(keys, keys.SigningKey!));
        Assert.True(Verifies(keys, SigningKey.Hmac("team-2026", Convert.FromBase64String(OldSecret))));
        Assert.False(Verifies(keys, SigningKey.Hmac("team-2025", Convert.FromBase64String(OldSecret))));

        RemoteKeyFile trustOnly = RemoteKeyFile.Parse($"hmac-trust team {Secret}\n");
        Assert.Null(trustOnly.SigningKey);
        Assert.True(Verifies(trustOnly, SigningKey.Hmac("team", Convert.FromBase64String(Secret))));
    }

    [Fact]
    public void PEM_blocks_give_an_ECDSA_signing_key_and_trusted_public_keys()
    {
        using var ci = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        RemoteKeyFile signer = RemoteKeyFile.Parse($"# CI only\n{ci.ExportPkcs8PrivateKeyPem()}\n{other.ExportSubjectPublicKeyInfoPem()}\n");
        Assert.NotNull(signer.SigningKey);
        Assert.Equal("ecdsa (signs), ecdsa", signer.Description);
        Assert.True(Verifies(signer, SigningKey.Ecdsa(other)));

        // A developer's file holds CI's public key only: it verifies CI's entries and signs nothing.
        RemoteKeyFile developer = RemoteKeyFile.Parse(ci.ExportSubjectPublicKeyInfoPem());
        Assert.Null(developer.SigningKey);
        Assert.True(Verifies(developer, signer.SigningKey!));
        Assert.False(Verifies(developer, SigningKey.Ecdsa(other)));
        Assert.NotNull(RemoteKeyFile.Parse(ci.ExportECPrivateKeyPem()).SigningKey);
    }

    [Fact]
    public void What_is_wrong_is_said_with_its_line_and_a_secret_is_never_repeated()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        (string Text, string Says)[] cases =
        [
            ("", "no key"),
            ("# nothing\n", "no key"),
            ($"hmac team {Convert.ToBase64String(new byte[31])}\n", "line 1: the secret of 'team' has 31 bytes; HMAC-SHA256 needs at least 32"),
            ("\n\nhmac team not-base64!\n", "line 3: the secret of 'team' is not base64"),
            ($"hmac team {Secret} extra\n", "line 1 is not 'hmac NAME SECRET'"),
            ($"hmac-sha256 team {Secret}\n", "line 1 is not 'hmac NAME SECRET'"),
            ($"hmac a {Secret}\nhmac b {Secret}\n", "hmac 'b' at line 2 would be a second signing key (the first is hmac 'a' at line 1)"),
            ($"hmac a {Secret}\n{p256.ExportPkcs8PrivateKeyPem()}", "would be a second signing key"),
            ($"# comment\n{p384.ExportPkcs8PrivateKeyPem()}", "line 2: the PRIVATE KEY block is not a P-256 key"),
            (rsa.ExportSubjectPublicKeyInfoPem(), "line 1: the PUBLIC KEY block is not an ECDSA key"),
            ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "a PEM block labelled 'CERTIFICATE'"),
        ];
        foreach (var (text, says) in cases)
        {
            var e = Assert.Throws<FormatException>(() => RemoteKeyFile.Parse(text));
            Assert.True(e.Message.Contains(says, StringComparison.Ordinal), $"{says}: {e.Message}");
            Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
        }
        var usage = Assert.Throws<AotCache.Demo.UsageException>(() => RemoteKeyFile.Load("/nonexistent/team.key"));
        Assert.StartsWith("--remote-key: cannot read /nonexistent/team.key", usage.Message, StringComparison.Ordinal);
    }
}
