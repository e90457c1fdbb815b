using System.Security.Cryptography;
using AotCache.ConformanceTests.Malformed;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Security;

public class SignatureTests
{
    private static readonly byte[] Secret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static byte[] Module(SigningKey? key, bool prelink = true)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { SigningKey = key, ModuleName = "signed", Prelink = prelink };
        b.AddFunction("seven", new FunctionBody([0xB8, 7, 0, 0, 0, 0xC3], b.AddDeclaration(Signature.SysV([], [ScalarType.I64])).Signature));
        b.AddData("table", DataKind.ReadOnly, [1, 2, 3, 4, 5, 6, 7, 8]);
        return b.ToArray();
    }

    private static ReadOptions Require(params VerificationKey[] keys) => new() { Signatures = new SignaturePolicy { TrustedKeys = keys } };

    [Fact]
    public void AUTH_2_an_HMAC_signed_file_verifies_and_any_change_after_signing_is_refused()
    {
        byte[] file = Module(SigningKey.Hmac("ci-key", Secret));
        using (var image = CacheImage.Read(file, Require(VerificationKey.Hmac("ci-key", Secret))))
        {
            Assert.Equal(2, image.Header.MinorVersion); // prelinked (1.2) and signed (1.1): the highest feature decides
            Assert.True(image.HasSection(SectionKind.Signature));
        }
        // An attacker who changes the code and fixes every checksum is still caught.
        var vandal = new Vandal(file);
        byte[] tampered = vandal.U8(vandal.SectionOffset(SectionKind.Code) + 1, 42).Reseal();
        Assert.Equal(1, CacheImage.Read(tampered).Functions.Length); // structurally fine
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(tampered, Require(VerificationKey.Hmac("ci-key", Secret))));
        Assert.Equal(ErrorCode.SignatureInvalid, e.Code);
        Assert.Contains("modified after signing", e.Message);
    }

    [Fact]
    public void AUTH_2_an_ECDSA_P256_signed_file_verifies_with_the_public_key_only()
    {
        using ECDsa privateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using ECDsa publicKey = ECDsa.Create(privateKey.ExportParameters(includePrivateParameters: false));
        byte[] file = Module(SigningKey.Ecdsa(privateKey));
        using (CacheImage.Read(file, Require(VerificationKey.Ecdsa(publicKey)))) { }
        var vandal = new Vandal(file);
        byte[] tampered = vandal.U8(vandal.SectionOffset(SectionKind.Data), 99).Reseal();
        Assert.Equal(ErrorCode.SignatureInvalid, Assert.Throws<AotCacheException>(() => CacheImage.Read(tampered, Require(VerificationKey.Ecdsa(publicKey)))).Code);
    }

    [Fact]
    public void AUTH_3_requiring_a_signature_refuses_unsigned_files_and_untrusted_keys_before_anything_is_mapped()
    {
        var unsigned = Assert.Throws<AotCacheException>(() => CacheImage.Read(Module(null), Require(VerificationKey.Hmac("ci-key", Secret))));
        Assert.Equal(ErrorCode.SignatureMissing, unsigned.Code);
        Assert.Contains("not signed", unsigned.Message);

        byte[] other = Module(SigningKey.Hmac("someone-else", Secret));
        var untrusted = Assert.Throws<AotCacheException>(() => CacheImage.Read(other, Require(VerificationKey.Hmac("ci-key", Secret))));
        Assert.Equal(ErrorCode.SignatureInvalid, untrusted.Code);
        Assert.Contains("not trusted", untrusted.Message);

        // Same key name, different secret: the HMAC does not match.
        byte[] wrongSecret = Module(SigningKey.Hmac("ci-key", [.. Secret.Reverse()]));
        Assert.Equal(ErrorCode.SignatureInvalid, Assert.Throws<AotCacheException>(() => CacheImage.Read(wrongSecret, Require(VerificationKey.Hmac("ci-key", Secret)))).Code);

        // Through the loader: the policy applies before the file is mapped executable.
        string path = Path.Combine(Path.GetTempPath(), $"aotc-unsigned-{Guid.NewGuid():N}.aotc");
        File.WriteAllBytes(path, Module(null));
        try
        {
            var e = Assert.Throws<AotCacheException>(() => LoadedModule.LoadFile(path, new LoadOptions { Read = Require(VerificationKey.Hmac("ci-key", Secret)) }));
            Assert.Equal(ErrorCode.SignatureMissing, e.Code);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AUTH_1_the_signature_section_is_optional_last_and_well_formed()
    {
        byte[] file = Module(SigningKey.Hmac("ci-key", Secret));
        var vandal = new Vandal(file);
        int entry = vandal.DirectoryEntry(SectionKind.Signature);
        // Marked required: a 1.0 reader could not skip it.
        Assert.Equal(ErrorCode.SectionFlagMismatch, Assert.Throws<AotCacheException>(() => CacheImage.Read(new Vandal(file).U32(entry + 4, 1).Reseal())).Code);
        // Unknown algorithm.
        Assert.Equal(ErrorCode.BadSignatureSection, Assert.Throws<AotCacheException>(() => CacheImage.Read(new Vandal(file).U16(vandal.SectionOffset(SectionKind.Signature), 9).Reseal())).Code);
        // Wrong signature length for the algorithm.
        Assert.Equal(ErrorCode.BadSignatureSection, Assert.Throws<AotCacheException>(() => CacheImage.Read(new Vandal(file).U32(vandal.SectionOffset(SectionKind.Signature) + 4, 64).Reseal())).Code);
        // The lowest minor that describes the file [REC-10]: 1.1 signed, 1.0 unsigned, when not prelinked.
        Assert.Equal(1, CacheImage.Read(Module(SigningKey.Hmac("ci-key", Secret), prelink: false)).Header.MinorVersion);
        Assert.Equal(0, CacheImage.Read(Module(null, prelink: false)).Header.MinorVersion);
    }

    [Fact]
    public void HMAC_signing_is_deterministic_and_ECDSA_differs_only_in_the_signature_bytes()
    {
        Assert.Equal(Module(SigningKey.Hmac("k", Secret)), Module(SigningKey.Hmac("k", Secret)));
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] a = Module(SigningKey.Ecdsa(key)), b = Module(SigningKey.Ecdsa(key));
        Assert.NotEqual(a, b); // random nonces
        // Everything but the file checksum, the signature entry's checksum and the signature itself is identical.
        var vandal = new Vandal(a);
        int entryChecksum = vandal.DirectoryEntry(SectionKind.Signature) + 32, signature = vandal.SectionOffset(SectionKind.Signature);
        byte[] Mask(byte[] file)
        {
            byte[] m = (byte[])file.Clone();
            m.AsSpan(FormatConstants.FileChecksumOffset, 8).Clear();
            m.AsSpan(entryChecksum, 8).Clear();
            m.AsSpan(signature).Clear();
            return m;
        }
        Assert.Equal(Mask(a), Mask(b));
    }
}
