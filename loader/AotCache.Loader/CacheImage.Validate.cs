using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using AotCache.Format;
using Architecture = AotCache.Format.Architecture;

namespace AotCache.Loader;

public sealed partial class CacheImage
{
    /// <summary>
    /// Checks a file in the order of FORMAT.md §14 [HDR-5] and reports the first breach with its code,
    /// the file offset of the offending field and the requirement. Every comparison is written so that it
    /// cannot overflow (64-bit sums of 32-bit fields, or subtraction from a checked bound), and nothing
    /// is allocated: a forged count can only describe bytes that exist.
    /// </summary>
    private ref struct Validator(ReadOnlySpan<byte> file, ReadOptions options)
    {
        private readonly ReadOnlySpan<byte> _file = file;
        private readonly ReadOptions _options = options;
        public SectionTable Sections;
        public int ZeroFillSize;
        public int StaleSignatureReferences;

        // Each known section as a span and its file offset, set once after the directory is checked, so
        // that the per-record loops below touch no section table.
        private ReadOnlySpan<byte> _strings, _signatures, _declarations, _symbols, _functions, _dataObjects, _relocations, _fingerprint, _dependencies;
        private long _stringsAt, _signaturesAt, _declarationsAt, _symbolsAt, _functionsAt, _dataObjectsAt, _relocationsAt, _fingerprintAt, _dependenciesAt;
        private int _codeLength, _dataLength;

        private void CacheSections()
        {
            _strings = Slice(SectionKind.Strings, out _stringsAt);
            _signatures = Slice(SectionKind.Signatures, out _signaturesAt);
            _declarations = Slice(SectionKind.Declarations, out _declarationsAt);
            _symbols = Slice(SectionKind.Symbols, out _symbolsAt);
            _functions = Slice(SectionKind.Functions, out _functionsAt);
            _dataObjects = Slice(SectionKind.DataObjects, out _dataObjectsAt);
            _relocations = Slice(SectionKind.Relocations, out _relocationsAt);
            _fingerprint = Slice(SectionKind.Fingerprint, out _fingerprintAt);
            _dependencies = Slice(SectionKind.Dependencies, out _dependenciesAt);
            _codeLength = Sections[(int)SectionKind.Code].Length;
            _dataLength = Sections[(int)SectionKind.Data].Length;
        }

        private readonly ReadOnlySpan<byte> Slice(SectionKind kind, out long offset)
        {
            SectionSlot slot = Sections[(int)kind];
            offset = slot.Offset;
            return _file.Slice(slot.Offset, slot.Length);
        }

        private static AotCacheException Fail(ErrorCode code, long offset, string detail) => new(code, offset, detail);

        public void Run()
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("AotCache files are read in place and need a little-endian host");
            CheckFixedHeader();
            CheckFileChecksum();
            ref readonly FileHeader h = ref MemoryMarshal.AsRef<FileHeader>(_file[..FormatConstants.HeaderSize]);
            CheckHeader(in h);
            CheckDirectory(in h);
            CacheSections();
            if (_options.VerifySectionChecksums) CheckSectionChecksums(in h);
            CheckStrings(in h);
            CheckFingerprint(in h);
            CheckDeclarations();
            CheckSymbols();
            CheckFunctions();
            CheckDataObjects();
            CheckRelocations();
            CheckDependencies();
            CheckSignature();
        }

        // ---- 1-4: the fixed part of the header --------------------------------------------------

