using System.Runtime.InteropServices;
using AotCache.Format;
using S = AotCache.Format.SignatureRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 18: signature ---------------------------------------------------------------------

    /// <summary>Step 18 alone, over an image validated before: what <see cref="CacheImage.CheckSignature"/> runs.</summary>
    public readonly void CheckSignatureStep() => CheckSignature();

    private readonly void CheckSignature()
    {
        SectionSlot slot = Sections[(int)SectionKind.Signature];
        SignaturePolicy? policy = _options.Signatures;
        if (!slot.Present)
        {
            if (policy is { RequireSignature: true })
                throw Fail(ErrorCode.SignatureMissing, 0, "the file is not signed, and this reader requires a signature by a trusted key");
            return;
        }
        // Where and how long the section is comes first in this step (not with its directory entry in step 7), so that a
        // later entry's breach of step 7 is reported before the signature section's shape.
        int count = (int)MemoryMarshal.Read<FileHeader>(_file).SectionCount;
        int entry = FormatConstants.DirectoryOffset + (count - 1) * SectionEntry.RecordSize;
        if (MemoryMarshal.Read<SectionEntry>(_file[entry..]).Kind != (uint)SectionKind.Signature || slot.Length != SignatureRecord.RecordSize)
        {
            int at = FormatConstants.DirectoryOffset;
            while (MemoryMarshal.Read<SectionEntry>(_file[at..]).Kind != (uint)SectionKind.Signature) at += SectionEntry.RecordSize;
            throw Fail(ErrorCode.BadSignatureSection, at + SectionEntry.At.Kind, $"the signature section must be the last section and {SignatureRecord.RecordSize} bytes long");
        }
        SignatureRecord record = MemoryMarshal.Read<SignatureRecord>(_file.Slice(slot.Offset, SignatureRecord.RecordSize));
        int expectedLength = record.Algorithm switch
        {
            (ushort)SignatureAlgorithm.HmacSha256 => 32,
            (ushort)SignatureAlgorithm.EcdsaP256Sha256 => 64,
            _ => throw Fail(ErrorCode.BadSignatureSection, slot.Offset + S.Algorithm, $"unknown signature algorithm {record.Algorithm}"),
        };
        if (record.SignatureLength != expectedLength)
            throw Fail(ErrorCode.BadSignatureSection, slot.Offset + S.SignatureLength, $"a {(SignatureAlgorithm)record.Algorithm} signature is {expectedLength} bytes, not {record.SignatureLength}");
        ReadOnlySpan<byte> signatureBytes = record.Signature;
        if (record.Reserved0 != 0 || signatureBytes[expectedLength..].IndexOfAnyExcept((byte)0) >= 0 || ((ReadOnlySpan<byte>)record.Reserved1).IndexOfAnyExcept((byte)0) >= 0)
            throw Fail(ErrorCode.ReservedNotZero, slot.Offset, "reserved or padding bytes of the signature are not zero");
        if (policy is null) return;

        ReadOnlySpan<byte> keyId = record.KeyId;
        VerificationKey? key = null;
        foreach (VerificationKey k in policy.TrustedKeys)
            if (k.Algorithm == (SignatureAlgorithm)record.Algorithm && keyId.SequenceEqual(k.Id)) key = k;
        if (key is null)
            throw Fail(ErrorCode.SignatureInvalid, slot.Offset + S.KeyId, $"signed ({(SignatureAlgorithm)record.Algorithm}) by key {Convert.ToHexString(keyId)[..16]}…, which is not trusted");
        int entryChecksumOffset = entry + SectionEntry.At.Checksum;
        if (!key.Verifies(_file, slot.Offset, entryChecksumOffset, signatureBytes[..expectedLength]))
            throw Fail(ErrorCode.SignatureInvalid, slot.Offset + S.Signature, "the signature does not match the file: it was modified after signing");
    }
}
