using System.Runtime.InteropServices;
using AotCache.Format;
using Architecture = AotCache.Format.Architecture;
using H = AotCache.Format.FileHeader.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 steps 1-4: the fixed part of the header --------------------------------------------

    private readonly void CheckFixedHeader()
    {
        ReadOnlySpan<byte> magic = FormatConstants.Magic;
        int prefix = Math.Min(_file.Length, magic.Length);
        for (int i = 0; i < prefix; i++)
            if (_file[i] != magic[i])
                throw Fail(ErrorCode.BadMagic, i, $"byte {i} of the magic is 0x{_file[i]:X2}, expected 0x{magic[i]:X2}{MagicHint(i)}");
        if (_file.Length < FormatConstants.HeaderSize)
            throw Fail(ErrorCode.Truncated, _file.Length, $"the file is {_file.Length} bytes, shorter than the {FormatConstants.HeaderSize}-byte header");
        ushort major = Read16(H.MajorVersion);
        if (major != FormatConstants.MajorVersion)
            throw Fail(ErrorCode.UnsupportedMajorVersion, H.MajorVersion,
                $"format version {major}.{Read16(H.MinorVersion)}; this reader reads version {FormatConstants.MajorVersion}.x only");
        uint headerSize = Read32(H.HeaderSize);
        if (headerSize != FormatConstants.HeaderSize)
            throw Fail(ErrorCode.BadHeaderSize, H.HeaderSize, $"header size is {headerSize}, must be {FormatConstants.HeaderSize}");
        ulong fileSize = Read64(H.FileSize);
        if (fileSize > FormatConstants.MaxFileSize)
            throw Fail(ErrorCode.FileTooLarge, H.FileSize, $"file size field is {fileSize}, more than the {FormatConstants.MaxFileSize} a file may hold");
        if (fileSize != (ulong)_file.Length)
            throw Fail(fileSize > (ulong)_file.Length ? ErrorCode.Truncated : ErrorCode.FileSizeMismatch, H.FileSize,
                $"the header says the file is {fileSize} bytes, but it is {_file.Length}" +
                (fileSize > (ulong)_file.Length ? " (truncated)" : " (bytes appended)"));
    }

    private readonly string MagicHint(int i)
    {
        // Name the classic transport damage, as PNG's magic was designed to reveal it.
        if (i == 0 && _file[0] == 0x09) return " (the high bit was stripped: 7-bit transfer)";
        if (i == 4 && _file[4] == 0x0A) return " (CR LF became LF: text-mode transfer)";
        if (i == 5 && _file[5] == 0x0D) return " (LF became CR LF: text-mode transfer)";
        if (i == 6 && _file[4] == 0x0D && _file[5] == 0x0D) return " (LF became CR LF: text-mode transfer)";
        return "";
    }

    // ---- step 5: the file checksum ------------------------------------------------------------------

    private readonly void CheckFileChecksum()
    {
        ulong stored = Read64(FormatConstants.FileChecksumOffset);
        ulong actual = Checksums.FileChecksum(_file);
        if (stored == actual) return;
        // Find the damage for the message: the first section whose own checksum fails, if the
        // directory is still readable. Every read here is bounds-checked; garbage just yields no hint.
        uint count = Read32(H.SectionCount);
        if (count <= FormatConstants.MaxSectionCount &&
            (ulong)FormatConstants.DirectoryOffset + count * (ulong)SectionEntry.RecordSize <= (ulong)_file.Length)
        {
            ReadOnlySpan<SectionEntry> dir = MemoryMarshal.Cast<byte, SectionEntry>(
                _file.Slice(FormatConstants.DirectoryOffset, (int)count * SectionEntry.RecordSize));
            foreach (SectionEntry e in dir)
            {
                if (e.Offset > (ulong)_file.Length || e.Size > (ulong)_file.Length - e.Offset) continue;
                ReadOnlySpan<byte> bytes = _file.Slice((int)e.Offset, (int)e.Size);
                if (Checksums.SectionChecksum(bytes) != e.Checksum)
                    throw Fail(ErrorCode.FileChecksumMismatch, (long)e.Offset,
                        $"file checksum is 0x{stored:x16}, computed 0x{actual:x16}; the damage is in section {KindName(e.Kind)} " +
                        $"(bytes 0x{e.Offset:x}..0x{e.Offset + e.Size:x}), whose own checksum fails too");
            }
        }
        throw Fail(ErrorCode.FileChecksumMismatch, FormatConstants.FileChecksumOffset,
            $"file checksum is 0x{stored:x16}, computed 0x{actual:x16}; no section checksum fails, so the header, directory, padding or the checksum itself is damaged");
    }

    // ---- step 6: the rest of the header -------------------------------------------------------------

    private readonly void CheckHeader(in FileHeader h)
    {
        if (h.Reserved0 != 0) throw Fail(ErrorCode.ReservedNotZero, H.Reserved0, $"reserved header field at {H.Reserved0} is not zero");
        for (int at = H.Reserved1; at < FormatConstants.HeaderSize; at += 8)
            if (Read64(at) != 0) throw Fail(ErrorCode.ReservedNotZero, at, $"reserved header bytes at {at}..{at + 7} are not zero");
        if (h.RequiredFlags != 0)
            throw Fail(ErrorCode.UnknownRequiredFlag, H.RequiredFlags, $"required flags 0x{h.RequiredFlags:x8} include bits this reader does not know");
        if (!Enum.IsDefined((Architecture)h.Architecture))
            throw Fail(ErrorCode.UnknownTarget, H.Architecture, $"unknown architecture {h.Architecture}");
        if (!Enum.IsDefined((Abi)h.Abi))
            throw Fail(ErrorCode.UnknownTarget, H.Abi, $"unknown ABI {h.Abi}");
        if (!Enum.IsDefined((TargetOs)h.Os))
            throw Fail(ErrorCode.UnknownTarget, H.Os, $"unknown operating system {h.Os}");
        if ((h.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown) != 0)
            throw Fail(ErrorCode.UnknownCpuFeature, H.RequiredCpuFeatures, $"required CPU features 0x{h.RequiredCpuFeatures:x} include unknown bits 0x{h.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown:x}");
        if (h.DirectoryOffset != FormatConstants.DirectoryOffset)
            throw Fail(ErrorCode.BadDirectoryOffset, H.DirectoryOffset, $"directory offset is {h.DirectoryOffset}, must be {FormatConstants.DirectoryOffset}");
        if (h.SectionCount > FormatConstants.MaxSectionCount)
            throw Fail(ErrorCode.TooManySections, H.SectionCount, $"{h.SectionCount} sections, at most {FormatConstants.MaxSectionCount} allowed");
        if ((ulong)FormatConstants.DirectoryOffset + h.SectionCount * (ulong)SectionEntry.RecordSize > (ulong)_file.Length)
            throw Fail(ErrorCode.SectionOutOfBounds, H.SectionCount, $"a directory of {h.SectionCount} entries does not fit in {_file.Length} bytes");
    }
}
