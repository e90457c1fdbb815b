using System.Security.Cryptography;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Security;

/// <summary>
/// A signature policy binds every way of loading (<c>LoadedModule.Load(image, options)</c> too, not only
/// <c>LoadFile</c>), keys are checked like the signer's, and <c>cachedump --verify</c> says what it checked.
/// </summary>
public sealed class SignaturePolicyTests : IDisposable
{
    private static readonly byte[] Secret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("signature-policy-");

    public void Dispose() => _directory.Delete(recursive: true);

    private static byte[] Module(SigningKey? key)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { SigningKey = key, ModuleName = "signed" };
        b.AddFunction("seven", new FunctionBody([0xB8, 7, 0, 0, 0, 0xC3], b.AddDeclaration(Signature.SysV([], [ScalarType.I64])).Signature));
        return b.ToArray();
    }

    private static LoadOptions Requiring(params VerificationKey[] keys) =>
        new() { Read = new ReadOptions { Signatures = new SignaturePolicy { TrustedKeys = keys } } };

    [Fact]
    public void AUTH_3_Load_of_an_image_read_without_the_policy_refuses_an_unsigned_file()
    {
        using var image = CacheImage.Read(Module(null)); // read with the default options: no policy

        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, Requiring(VerificationKey.Hmac("ci-key", Secret))));

        Assert.Equal(ErrorCode.SignatureMissing, e.Code);
        Assert.False(LoadedModule.TryLoad(image, Requiring(VerificationKey.Hmac("ci-key", Secret)), out _, out AotCacheException? error));
        Assert.Equal(ErrorCode.SignatureMissing, error!.Code);
    }

    [Fact]
    public void AUTH_2_Load_of_an_image_read_without_the_policy_checks_the_key_and_the_signature()
    {
        using var signed = CacheImage.Read(Module(SigningKey.Hmac("ci-key", Secret)));

        using (LoadedModule module = LoadedModule.Load(signed, Requiring(VerificationKey.Hmac("ci-key", Secret))))
            Assert.Equal(7, module.Invoke("seven").AsI64);
        byte[] otherSecret = [.. Secret.Select(b => (byte)(b ^ 0x5A))];
        var untrusted = Assert.Throws<AotCacheException>(() => LoadedModule.Load(signed, Requiring(VerificationKey.Hmac("another-key", Secret))));
        var forged = Assert.Throws<AotCacheException>(() => LoadedModule.Load(signed, Requiring(VerificationKey.Hmac("ci-key", otherSecret))));
        Assert.Equal(ErrorCode.SignatureInvalid, untrusted.Code);
        Assert.Contains("not trusted", untrusted.Message);
        Assert.Equal(ErrorCode.SignatureInvalid, forged.Code);
        Assert.Contains("modified after signing", forged.Message);
    }

    [Fact]
    public void An_image_read_with_the_same_policy_loads_and_one_read_without_a_policy_loads_without_one()
    {
        var options = Requiring(VerificationKey.Hmac("ci-key", Secret));
        using var image = CacheImage.Read(Module(SigningKey.Hmac("ci-key", Secret)), options.Read);
        using (LoadedModule.Load(image, options)) { }
        using var unsigned = CacheImage.Read(Module(null));
        using (LoadedModule.Load(unsigned)) { } // no policy: nothing to check
        // The image's own check, as the loader calls it.
        Assert.Equal(ErrorCode.SignatureMissing,
            Assert.Throws<AotCacheException>(() => unsigned.CheckSignature(options.Read.Signatures!)).Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    public void An_HMAC_verification_key_needs_a_secret_of_32_bytes_like_the_signer(int length)
    {
        var e = Assert.Throws<ArgumentException>(() => VerificationKey.Hmac("ci-key", new byte[length]));
        Assert.Contains("32 bytes", e.Message);
        Assert.Throws<ArgumentException>(() => SigningKey.Hmac("ci-key", new byte[length]));
        Assert.Throws<ArgumentException>(() => VerificationKey.Hmac("", Secret));
        _ = VerificationKey.Hmac("ci-key", new byte[32]);
    }

    // ---- cachedump --verify --trust ----------------------------------------------------------------

    [Fact]
    public void Cachedump_verify_says_unsigned_or_not_checked_without_a_trusted_key()
    {
        string unsigned = Write("unsigned.aotc", Module(null));
        string signed = Write("signed.aotc", Module(SigningKey.Hmac("ci-key", Secret)));

        (int exit, string output, _) = Run(unsigned, "--verify");
        (int signedExit, string signedOutput, _) = Run(signed, "--verify");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.EndsWith("(1 functions, 0 relocations), unsigned\n", output);
        Assert.Equal(CacheDumpCommand.ExitOk, signedExit);
        Assert.EndsWith("(1 functions, 0 relocations), signature present, not checked (no --trust key given)\n", signedOutput);
    }

    [Fact]
    public void AUTH_2_cachedump_verify_trust_hmac_checks_the_signature_and_names_the_key()
    {
        string secretFile = Write("secret.bin", Secret);
        string signed = Write("signed.aotc", Module(SigningKey.Hmac("ci-key", Secret)));
        string unsigned = Write("unsigned.aotc", Module(null));
        string other = Write("other.aotc", Module(SigningKey.Hmac("other-key", Secret)));

        (int exit, string output, string errors) = Run(signed, "--verify", "--trust", $"hmac:ci-key:{secretFile}");
        (int unsignedExit, string unsignedOutput, _) = Run(unsigned, "--verify", "--trust", $"hmac:ci-key:{secretFile}");
        (int otherExit, _, string otherErrors) = Run(other, "--verify", "--trust", $"hmac:ci-key:{secretFile}");
        (int requiredExit, _, string requiredErrors) = Run(unsigned, "--verify", "--require-signature", "--trust", $"hmac:ci-key:{secretFile}");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Equal("", errors);
        Assert.EndsWith("(1 functions, 0 relocations), signed by trusted key hmac 'ci-key'\n", output);
        Assert.Equal(CacheDumpCommand.ExitOk, unsignedExit);
        Assert.EndsWith(", unsigned\n", unsignedOutput);
        Assert.Equal(CacheDumpCommand.ExitMalformed, otherExit);
        Assert.StartsWith("error: SignatureInvalid (122)", otherErrors);
        Assert.Equal(CacheDumpCommand.ExitMalformed, requiredExit);
        Assert.StartsWith("error: SignatureMissing (121)", requiredErrors);
    }

    [Fact]
    public void AUTH_2_cachedump_verify_trust_ecdsa_reads_a_PEM_public_key()
    {
        using ECDsa privateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string pem = Write("ci.pub.pem", System.Text.Encoding.ASCII.GetBytes(privateKey.ExportSubjectPublicKeyInfoPem()));
        using ECDsa otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string otherPem = Write("other.pub.pem", System.Text.Encoding.ASCII.GetBytes(otherKey.ExportSubjectPublicKeyInfoPem()));
        string signed = Write("signed.aotc", Module(SigningKey.Ecdsa(privateKey)));

        (int exit, string output, _) = Run(signed, "--verify", "--trust", $"ecdsa:{pem}");
        (int otherExit, _, string otherErrors) = Run(signed, "--verify", "--trust", $"ecdsa:{otherPem}");

        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        Assert.Contains($", signed by trusted key ecdsa '{pem}' (key id ", output);
        Assert.Equal(CacheDumpCommand.ExitMalformed, otherExit);
        Assert.Contains("not trusted", otherErrors);
    }

    [Fact]
    public void Cachedump_trust_errors_are_usage_errors()
    {
        string signed = Write("signed.aotc", Module(SigningKey.Hmac("ci-key", Secret)));
        string shortSecret = Write("short.bin", new byte[8]);
        string notPem = Write("not.pem", "hello"u8.ToArray());

        foreach (string[] args in new[]
        {
            new[] { signed, "--verify", "--trust", "rsa:key.pem" },
            new[] { signed, "--verify", "--trust", "hmac:ci-key" },
            new[] { signed, "--verify", "--trust", $"hmac:ci-key:{shortSecret}" },
            new[] { signed, "--verify", "--trust", $"hmac:ci-key:{Path.Combine(_directory.FullName, "missing")}" },
            new[] { signed, "--verify", "--trust", $"ecdsa:{notPem}" },
            new[] { signed, "--trust", $"ecdsa:{notPem}" }, // --trust without --verify
        })
        {
            (int exit, string output, string errors) = Run(args);
            Assert.Equal(CacheDumpCommand.ExitUnreadable, exit);
            Assert.Equal("", output);
            Assert.StartsWith("error: ", errors);
            Assert.DoesNotContain("   at ", errors);
        }
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var errors = new StringWriter { NewLine = "\n" };
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }
}
