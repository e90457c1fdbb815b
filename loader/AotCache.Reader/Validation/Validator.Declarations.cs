using AotCache.Format;
using D = AotCache.Format.DeclarationRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 12: declarations ------------------------------------------------------------------

    private readonly void CheckDeclarations()
    {
        ReadOnlySpan<DeclarationRecord> decls = Table<DeclarationRecord>(SectionKind.Declarations);
        ReadOnlySpan<byte> sigs = Bytes(SectionKind.Signatures);
        long baseAt = SectionStart(SectionKind.Declarations);
        for (int i = 0; i < decls.Length; i++)
        {
            ref readonly DeclarationRecord d = ref decls[i];
            long at = baseAt + (long)i * DeclarationRecord.RecordSize;
            if ((ulong)d.SignatureOffset + d.SignatureLength > (ulong)sigs.Length)
                throw Fail(ErrorCode.BadSignatureRef, at + D.SignatureOffset, $"declaration {i}: signature bytes {d.SignatureOffset} + {d.SignatureLength} run past the {sigs.Length}-byte signatures section");
            ReadOnlySpan<byte> encoding = sigs.Slice((int)d.SignatureOffset, (int)d.SignatureLength);
            if (!Signature.IsWellFormed(encoding, out string? error, out int errorAt))
                throw Fail(ErrorCode.BadSignature, SectionStart(SectionKind.Signatures) + d.SignatureOffset + errorAt, $"declaration {i}: {error}");
            ulong hash = Signature.HashEncoding(encoding);
            if (hash != d.SignatureHash)
                throw Fail(ErrorCode.SignatureHashMismatch, at + D.SignatureHash, $"declaration {i}: signature hash 0x{d.SignatureHash:x16}, the encoding hashes to 0x{hash:x16}");
        }
    }
}
