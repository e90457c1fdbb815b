using AotCache.Format;
using C = AotCache.Format.FingerprintComponent.At;
using H = AotCache.Format.FileHeader.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 11: fingerprint -------------------------------------------------------------------

    private readonly void CheckFingerprint(in FileHeader h)
    {
        ReadOnlySpan<FingerprintComponent> components = Table<FingerprintComponent>(SectionKind.Fingerprint);
        long baseAt = SectionStart(SectionKind.Fingerprint);
        ReadOnlySpan<byte> strings = Bytes(SectionKind.Strings);
        for (int i = 0; i < components.Length; i++)
        {
            ref readonly FingerprintComponent c = ref components[i];
            long at = baseAt + (long)i * FingerprintComponent.RecordSize;
            if (c.Reserved0 != 0 || c.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + C.Reserved0, $"fingerprint component {i}: reserved bytes are not zero");
            CheckStringRef(strings, c.Key, at + C.Key, "fingerprint component", i, "key", allowEmpty: false);
            if (!Enum.IsDefined(c.ValueKind)) throw Fail(ErrorCode.BadFingerprint, at + C.ValueKind, $"fingerprint component {i}: unknown value kind {(byte)c.ValueKind}");
            if (!Enum.IsDefined(c.Match)) throw Fail(ErrorCode.BadFingerprint, at + C.Match, $"fingerprint component {i}: unknown match rule {(byte)c.Match}");
            if (c.Match == MatchRule.Superset && c.ValueKind != FingerprintValueKind.FeatureSet)
                throw Fail(ErrorCode.BadFingerprint, at + C.Match, $"fingerprint component {i}: only feature sets compare as supersets");
            if (c.ValueKind == FingerprintValueKind.String)
                CheckStringRef(strings, new StringRef((uint)c.Value, (uint)(c.Value >> 32)), at + C.Value, "fingerprint component", i, "value", allowEmpty: true);
            if (i > 0 && Utf8Of(strings, components[i - 1].Key).SequenceCompareTo(Utf8Of(strings, c.Key)) >= 0)
                throw Fail(ErrorCode.BadFingerprint, at + C.Key, $"fingerprint component {i}: keys are not sorted strictly ascending (duplicate or out of order)");
        }
        ulong expected = Checksums.CodegenFingerprint(Bytes(SectionKind.Fingerprint));
        if (h.CodegenFingerprint != expected)
            throw Fail(ErrorCode.FingerprintHashMismatch, H.CodegenFingerprint, $"codegen fingerprint is 0x{h.CodegenFingerprint:x16}, the fingerprint section hashes to 0x{expected:x16}");
    }
}
