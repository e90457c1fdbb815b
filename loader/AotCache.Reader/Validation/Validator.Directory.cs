using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AotCache.Format;
using E = AotCache.Format.SectionEntry.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 steps 7-8: directory, then padding ------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckDirectory(in FileHeader h)
    {
        int count = (int)h.SectionCount;
        ReadOnlySpan<SectionEntry> dir = MemoryMarshal.Cast<byte, SectionEntry>(
            _file.Slice(FormatConstants.DirectoryOffset, count * SectionEntry.RecordSize));
        ulong directoryEnd = (ulong)FormatConstants.DirectoryOffset + (ulong)count * SectionEntry.RecordSize;
        ulong end = directoryEnd;
        uint seenKinds = 0;
        for (int i = 0; i < count; i++)
        {
            ref readonly SectionEntry e = ref dir[i];
            long at = FormatConstants.DirectoryOffset + (long)i * SectionEntry.RecordSize;
            string name = KindName(e.Kind);
            if (e.Reserved != 0) throw Fail(ErrorCode.ReservedNotZero, at + E.Reserved, $"section {i} ({name}): reserved field is not zero");
            if ((e.Flags & ~(uint)SectionFlags.Required) != 0)
                throw Fail(ErrorCode.ReservedNotZero, at + E.Flags, $"section {i} ({name}): unknown flag bits 0x{e.Flags & ~(uint)SectionFlags.Required:x}");
            if (e.Alignment < FormatConstants.MinSectionAlignment || e.Alignment > FormatConstants.MaxAlignment || (e.Alignment & (e.Alignment - 1)) != 0)
                throw Fail(ErrorCode.BadSectionAlignment, at + E.Alignment, $"section {i} ({name}): alignment {e.Alignment} is not a power of two from 8 to 4096");
            if (e.Offset % e.Alignment != 0)
                throw Fail(ErrorCode.BadSectionAlignment, at + E.Offset, $"section {i} ({name}): offset 0x{e.Offset:x} is not a multiple of its alignment {e.Alignment}");
            if (e.Offset > (ulong)_file.Length || e.Size > (ulong)_file.Length - e.Offset)
                throw Fail(ErrorCode.SectionOutOfBounds, at + E.Offset, $"section {i} ({name}): bytes 0x{e.Offset:x} + {e.Size} run past the end of the {_file.Length}-byte file");
            // Bounds before order (§14, step 7): a section inside the header or directory breaks SEC-2, whichever entry it is.
            if (e.Offset < directoryEnd)
                throw Fail(ErrorCode.SectionOutOfBounds, at + E.Offset, $"section {i} ({name}) at 0x{e.Offset:x} overlaps the header or directory, which end at 0x{directoryEnd:x}");
            if (e.Offset < end)
                throw Fail(ErrorCode.SectionOverlap, at + E.Offset, $"section {i} ({name}) at 0x{e.Offset:x} is not after the end of section {i - 1} at 0x{end:x} (unsorted or overlapping)");
            end = e.Offset + e.Size;
            if (SectionTable.IsKnown(e.Kind))
            {
                uint bit = 1u << (int)e.Kind;
                if ((seenKinds & bit) != 0) throw Fail(ErrorCode.DuplicateSection, at + E.Kind, $"section {i}: a second {name} section");
                seenKinds |= bit;
                // 1.0 kinds must be understood; the 1.1 signature and 1.3 unwind sections must be skippable by older readers.
                bool mustBeRequired = e.Kind is not ((uint)SectionKind.Signature or (uint)SectionKind.Unwind);
                if (((e.Flags & (uint)SectionFlags.Required) != 0) != mustBeRequired)
                    throw Fail(ErrorCode.SectionFlagMismatch, at + E.Flags, mustBeRequired
                        ? $"section {i} ({name}) must carry the Required flag"
                        : $"section {i} ({name}) must not carry the Required flag, so that older readers can skip it");
                int recordSize = RecordSize((SectionKind)e.Kind);
                if (recordSize > 0 && e.Size % (ulong)recordSize != 0)
                    throw Fail(ErrorCode.BadTableSize, at + E.Size, $"section {i} ({name}): size {e.Size} is not a multiple of its {recordSize}-byte records");
                Sections[(int)e.Kind] = new SectionSlot((int)e.Offset, (int)e.Size, true);
            }
            else
            {
                // Unknown and private kinds too appear at most once [SEC-4]: a later version that defines the kind
                // must not find two of it in a file that this version accepted. At most 64 × 63 / 2 comparisons.
                for (int j = 0; j < i; j++)
                    if (dir[j].Kind == e.Kind) throw Fail(ErrorCode.DuplicateSection, at + E.Kind, $"section {i}: a second section of {name} (section {j})");
                if ((e.Flags & (uint)SectionFlags.Required) != 0)
                    throw Fail(ErrorCode.UnknownRequiredSection, at + E.Kind,
                        $"section {i} has kind {e.Kind}, unknown to this {FormatConstants.MajorVersion}.{FormatConstants.MinorVersion} reader, and is marked required");
            }
        }
        CheckPadding(dir, directoryEnd);
    }

    /// <summary>Step 8, after every entry passed step 7: the bytes between the directory and the first section, between
    /// sections, and after the last are zero [SEC-8]. The entries are sorted and disjoint by now.</summary>
    private readonly void CheckPadding(ReadOnlySpan<SectionEntry> dir, ulong directoryEnd)
    {
        ulong end = directoryEnd;
        foreach (ref readonly SectionEntry e in dir)
        {
            CheckZero(end, e.Offset);
            end = e.Offset + e.Size;
        }
        CheckZero(end, (ulong)_file.Length);
    }

    private readonly void CheckZero(ulong from, ulong to)
    {
        ReadOnlySpan<byte> gap = _file[(int)from..(int)to];
        int bad = gap.IndexOfAnyExcept((byte)0);
        if (bad >= 0) throw Fail(ErrorCode.NonZeroPadding, (long)from + bad, $"padding byte at 0x{(long)from + bad:x} is 0x{gap[bad]:X2}, not zero");
    }

    /// <summary>Size of one record of a table section; 0 for byte sections.</summary>
    private static int RecordSize(SectionKind kind) => kind switch
    {
        SectionKind.Declarations => DeclarationRecord.RecordSize,
        SectionKind.Symbols => SymbolRecord.RecordSize,
        SectionKind.Functions => FunctionRecord.RecordSize,
        SectionKind.DataObjects => DataObjectRecord.RecordSize,
        SectionKind.Relocations => RelocationRecord.RecordSize,
        SectionKind.Fingerprint => FingerprintComponent.RecordSize,
        SectionKind.Dependencies => DependencyRecord.RecordSize,
        SectionKind.Signature => SignatureRecord.RecordSize,
        _ => 0,
    };

    // ---- step 9: section checksums (full validation) -------------------------------------------------

    private readonly void CheckSectionChecksums(in FileHeader h)
    {
        ReadOnlySpan<SectionEntry> dir = MemoryMarshal.Cast<byte, SectionEntry>(
            _file.Slice(FormatConstants.DirectoryOffset, (int)h.SectionCount * SectionEntry.RecordSize));
        for (int i = 0; i < dir.Length; i++)
        {
            ulong actual = Checksums.SectionChecksum(_file.Slice((int)dir[i].Offset, (int)dir[i].Size));
            if (actual != dir[i].Checksum)
                throw Fail(ErrorCode.SectionChecksumMismatch, FormatConstants.DirectoryOffset + (long)i * SectionEntry.RecordSize + E.Checksum,
                    $"section {i} ({KindName(dir[i].Kind)}): checksum 0x{dir[i].Checksum:x16}, computed 0x{actual:x16}");
        }
    }
}