        private readonly void CheckFixedHeader()
        {
            ReadOnlySpan<byte> magic = FormatConstants.Magic;
            int prefix = Math.Min(_file.Length, magic.Length);
            for (int i = 0; i < prefix; i++)
                if (_file[i] != magic[i])
                    throw Fail(ErrorCode.BadMagic, i, $"byte {i} of the magic is 0x{_file[i]:X2}, expected 0x{magic[i]:X2}{MagicHint(i)}");
            if (_file.Length < FormatConstants.HeaderSize)
                throw Fail(ErrorCode.Truncated, _file.Length, $"the file is {_file.Length} bytes, shorter than the {FormatConstants.HeaderSize}-byte header");
            ushort major = Read16(8);
            if (major != FormatConstants.MajorVersion)
                throw Fail(ErrorCode.UnsupportedMajorVersion, 8,
                    $"format version {major}.{Read16(10)}; this reader reads version {FormatConstants.MajorVersion}.x only");
            uint headerSize = Read32(12);
            if (headerSize != FormatConstants.HeaderSize)
                throw Fail(ErrorCode.BadHeaderSize, 12, $"header size is {headerSize}, must be {FormatConstants.HeaderSize}");
            ulong fileSize = Read64(16);
            if (fileSize > FormatConstants.MaxFileSize)
                throw Fail(ErrorCode.FileTooLarge, 16, $"file size field is {fileSize}, more than the {FormatConstants.MaxFileSize} a file may hold");
            if (fileSize != (ulong)_file.Length)
                throw Fail(fileSize > (ulong)_file.Length ? ErrorCode.Truncated : ErrorCode.FileSizeMismatch, 16,
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

        // ---- 5: the file checksum ----------------------------------------------------------------

        private readonly void CheckFileChecksum()
        {
            ulong stored = Read64(FormatConstants.FileChecksumOffset);
            ulong actual = Checksums.FileChecksum(_file);
            if (stored == actual) return;
            // Find the damage for the message: the first section whose own checksum fails, if the
            // directory is still readable. Every read here is bounds-checked; garbage just yields no hint.
            uint count = Read32(80);
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

        // ---- 6: the rest of the header -----------------------------------------------------------

        private readonly void CheckHeader(in FileHeader h)
        {
            if (h.Reserved0 != 0) throw Fail(ErrorCode.ReservedNotZero, 38, "reserved header field at 38 is not zero");
            for (int at = 88; at < FormatConstants.HeaderSize; at += 8)
                if (Read64(at) != 0) throw Fail(ErrorCode.ReservedNotZero, at, $"reserved header bytes at {at}..{at + 7} are not zero");
            if (h.RequiredFlags != 0)
                throw Fail(ErrorCode.UnknownRequiredFlag, 40, $"required flags 0x{h.RequiredFlags:x8} include bits this reader does not know");
            if (!Enum.IsDefined((Architecture)h.Architecture))
                throw Fail(ErrorCode.UnknownTarget, 32, $"unknown architecture {h.Architecture}");
            if (!Enum.IsDefined((Abi)h.Abi))
                throw Fail(ErrorCode.UnknownTarget, 34, $"unknown ABI {h.Abi}");
            if (!Enum.IsDefined((TargetOs)h.Os))
                throw Fail(ErrorCode.UnknownTarget, 36, $"unknown operating system {h.Os}");
            if ((h.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown) != 0)
                throw Fail(ErrorCode.UnknownCpuFeature, 48, $"required CPU features 0x{h.RequiredCpuFeatures:x} include unknown bits 0x{h.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown:x}");
            if (h.DirectoryOffset != FormatConstants.DirectoryOffset)
                throw Fail(ErrorCode.BadDirectoryOffset, 84, $"directory offset is {h.DirectoryOffset}, must be {FormatConstants.DirectoryOffset}");
            if (h.SectionCount > FormatConstants.MaxSectionCount)
                throw Fail(ErrorCode.TooManySections, 80, $"{h.SectionCount} sections, at most {FormatConstants.MaxSectionCount} allowed");
            if ((ulong)FormatConstants.DirectoryOffset + h.SectionCount * (ulong)SectionEntry.RecordSize > (ulong)_file.Length)
                throw Fail(ErrorCode.SectionOutOfBounds, 80, $"a directory of {h.SectionCount} entries does not fit in {_file.Length} bytes");
        }

        // ---- 7-8: directory and padding ----------------------------------------------------------

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
                if (e.Reserved != 0) throw Fail(ErrorCode.ReservedNotZero, at + 28, $"section {i} ({name}): reserved field is not zero");
                if ((e.Flags & ~(uint)SectionFlags.Required) != 0)
                    throw Fail(ErrorCode.ReservedNotZero, at + 4, $"section {i} ({name}): unknown flag bits 0x{e.Flags & ~(uint)SectionFlags.Required:x}");
                if (e.Alignment < FormatConstants.MinSectionAlignment || e.Alignment > FormatConstants.MaxAlignment || (e.Alignment & (e.Alignment - 1)) != 0)
                    throw Fail(ErrorCode.BadSectionAlignment, at + 24, $"section {i} ({name}): alignment {e.Alignment} is not a power of two from 8 to 4096");
                if (e.Offset % e.Alignment != 0)
                    throw Fail(ErrorCode.BadSectionAlignment, at + 8, $"section {i} ({name}): offset 0x{e.Offset:x} is not a multiple of its alignment {e.Alignment}");
                if (e.Offset > (ulong)_file.Length || e.Size > (ulong)_file.Length - e.Offset)
                    throw Fail(ErrorCode.SectionOutOfBounds, at + 8, $"section {i} ({name}): bytes 0x{e.Offset:x} + {e.Size} run past the end of the {_file.Length}-byte file");
                // Bounds before order (§14, step 7): a section inside the header or directory breaks SEC-2, whichever entry it is.
                if (e.Offset < directoryEnd)
                    throw Fail(ErrorCode.SectionOutOfBounds, at + 8, $"section {i} ({name}) at 0x{e.Offset:x} overlaps the header or directory, which end at 0x{directoryEnd:x}");
                if (e.Offset < end)
                    throw Fail(ErrorCode.SectionOverlap, at + 8, $"section {i} ({name}) at 0x{e.Offset:x} is not after the end of section {i - 1} at 0x{end:x} (unsorted or overlapping)");
                CheckZero(end, e.Offset);
                end = e.Offset + e.Size;
                if (SectionTable.IsKnown(e.Kind))
                {
                    uint bit = 1u << (int)e.Kind;
                    if ((seenKinds & bit) != 0) throw Fail(ErrorCode.DuplicateSection, at, $"section {i}: a second {name} section");
                    seenKinds |= bit;
                    // 1.0 kinds must be understood; the 1.1 signature section must be skippable by 1.0 readers.
                    bool mustBeRequired = e.Kind != (uint)SectionKind.Signature;
                    if (((e.Flags & (uint)SectionFlags.Required) != 0) != mustBeRequired)
                        throw Fail(ErrorCode.SectionFlagMismatch, at + 4, mustBeRequired
                            ? $"section {i} ({name}) must carry the Required flag"
                            : $"section {i} ({name}) must not carry the Required flag, so that 1.0 readers can skip it");
                    if (e.Kind == (uint)SectionKind.Signature && (i != count - 1 || e.Size != SignatureRecord.RecordSize))
                        throw Fail(ErrorCode.BadSignatureSection, at, $"the signature section must be the last section and {SignatureRecord.RecordSize} bytes long");
                    int recordSize = RecordSize((SectionKind)e.Kind);
                    if (recordSize > 0 && e.Size % (ulong)recordSize != 0)
                        throw Fail(ErrorCode.BadTableSize, at + 16, $"section {i} ({name}): size {e.Size} is not a multiple of its {recordSize}-byte records");
                    Sections[(int)e.Kind] = new SectionSlot((int)e.Offset, (int)e.Size, true);
                }
                else if ((e.Flags & (uint)SectionFlags.Required) != 0)
                {
                    throw Fail(ErrorCode.UnknownRequiredSection, at,
                        $"section {i} has kind {e.Kind}, unknown to this {FormatConstants.MajorVersion}.{FormatConstants.MinorVersion} reader, and is marked required");
                }
            }
            CheckZero(end, (ulong)_file.Length);
        }

        private readonly void CheckZero(ulong from, ulong to)
        {
            ReadOnlySpan<byte> gap = _file[(int)from..(int)to];
            int bad = gap.IndexOfAnyExcept((byte)0);
            if (bad >= 0) throw Fail(ErrorCode.NonZeroPadding, (long)from + bad, $"padding byte at 0x{(long)from + bad:x} is 0x{gap[bad]:X2}, not zero");
        }

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

        // ---- 9: section checksums (full validation) ----------------------------------------------

        private readonly void CheckSectionChecksums(in FileHeader h)
        {
            ReadOnlySpan<SectionEntry> dir = MemoryMarshal.Cast<byte, SectionEntry>(
                _file.Slice(FormatConstants.DirectoryOffset, (int)h.SectionCount * SectionEntry.RecordSize));
            for (int i = 0; i < dir.Length; i++)
            {
                ulong actual = Checksums.SectionChecksum(_file.Slice((int)dir[i].Offset, (int)dir[i].Size));
                if (actual != dir[i].Checksum)
                    throw Fail(ErrorCode.SectionChecksumMismatch, FormatConstants.DirectoryOffset + (long)i * SectionEntry.RecordSize + 32,
                        $"section {i} ({KindName(dir[i].Kind)}): checksum 0x{dir[i].Checksum:x16}, computed 0x{actual:x16}");
            }
        }

        // ---- 10: strings -------------------------------------------------------------------------

        private readonly ReadOnlySpan<byte> Bytes(SectionKind kind) => kind switch
        {
            SectionKind.Strings => _strings,
            SectionKind.Signatures => _signatures,
            SectionKind.Declarations => _declarations,
            SectionKind.Symbols => _symbols,
            SectionKind.Functions => _functions,
            SectionKind.DataObjects => _dataObjects,
            SectionKind.Relocations => _relocations,
            SectionKind.Fingerprint => _fingerprint,
            SectionKind.Dependencies => _dependencies,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        private readonly long SectionStart(SectionKind kind) => kind switch
        {
            SectionKind.Strings => _stringsAt,
            SectionKind.Signatures => _signaturesAt,
            SectionKind.Declarations => _declarationsAt,
            SectionKind.Symbols => _symbolsAt,
            SectionKind.Functions => _functionsAt,
            SectionKind.DataObjects => _dataObjectsAt,
            SectionKind.Relocations => _relocationsAt,
            SectionKind.Fingerprint => _fingerprintAt,
            SectionKind.Dependencies => _dependenciesAt,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        private readonly ReadOnlySpan<T> Table<T>(SectionKind kind) where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes(kind));

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void CheckStrings(in FileHeader h)
        {
            ReadOnlySpan<byte> strings = Bytes(SectionKind.Strings);
            if (!Utf8.IsValid(strings))
            {
                int bad = FirstInvalidUtf8(strings);
                throw Fail(ErrorCode.BadUtf8, SectionStart(SectionKind.Strings) + bad, $"the string table is not valid UTF-8 at byte {bad}");
            }
            CheckStringRef(h.Producer, 64, "producer", -1, "", allowEmpty: true);
            CheckStringRef(h.ModuleName, 72, "module name", -1, "", allowEmpty: true);
        }

        private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
        {
            // Only on the error path: decode until the first invalid sequence. The buffer is bounded by the file size.
            var chars = new char[bytes.Length];
            Utf8.ToUtf16(bytes, chars, out int bytesRead, out _, replaceInvalidSequences: false);
            return bytesRead;
        }

        /// <param name="owner">What holds the reference ("symbol", "fingerprint component", or a whole name when <paramref name="index"/> is −1).</param>
        private readonly void CheckStringRef(StringRef s, long fieldOffset, string owner, int index, string field, bool allowEmpty)
        {
            ReadOnlySpan<byte> strings = _strings;
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

        // ---- 11: fingerprint ---------------------------------------------------------------------

        private readonly void CheckFingerprint(in FileHeader h)
        {
            ReadOnlySpan<FingerprintComponent> components = Table<FingerprintComponent>(SectionKind.Fingerprint);
            long baseAt = SectionStart(SectionKind.Fingerprint);
            ReadOnlySpan<byte> strings = Bytes(SectionKind.Strings);
            for (int i = 0; i < components.Length; i++)
            {
                ref readonly FingerprintComponent c = ref components[i];
                long at = baseAt + (long)i * FingerprintComponent.RecordSize;
                if (c.Reserved0 != 0 || c.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 10, $"fingerprint component {i}: reserved bytes are not zero");
                CheckStringRef(c.Key, at, "fingerprint component", i, "key", allowEmpty: false);
                if (!Enum.IsDefined(c.ValueKind)) throw Fail(ErrorCode.BadFingerprint, at + 8, $"fingerprint component {i}: unknown value kind {(byte)c.ValueKind}");
                if (!Enum.IsDefined(c.Match)) throw Fail(ErrorCode.BadFingerprint, at + 9, $"fingerprint component {i}: unknown match rule {(byte)c.Match}");
                if (c.Match == MatchRule.Superset && c.ValueKind != FingerprintValueKind.FeatureSet)
                    throw Fail(ErrorCode.BadFingerprint, at + 9, $"fingerprint component {i}: only feature sets compare as supersets");
                if (c.ValueKind == FingerprintValueKind.String)
                    CheckStringRef(new StringRef((uint)c.Value, (uint)(c.Value >> 32)), at + 16, "fingerprint component", i, "value", allowEmpty: true);
                if (i > 0 && Utf8Of(strings, components[i - 1].Key).SequenceCompareTo(Utf8Of(strings, c.Key)) >= 0)
                    throw Fail(ErrorCode.BadFingerprint, at, $"fingerprint component {i}: keys are not sorted strictly ascending (duplicate or out of order)");
            }
            ulong expected = Checksums.CodegenFingerprint(Bytes(SectionKind.Fingerprint));
            if (h.CodegenFingerprint != expected)
                throw Fail(ErrorCode.FingerprintHashMismatch, 56, $"codegen fingerprint is 0x{h.CodegenFingerprint:x16}, the fingerprint section hashes to 0x{expected:x16}");
        }

        private static ReadOnlySpan<byte> Utf8Of(ReadOnlySpan<byte> strings, StringRef s) => strings.Slice((int)s.Offset, (int)s.Length);

        // ---- 12: declarations --------------------------------------------------------------------

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
                    throw Fail(ErrorCode.BadSignatureRef, at, $"declaration {i}: signature bytes {d.SignatureOffset} + {d.SignatureLength} run past the {sigs.Length}-byte signatures section");
                ReadOnlySpan<byte> encoding = sigs.Slice((int)d.SignatureOffset, (int)d.SignatureLength);
                if (!Signature.IsWellFormed(encoding, out string? error, out int errorAt))
                    throw Fail(ErrorCode.BadSignature, SectionStart(SectionKind.Signatures) + d.SignatureOffset + errorAt, $"declaration {i}: {error}");
                ulong hash = Signature.HashEncoding(encoding);
                if (hash != d.SignatureHash)
                    throw Fail(ErrorCode.SignatureHashMismatch, at + 8, $"declaration {i}: signature hash 0x{d.SignatureHash:x16}, the encoding hashes to 0x{hash:x16}");
            }
        }

        // ---- 13: symbols -------------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void CheckSymbols()
        {
            ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
            ReadOnlySpan<byte> strings = Bytes(SectionKind.Strings);
            int declarations = Bytes(SectionKind.Declarations).Length / DeclarationRecord.RecordSize;
            ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
            ReadOnlySpan<DataObjectRecord> data = Table<DataObjectRecord>(SectionKind.DataObjects);
            long baseAt = SectionStart(SectionKind.Symbols);
            for (int i = 0; i < symbols.Length; i++)
            {
                ref readonly SymbolRecord s = ref symbols[i];
                long at = baseAt + (long)i * SymbolRecord.RecordSize;
                if (s.Reserved0 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 10, $"symbol {i}: reserved field is not zero");
                if (s.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 20, $"symbol {i}: reserved field is not zero");
                CheckStringRef(s.Name, at, "symbol", i, "name", allowEmpty: false);
                if ((uint)s.Kind - 1 >= 4) throw Fail(ErrorCode.BadSymbolKind, at + 8, $"symbol {i}: unknown kind {(byte)s.Kind}");
                bool import = s.Kind is SymbolKind.ImportFunction or SymbolKind.ImportData;
                if (import ? s.Linkage != Linkage.Import : s.Linkage is not (Linkage.Local or Linkage.Export))
                    throw Fail(ErrorCode.BadSymbolKind, at + 9,
                        $"symbol {i}: a {s.Kind} cannot have linkage {(Enum.IsDefined(s.Linkage) ? s.Linkage.ToString() : ((byte)s.Linkage).ToString())}");
                if (i > 0)
                {
                    int c = Utf8Of(strings, symbols[i - 1].Name).SequenceCompareTo(Utf8Of(strings, s.Name));
                    if (c == 0) throw Fail(ErrorCode.DuplicateSymbolName, at, $"symbols {i - 1} and {i} are both named '{Text(strings, s.Name)}'");
                    if (c > 0) throw Fail(ErrorCode.SymbolsNotSorted, at, $"symbol {i} '{Text(strings, s.Name)}' sorts before symbol {i - 1} '{Text(strings, symbols[i - 1].Name)}'");
                }
                bool hasDeclaration = s.Kind is SymbolKind.Function or SymbolKind.ImportFunction;
                if (hasDeclaration ? s.Declaration >= (uint)declarations : s.Declaration != FormatConstants.NoIndex)
                    throw Fail(ErrorCode.BadDeclarationIndex, at + 12, hasDeclaration
                        ? $"symbol {i} '{Text(strings, s.Name)}': declaration {s.Declaration} is out of range ({declarations} declarations)"
                        : $"symbol {i} '{Text(strings, s.Name)}': a {s.Kind} has no declaration, the field must be 0xFFFFFFFF");
                switch (s.Kind)
                {
                    case SymbolKind.Function:
                        if (s.Definition >= (uint)functions.Length || functions[(int)s.Definition].Symbol != (uint)i)
                            throw Fail(ErrorCode.BadDefinitionIndex, at + 16, $"symbol {i} '{Text(strings, s.Name)}': definition {s.Definition} is not a function record naming this symbol");
                        break;
                    case SymbolKind.Data:
                        if (s.Definition >= (uint)data.Length || data[(int)s.Definition].Symbol != (uint)i)
                            throw Fail(ErrorCode.BadDefinitionIndex, at + 16, $"symbol {i} '{Text(strings, s.Name)}': definition {s.Definition} is not a data object record naming this symbol");
                        break;
                    default:
                        if (s.Definition != FormatConstants.NoIndex)
                            throw Fail(ErrorCode.BadDefinitionIndex, at + 16, $"symbol {i} '{Text(strings, s.Name)}': an import has no definition, the field must be 0xFFFFFFFF");
                        break;
                }
            }
        }

        private static string Text(ReadOnlySpan<byte> strings, StringRef s) => System.Text.Encoding.UTF8.GetString(Utf8Of(strings, s));

        // ---- 14: functions -----------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void CheckFunctions()
        {
            ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
            ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
            long codeSize = _codeLength;
            long baseAt = SectionStart(SectionKind.Functions);
            long previousEnd = 0;
            for (int i = 0; i < functions.Length; i++)
            {
                ref readonly FunctionRecord f = ref functions[i];
                long at = baseAt + (long)i * FunctionRecord.RecordSize;
                if (f.Symbol >= (uint)symbols.Length || symbols[(int)f.Symbol].Kind != SymbolKind.Function || symbols[(int)f.Symbol].Definition != (uint)i)
                    throw Fail(ErrorCode.BadFunctionSymbol, at, $"function {i}: symbol {f.Symbol} is not a function symbol defined by this record");
                if ((ulong)f.CodeOffset + f.CodeSize > (ulong)codeSize)
                    throw Fail(ErrorCode.FunctionOutOfBounds, at + 4, $"function {i}: code bytes {f.CodeOffset} + {f.CodeSize} run past the {codeSize}-byte code section");
                if (f.CodeSize == 0) throw Fail(ErrorCode.EmptyFunction, at + 8, $"function {i}: no code");
                if (f.Alignment == 0 || f.Alignment > FormatConstants.MaxAlignment || (f.Alignment & (f.Alignment - 1)) != 0)
                    throw Fail(ErrorCode.BadFunctionAlignment, at + 12, $"function {i}: alignment {f.Alignment} is not a power of two from 1 to 4096");
                if (f.CodeOffset % f.Alignment != 0)
                    throw Fail(ErrorCode.BadFunctionAlignment, at + 4, $"function {i}: code offset {f.CodeOffset} is not a multiple of its alignment {f.Alignment}");
                if (f.CodeOffset < previousEnd)
                    throw Fail(ErrorCode.FunctionOverlap, at + 4, $"function {i}: code at {f.CodeOffset} starts before the end of function {i - 1} at {previousEnd}");
                previousEnd = (long)f.CodeOffset + f.CodeSize;
                if (((ulong)f.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown) != 0)
                    throw Fail(ErrorCode.UnknownCpuFeature, at + 24, $"function {i}: unknown CPU feature bits 0x{(ulong)f.RequiredCpuFeatures & ~(ulong)CpuFeatures.AllKnown:x}");
            }
        }

        // ---- 15: data objects --------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void CheckDataObjects()
        {
            ReadOnlySpan<DataObjectRecord> data = Table<DataObjectRecord>(SectionKind.DataObjects);
            ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
            long dataSize = _dataLength;
            long baseAt = SectionStart(SectionKind.DataObjects);
            long previousEnd = 0;
            DataKind previousKind = DataKind.ReadOnly;
            for (int i = 0; i < data.Length; i++)
            {
                ref readonly DataObjectRecord d = ref data[i];
                long at = baseAt + (long)i * DataObjectRecord.RecordSize;
                if (d.Reserved0 != 0 || d.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 5, $"data object {i}: reserved bytes are not zero");
                if (d.Reserved2 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 28, $"data object {i}: reserved field is not zero");
                if (d.Symbol >= (uint)symbols.Length || symbols[(int)d.Symbol].Kind != SymbolKind.Data || symbols[(int)d.Symbol].Definition != (uint)i)
                    throw Fail(ErrorCode.BadDataSymbol, at, $"data object {i}: symbol {d.Symbol} is not a data symbol defined by this record");
                if ((uint)d.Kind - 1 >= 3) throw Fail(ErrorCode.BadDataKind, at + 4, $"data object {i}: unknown kind {(byte)d.Kind}");
                if (d.Kind == DataKind.ZeroFilled && d.RelocationCount != 0)
                    throw Fail(ErrorCode.BadDataKind, at + 24, $"data object {i}: a zero-filled object cannot have relocations");
                if (d.Kind < previousKind)
                    throw Fail(ErrorCode.DataOrder, at + 4, $"data object {i}: a {d.Kind} object after a {previousKind} one (order is ReadOnly, Writable, ZeroFilled)");
                if (d.Kind == DataKind.ZeroFilled && previousKind != DataKind.ZeroFilled) previousEnd = 0; // the zero-fill area starts anew
                previousKind = d.Kind;
                if (d.Size == 0) throw Fail(ErrorCode.DataOutOfBounds, at + 12, $"data object {i}: size is zero");
                long limit = d.Kind == DataKind.ZeroFilled ? FormatConstants.MaxFileSize : dataSize;
                if ((ulong)d.Offset + d.Size > (ulong)limit)
                    throw Fail(ErrorCode.DataOutOfBounds, at + 8, d.Kind == DataKind.ZeroFilled
                        ? $"data object {i}: zero-fill range {d.Offset} + {d.Size} exceeds {limit}"
                        : $"data object {i}: bytes {d.Offset} + {d.Size} run past the {dataSize}-byte data section");
                if (d.Alignment == 0 || d.Alignment > FormatConstants.MaxAlignment || (d.Alignment & (d.Alignment - 1)) != 0)
                    throw Fail(ErrorCode.BadDataAlignment, at + 16, $"data object {i}: alignment {d.Alignment} is not a power of two from 1 to 4096");
                if (d.Offset % d.Alignment != 0)
                    throw Fail(ErrorCode.BadDataAlignment, at + 8, $"data object {i}: offset {d.Offset} is not a multiple of its alignment {d.Alignment}");
                if (d.Offset < previousEnd)
                    throw Fail(ErrorCode.DataOrder, at + 8, $"data object {i}: offset {d.Offset} is before the end of the previous object at {previousEnd}");
                previousEnd = (long)d.Offset + d.Size;
                if (d.Kind == DataKind.ZeroFilled) ZeroFillSize = (int)previousEnd;
            }
        }

        // ---- 16: relocations ---------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void CheckRelocations()
        {
            ReadOnlySpan<RelocationRecord> relocations = Table<RelocationRecord>(SectionKind.Relocations);
            ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
            ReadOnlySpan<DataObjectRecord> data = Table<DataObjectRecord>(SectionKind.DataObjects);
            long functionsAt = SectionStart(SectionKind.Functions);
            long dataAt = SectionStart(SectionKind.DataObjects);
            uint cursor = 0;
            for (int i = 0; i < functions.Length; i++)
            {
                ref readonly FunctionRecord f = ref functions[i];
                CheckRange(f.FirstRelocation, f.RelocationCount, ref cursor, relocations.Length, functionsAt + (long)i * FunctionRecord.RecordSize + 16, true, i);
                CheckOwnerRelocations(relocations.Slice((int)f.FirstRelocation, (int)f.RelocationCount), (int)f.FirstRelocation, f.CodeSize, true, i);
            }
            for (int i = 0; i < data.Length; i++)
            {
                ref readonly DataObjectRecord d = ref data[i];
                CheckRange(d.FirstRelocation, d.RelocationCount, ref cursor, relocations.Length, dataAt + (long)i * DataObjectRecord.RecordSize + 20, false, i);
                CheckOwnerRelocations(relocations.Slice((int)d.FirstRelocation, (int)d.RelocationCount), (int)d.FirstRelocation, d.Size, false, i);
            }
            if (cursor != (uint)relocations.Length)
                throw Fail(ErrorCode.BadRelocationRange, SectionStart(SectionKind.Relocations) + (long)cursor * RelocationRecord.RecordSize,
                    $"relocations {cursor}..{relocations.Length - 1} belong to no function or data object");
        }

        private static string OwnerName(bool isFunction, int index) => isFunction ? $"function {index}" : $"data object {index}";

        private static void CheckRange(uint first, uint count, ref uint cursor, int total, long at, bool isFunction, int index)
        {
            if (first == cursor && (ulong)first + count <= (ulong)total)
            {
                cursor = first + count;
                return;
            }
            string owner = OwnerName(isFunction, index);
            if (first != cursor)
                throw Fail(ErrorCode.BadRelocationRange, at, $"{owner}: first relocation is {first}, expected {cursor} (ranges must tile the table in owner order)");
            if ((ulong)first + count > (ulong)total)
                throw Fail(ErrorCode.BadRelocationRange, at + 4, $"{owner}: relocations {first} + {count} run past the {total}-entry table");
            cursor = first + count;
        }

        /// <summary><see cref="RelocationRules.TargetAllowed"/> as a table for the hot loop: bit k of entry
        /// <c>kind</c> is set when a relocation of that kind may target a symbol of kind k [REL-6].</summary>
        private static readonly byte[] s_allowedTargets = AllowedTargetTable();

        private static byte[] AllowedTargetTable()
        {
            var table = new byte[8];
            for (int kind = 0; kind < table.Length; kind++)
                for (int symbol = 0; symbol < 8; symbol++)
                    if (RelocationRules.TargetAllowed((RelocationKind)kind, (SymbolKind)symbol)) table[kind] |= (byte)(1 << symbol);
            return table;
        }

        /// <summary>
        /// The hot loop of validation (every relocation of the file): all of §14's relocation checks folded
        /// into two branch conditions; a record that fails one is diagnosed in order by
        /// <see cref="FailRelocation"/>. It also counts the references whose expected signature hash differs
        /// from their target's declaration (stale callers [LOAD-5]), so a loader need not scan again when
        /// there are none.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void CheckOwnerRelocations(ReadOnlySpan<RelocationRecord> relocations, int firstIndex, uint ownerSize, bool isFunction, int ownerIndex)
        {
            if (relocations.IsEmpty) return;
            ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
            ReadOnlySpan<DeclarationRecord> declarations = Table<DeclarationRecord>(SectionKind.Declarations);
            ReadOnlySpan<byte> allowed = s_allowedTargets;
            ulong previousEnd = 0;
            int stale = 0;
            for (int k = 0; k < relocations.Length; k++)
            {
                ref readonly RelocationRecord r = ref relocations[k];
                int width = RelocationRules.FieldWidth(r.Kind);
                ulong end = (ulong)r.Offset + (ulong)width;
                if ((r.Reserved0 | r.Reserved1) != 0 || !RelocationRules.IsKnown(r.Kind) || end > ownerSize || r.Offset < previousEnd || r.Target >= (uint)symbols.Length)
                    FailRelocation(relocations, firstIndex, k, ownerSize, isFunction, ownerIndex, previousEnd);
                ref readonly SymbolRecord target = ref symbols[(int)r.Target];
                bool callable = target.Kind is SymbolKind.Function or SymbolKind.ImportFunction;
                if (((allowed[(int)r.Kind] >> (int)target.Kind) & 1) == 0
                    || (width == 4 && (ulong)(r.Addend - int.MinValue) > uint.MaxValue)
                    || (r.ExpectedSignatureHash != 0 && !callable))
                    FailRelocation(relocations, firstIndex, k, ownerSize, isFunction, ownerIndex, previousEnd);
                // A callable target's declaration index was checked with the symbols [SYM-3].
                if (r.ExpectedSignatureHash != 0 && declarations[(int)target.Declaration].SignatureHash != r.ExpectedSignatureHash) stale++;
                previousEnd = end;
            }
            StaleSignatureReferences += stale;
        }

        /// <summary>Diagnoses relocation <paramref name="k"/> of an owner, which failed a check: the first broken rule
        /// in §14's order, with its code, the field's file offset and the owner.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly void FailRelocation(ReadOnlySpan<RelocationRecord> relocations, int firstIndex, int k, uint ownerSize, bool isFunction, int ownerIndex, ulong previousEnd)
        {
            ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
            ref readonly RelocationRecord r = ref relocations[k];
            long at = SectionStart(SectionKind.Relocations) + (long)(firstIndex + k) * RelocationRecord.RecordSize;
            int index = firstIndex + k;
            string owner = OwnerName(isFunction, ownerIndex);
            if (r.Reserved0 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 6, $"relocation {index}: reserved field is not zero");
            if (r.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 12, $"relocation {index}: reserved field is not zero");
            if (!RelocationRules.IsKnown(r.Kind)) throw Fail(ErrorCode.UnknownRelocationKind, at + 4, $"relocation {index} of {owner}: unknown kind {(ushort)r.Kind}");
            int width = RelocationRules.FieldWidth(r.Kind);
            if ((ulong)r.Offset + (ulong)width > ownerSize)
                throw Fail(ErrorCode.RelocationOutOfBounds, at, $"relocation {index} of {owner}: a {width}-byte field at +{r.Offset} runs past the owner's {ownerSize} bytes");
            if (r.Offset < previousEnd)
                throw Fail(ErrorCode.RelocationOverlap, at, $"relocation {index} of {owner}: field at +{r.Offset} overlaps or precedes the previous one ending at +{previousEnd}");
            if (r.Target >= (uint)symbols.Length)
                throw Fail(ErrorCode.BadRelocationTarget, at + 8, $"relocation {index} of {owner}: target symbol {r.Target} is out of range ({symbols.Length} symbols)");
            SymbolKind target = symbols[(int)r.Target].Kind;
            if (!RelocationRules.TargetAllowed(r.Kind, target))
                throw Fail(ErrorCode.RelocationTargetKindMismatch, at + 8, $"relocation {index} of {owner}: a {r.Kind} relocation cannot target a {target}");
            if (width == 4 && (r.Addend < int.MinValue || r.Addend > int.MaxValue))
                throw Fail(ErrorCode.AddendOutOfRange, at + 16, $"relocation {index} of {owner}: addend {r.Addend} does not fit the 32-bit field's range");
            if (r.ExpectedSignatureHash != 0 && target is not (SymbolKind.Function or SymbolKind.ImportFunction))
                throw Fail(ErrorCode.UnexpectedSignatureHash, at + 24, $"relocation {index} of {owner}: targets a {target} but carries a signature hash");
            throw new InvalidOperationException($"relocation {index} failed the fast check but no rule: a validator bug");
        }

        // ---- 17: dependencies --------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void CheckDependencies()
        {
            ReadOnlySpan<DependencyRecord> deps = Table<DependencyRecord>(SectionKind.Dependencies);
            ReadOnlySpan<SymbolRecord> symbols = Table<SymbolRecord>(SectionKind.Symbols);
            int functions = Bytes(SectionKind.Functions).Length / FunctionRecord.RecordSize;
            long baseAt = SectionStart(SectionKind.Dependencies);
            for (int i = 0; i < deps.Length; i++)
            {
                ref readonly DependencyRecord d = ref deps[i];
                long at = baseAt + (long)i * DependencyRecord.RecordSize;
                if (d.Reserved0 != 0 || d.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + 10, $"dependency {i}: reserved bytes are not zero");
                if (d.Function >= (uint)functions) throw Fail(ErrorCode.BadDependency, at, $"dependency {i}: function {d.Function} is out of range ({functions} functions)");
                if (d.Target >= (uint)symbols.Length) throw Fail(ErrorCode.BadDependency, at + 4, $"dependency {i}: target symbol {d.Target} is out of range ({symbols.Length} symbols)");
                SymbolKind target = symbols[(int)d.Target].Kind;
                bool ok = d.Kind switch
                {
                    DependencyKind.FunctionContent => target == SymbolKind.Function,
                    DependencyKind.DataContent => target == SymbolKind.Data,
                    _ => false,
                };
                if (!ok) throw Fail(ErrorCode.BadDependency, at + 8, $"dependency {i}: kind {(ushort)d.Kind} cannot name a {target}");
                if (i > 0)
                {
                    ref readonly DependencyRecord p = ref deps[i - 1];
                    if (p.Function > d.Function || (p.Function == d.Function && p.Target >= d.Target))
                        throw Fail(ErrorCode.BadDependency, at, $"dependency {i}: not sorted strictly ascending by (function, target)");
                }
            }
        }

        // ---- 18: signature ------------------------------------------------------------------------

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
            SignatureRecord record = MemoryMarshal.Read<SignatureRecord>(_file.Slice(slot.Offset, SignatureRecord.RecordSize));
            int expectedLength = record.Algorithm switch
            {
                (ushort)SignatureAlgorithm.HmacSha256 => 32,
                (ushort)SignatureAlgorithm.EcdsaP256Sha256 => 64,
                _ => throw Fail(ErrorCode.BadSignatureSection, slot.Offset, $"unknown signature algorithm {record.Algorithm}"),
            };
            if (record.SignatureLength != expectedLength)
                throw Fail(ErrorCode.BadSignatureSection, slot.Offset + 4, $"a {(SignatureAlgorithm)record.Algorithm} signature is {expectedLength} bytes, not {record.SignatureLength}");
            ReadOnlySpan<byte> signatureBytes = record.Signature;
            if (record.Reserved0 != 0 || signatureBytes[expectedLength..].IndexOfAnyExcept((byte)0) >= 0 || ((ReadOnlySpan<byte>)record.Reserved1).IndexOfAnyExcept((byte)0) >= 0)
                throw Fail(ErrorCode.ReservedNotZero, slot.Offset, "reserved or padding bytes of the signature are not zero");
            if (policy is null) return;

            ReadOnlySpan<byte> keyId = record.KeyId;
            VerificationKey? key = null;
            foreach (VerificationKey k in policy.TrustedKeys)
                if (k.Algorithm == (SignatureAlgorithm)record.Algorithm && keyId.SequenceEqual(k.Id)) key = k;
            if (key is null)
                throw Fail(ErrorCode.SignatureInvalid, slot.Offset + 8, $"signed ({(SignatureAlgorithm)record.Algorithm}) by key {Convert.ToHexString(keyId)[..16]}…, which is not trusted");
            int entryChecksumOffset = FormatConstants.DirectoryOffset + (int)(MemoryMarshal.Read<FileHeader>(_file).SectionCount - 1) * SectionEntry.RecordSize + 32;
            bool valid;
            if (key.Secret is not null)
            {
                using var hmac = System.Security.Cryptography.IncrementalHash.CreateHMAC(System.Security.Cryptography.HashAlgorithmName.SHA256, key.Secret);
                SignedMessage.Append(hmac, _file, slot.Offset, entryChecksumOffset);
                valid = System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(hmac.GetHashAndReset(), signatureBytes[..32]);
            }
            else
            {
                using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                SignedMessage.Append(sha, _file, slot.Offset, entryChecksumOffset);
                valid = key.PublicKey!.VerifyHash(sha.GetHashAndReset(), signatureBytes[..64], System.Security.Cryptography.DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
            if (!valid)
                throw Fail(ErrorCode.SignatureInvalid, slot.Offset + 40, "the signature does not match the file: it was modified after signing");
        }

        // ---- helpers -----------------------------------------------------------------------------

        private readonly ushort Read16(int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(_file[at..]);
        private readonly uint Read32(int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_file[at..]);
        private readonly ulong Read64(int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_file[at..]);
    }

    /// <summary>Name of a section kind for messages; unknown kinds by number.</summary>
    public static string KindName(uint kind) => Enum.IsDefined((SectionKind)kind) ? ((SectionKind)kind).ToString() : $"kind {kind}";
}
