using System.Runtime.CompilerServices;
using System.Text.Unicode;
using AotCache.Format;
using H = AotCache.Format.FileHeader.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 10: strings -----------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void CheckStrings(in FileHeader h)
    {
        ReadOnlySpan<byte> strings = Bytes(SectionKind.Strings);
        if (!Utf8.IsValid(strings))
        {
            int bad = FirstInvalidUtf8(strings);
            throw Fail(ErrorCode.BadUtf8, SectionStart(SectionKind.Strings) + bad, $"the string table is not valid UTF-8 at byte {bad}");
        }
        CheckStringRef(strings, h.Producer, H.Producer, "producer", -1, "", allowEmpty: true);
        CheckStringRef(strings, h.ModuleName, H.ModuleName, "module name", -1, "", allowEmpty: true);
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        // Only on the error path: decode until the first invalid sequence. The buffer is bounded by the file size.
        var chars = new char[bytes.Length];
        Utf8.ToUtf16(bytes, chars, out int bytesRead, out _, replaceInvalidSequences: false);
        return bytesRead;
    }

    /// <param name="strings">The string table.</param>
    /// <param name="owner">What holds the reference ("symbol", "fingerprint component", or a whole name when <paramref name="index"/> is −1).</param>
    /// <param name="fieldOffset">File offset of the <see cref="StringRef"/>: its offset half; the length half follows at +4.</param>
    private static void CheckStringRef(ReadOnlySpan<byte> strings, StringRef s, long fieldOffset, string owner, int index, string field, bool allowEmpty)
    {
        bool empty = s.Length == 0, inside = (ulong)s.Offset + s.Length <= (ulong)strings.Length;
        if (inside && !(empty && !allowEmpty) &&
            (s.Offset >= strings.Length || (strings[(int)s.Offset] & 0xC0) != 0x80) &&
            ((long)s.Offset + s.Length >= strings.Length || (strings[(int)(s.Offset + s.Length)] & 0xC0) != 0x80))
            return; // the common case: no message is built
        string what = index < 0 ? owner : $"{owner} {index} {field}";
        if (s.Length == 0 && !allowEmpty)
            throw Fail(ErrorCode.EmptyName, fieldOffset + 4, $"{what} is empty");
        if (s.Length == 0 && s.Offset == 0) return;
        if ((ulong)s.Offset + s.Length > (ulong)strings.Length)
            throw Fail(ErrorCode.BadStringRef, fieldOffset, $"{what}: bytes {s.Offset} + {s.Length} run past the {strings.Length}-byte string table");
        if (s.Offset < strings.Length && (strings[(int)s.Offset] & 0xC0) == 0x80)
            throw Fail(ErrorCode.BadStringRef, fieldOffset, $"{what}: offset {s.Offset} is inside a UTF-8 character");
        long endAt = (long)s.Offset + s.Length;
        if (endAt < strings.Length && (strings[(int)endAt] & 0xC0) == 0x80)
            throw Fail(ErrorCode.BadStringRef, fieldOffset + 4, $"{what}: ends inside a UTF-8 character");
    }

    private static ReadOnlySpan<byte> Utf8Of(ReadOnlySpan<byte> strings, StringRef s) => strings.Slice((int)s.Offset, (int)s.Length);

    /// <summary>A name for a message: decoded, escaped and quoted (<see cref="Names.Quote"/>).</summary>
    private static string Quoted(ReadOnlySpan<byte> strings, StringRef s) => Names.Quote(System.Text.Encoding.UTF8.GetString(Utf8Of(strings, s)));
}
