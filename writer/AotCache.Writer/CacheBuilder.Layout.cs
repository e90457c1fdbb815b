using System.Runtime.InteropServices;
using System.Text;
using AotCache.Format;

namespace AotCache.Writer;

public sealed partial class CacheBuilder
{
    /// <summary>Lays the module out and returns the file's bytes. Nothing is returned unless the whole module is valid.</summary>
    public byte[] ToArray()
    {
        CheckComplete();
        return new Layout(this).Write();
    }

    /// <summary>Writes the file to <paramref name="stream"/>. The module is laid out and checked first, so an
    /// invalid module writes no byte.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = ToArray();
        stream.Write(bytes);
    }

    /// <summary>Writes the file to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>): an invalid
    /// module, an I/O error or a crash never damages the previous file at that path.</summary>
    public void WriteToFile(string path) => AtomicFile.Write(path, ToArray());

    private void CheckComplete()
    {
        var problems = new List<string>();
        foreach (SymbolEntry s in _symbols)
            if (s.Kind is SymbolKind.Function or SymbolKind.Data && !s.IsDefined)
                problems.Add($"{(s.Kind == SymbolKind.Function ? "function" : "data object")} '{s.Name}' is declared but never defined");
        foreach (SymbolEntry s in _symbols)
            foreach (DependencyEntry d in s.Dependencies)
                if (!_symbols[d.Target].IsDefined)
                    problems.Add($"'{s.Name}' depends on '{_symbols[d.Target].Name}', which is never defined");
        if (problems.Count > 0) throw new CacheBuildException(problems);
    }

    /// <summary>One layout pass: decides every index and offset, then writes. Deterministic: the only
    /// inputs are the builder's contents in the order they were added.</summary>
    private sealed class Layout
    {
        private readonly CacheBuilder _b;
        private readonly MemoryStream _strings = new();
        private readonly Dictionary<string, StringRef> _stringRefs = new(StringComparer.Ordinal);
        private readonly int[] _fileSymbol;      // builder symbol index -> file symbol index
        private readonly int[] _definition;      // builder symbol index -> function or data object index
        private readonly List<int> _functionOrder = []; // builder indices of functions, in file order
        private readonly List<int> _dataOrder = [];     // builder indices of data objects, in file order
        private bool _prelinked;
        private bool _unwind;

        public Layout(CacheBuilder builder)
        {
            _b = builder;
            int n = _b._symbols.Count;
            _fileSymbol = new int[n];
            _definition = new int[n];
            Array.Fill(_definition, -1);

            // Symbols sorted by the UTF-8 bytes of their names [SYM-2].
            var names = new byte[n][];
            for (int i = 0; i < n; i++) names[i] = Encoding.UTF8.GetBytes(_b._symbols[i].Name);
            int[] order = [.. Enumerable.Range(0, n)];
            Array.Sort(order, (x, y) => names[x].AsSpan().SequenceCompareTo(names[y]));
            for (int i = 0; i < n; i++) _fileSymbol[order[i]] = i;

            // Functions in the order they were declared; data objects read-only, then writable, then zero-filled [DAT-2].
            for (int i = 0; i < n; i++)
                if (_b._symbols[i].Kind == SymbolKind.Function) { _definition[i] = _functionOrder.Count; _functionOrder.Add(i); }
            foreach (DataKind kind in (ReadOnlySpan<DataKind>)[DataKind.ReadOnly, DataKind.Writable, DataKind.ZeroFilled])
                for (int i = 0; i < n; i++)
                    if (_b._symbols[i].Kind == SymbolKind.Data && _b._symbols[i].DataKind == kind) { _definition[i] = _dataOrder.Count; _dataOrder.Add(i); }
        }

        private StringRef Intern(string text)
        {
            if (text.Length == 0) return StringRef.Empty;
            if (_stringRefs.TryGetValue(text, out StringRef existing)) return existing;
            byte[] bytes = StrictUtf8.GetBytes(text);
            var r = new StringRef((uint)_strings.Length, (uint)bytes.Length);
            _strings.Write(bytes);
            _stringRefs.Add(text, r);
            return r;
        }

        /// <summary>The file index of each added declaration (-1 when dropped) and the file's declarations in order.</summary>
        private int[] DeclarationIndexes(out Signature[] ordered)
        {
            var index = new int[_b._declarations.Count];
            if (_b.DeclarationOrder == DeclarationOrder.AsAdded)
            {
                for (int i = 0; i < index.Length; i++) index[i] = i;
                ordered = [.. _b._declarations];
                return index;
            }
            var used = new bool[index.Length];
            foreach (SymbolEntry s in _b._symbols)
                if (s.Declaration >= 0) used[s.Declaration] = true;
            var kept = new List<int>();
            for (int i = 0; i < used.Length; i++) if (used[i]) kept.Add(i);
            kept.Sort((x, y) => DeclarationOrders.Compare(_b._declarations[x], _b._declarations[y]));
            Array.Fill(index, -1);
            ordered = new Signature[kept.Count];
            for (int k = 0; k < kept.Count; k++)
            {
                index[kept[k]] = k;
                ordered[k] = _b._declarations[kept[k]];
            }
            return index;
        }

        public byte[] Write()
        {
            StringRef producer = Intern(_b.Producer);
            StringRef moduleName = Intern(_b.ModuleName);

            // Signatures and declarations: in the order they were added, or the used ones by encoding.
            int[] declarationIndex = DeclarationIndexes(out Signature[] ordered);
            var signatures = new MemoryStream();
            var declarations = new DeclarationRecord[ordered.Length];
            for (int i = 0; i < declarations.Length; i++)
            {
                Signature s = ordered[i];
                declarations[i] = new DeclarationRecord((uint)signatures.Length, (uint)s.Encoding.Length, s.Hash);
                signatures.Write(s.Encoding.AsSpan());
            }

            // Symbols, in name order.
            int n = _b._symbols.Count;
            var symbols = new SymbolRecord[n];
            var byFileIndex = new int[n];
            for (int i = 0; i < n; i++) byFileIndex[_fileSymbol[i]] = i;
            for (int f = 0; f < n; f++)
            {
                int i = byFileIndex[f];
                SymbolEntry s = _b._symbols[i];
                symbols[f] = new SymbolRecord(Intern(s.Name), s.Kind, s.Linkage,
                    s.Declaration >= 0 ? (uint)declarationIndex[s.Declaration] : FormatConstants.NoIndex,
                    _definition[i] >= 0 ? (uint)_definition[i] : FormatConstants.NoIndex);
            }

            // Code, functions and their relocations.
            var relocations = new List<RelocationRecord>(_functionOrder.Sum(i => _b._symbols[i].Relocations.Length));
            var code = new MemoryStream(_functionOrder.Sum(i => _b._symbols[i].Bytes.Length + _b._symbols[i].Alignment));
            var functions = new FunctionRecord[_functionOrder.Count];
            for (int k = 0; k < functions.Length; k++)
            {
                SymbolEntry s = _b._symbols[_functionOrder[k]];
                PadTo(code, s.Alignment, FormatConstants.CodePadding);
                uint offset = (uint)code.Length;
                code.Write(s.Bytes.AsSpan());
                uint first = (uint)relocations.Count;
                AddRelocations(s, relocations);
                functions[k] = new FunctionRecord((uint)_fileSymbol[_functionOrder[k]], offset, (uint)s.Bytes.Length,
                    (uint)s.Alignment, first, (uint)s.Relocations.Length, s.CpuFeatures, s.ContentHash);
            }

            // Data objects: bytes of read-only and writable ones in the data section, zero-filled ones in the zero-fill area.
            var data = new MemoryStream();
            long zeroFill = 0;
            var dataObjects = new DataObjectRecord[_dataOrder.Count];
            for (int k = 0; k < dataObjects.Length; k++)
            {
                SymbolEntry s = _b._symbols[_dataOrder[k]];
                uint offset;
                if (s.DataKind == DataKind.ZeroFilled)
                {
                    zeroFill = AlignUp(zeroFill, s.Alignment);
                    offset = (uint)zeroFill;
                    zeroFill += s.Size;
                }
                else
                {
                    PadTo(data, s.Alignment, 0);
                    offset = (uint)data.Length;
                    data.Write(s.Bytes.AsSpan());
                }
                uint first = (uint)relocations.Count;
                AddRelocations(s, relocations);
                dataObjects[k] = new DataObjectRecord((uint)_fileSymbol[_dataOrder[k]], s.DataKind, offset, (uint)s.Size,
                    (uint)s.Alignment, first, (uint)s.Relocations.Length, s.ContentHash);
            }
            if (zeroFill > FormatConstants.MaxFileSize)
                throw new CacheBuildException([$"zero-filled data adds up to {zeroFill} bytes, more than {FormatConstants.MaxFileSize}"]);
            byte[] codeBytes = code.ToArray();
            _prelinked = _b.Prelink && Prelinker.TryPrelink(codeBytes, symbols, functions, dataObjects, zeroFill, CollectionsMarshal.AsSpan(relocations));

            // Fingerprint, sorted by key bytes [FPR-1].
            var fingerprintEntries = _b._fingerprint
                .Select(e => (Entry: e, Key: Encoding.UTF8.GetBytes(e.Key)))
                .ToList();
            fingerprintEntries.Sort((x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
            var fingerprint = new FingerprintComponent[fingerprintEntries.Count];
            for (int i = 0; i < fingerprint.Length; i++)
            {
                FingerprintEntry e = fingerprintEntries[i].Entry;
                ulong value = e.Value;
                if (e.Kind == FingerprintValueKind.String)
                {
                    StringRef r = Intern(e.Text!);
                    value = r.Offset | ((ulong)r.Length << 32);
                }
                fingerprint[i] = new FingerprintComponent(Intern(e.Key), e.Kind, e.Match, value);
            }

            // Dependencies, sorted by (function index, target symbol index).
            var dependencies = _functionOrder
                .SelectMany(i => _b._symbols[i].Dependencies.Select(d => new DependencyRecord((uint)_definition[i], (uint)_fileSymbol[d.Target], d.Kind, d.Expected)))
                .OrderBy(d => d.Function).ThenBy(d => d.Target)
                .ToArray();

            var sections = new List<PendingSection>
            {
                new(SectionKind.Strings, _strings.ToArray(), 8),
                new(SectionKind.Signatures, signatures.ToArray(), 8),
                new(SectionKind.Declarations, Bytes(declarations), 8),
                new(SectionKind.Symbols, Bytes(symbols), 8),
                new(SectionKind.Functions, Bytes(functions), 8),
                new(SectionKind.DataObjects, Bytes(dataObjects), 8),
                new(SectionKind.Relocations, Bytes([.. relocations]), 8),
                new(SectionKind.Fingerprint, Bytes(fingerprint), 8),
                new(SectionKind.Dependencies, Bytes(dependencies), 8),
                new(SectionKind.Code, codeBytes, _b.CodeSectionAlignment),
                new(SectionKind.Data, data.ToArray(), Math.Max(8, _dataOrder.Select(i => _b._symbols[i].Alignment).DefaultIfEmpty(8).Max())),
            };
            // Unwind information (format 1.3), when some function has it: after the 1.0 sections [REC-1].
            _unwind = _functionOrder.Any(i => _b._symbols[i].Unwind is not null);
            if (_unwind) sections.Add(new PendingSection(SectionKind.Unwind, UnwindSection(functions), 8));
            sections.RemoveAll(s => s.Bytes.Length == 0);
            // The signature section comes last, so that it can sign every byte before it [AUTH-1].
            // Producer-private sections follow the format's own, in the order they were added.
            foreach (var (kind, bytes) in _b._privateSections) sections.Add(new PendingSection((SectionKind)kind, bytes, 8));
            if (_b.SigningKey is not null) sections.Add(new PendingSection(SectionKind.Signature, new byte[SignatureRecord.RecordSize], 8));

            return Assemble(sections, producer, moduleName, fingerprint.Length == 0 ? [] : Bytes(fingerprint));
        }

        /// <summary>The Unwind section (FORMAT.md §19): an FDE for each function that has unwind information.</summary>
        private byte[] UnwindSection(FunctionRecord[] functions)
        {
            var frames = new FrameDescription?[functions.Length];
            for (int k = 0; k < frames.Length; k++)
                if (_b._symbols[_functionOrder[k]].Unwind is { } unwind)
                    frames[k] = new FrameDescription(functions[k].CodeOffset, functions[k].CodeSize, unwind.Program.AsMemory());
            return UnwindRules.BuildSection(frames);
        }

        private void AddRelocations(SymbolEntry owner, List<RelocationRecord> output)
        {
            foreach (ResolvedRelocation r in owner.Relocations)
            {
                SymbolEntry target = _b._symbols[r.Target];
                ulong expected = r.ExpectedSignatureHash
                    ?? (target.Declaration >= 0 ? _b._declarations[target.Declaration].Hash : 0);
                output.Add(new RelocationRecord((uint)r.Offset, r.Kind, (uint)_fileSymbol[r.Target], r.Addend, expected));
            }
        }

        private byte[] Assemble(List<PendingSection> sections, StringRef producer, StringRef moduleName, byte[] fingerprintBytes)
        {
            if (sections.Count > FormatConstants.MaxSectionCount) throw new InvalidOperationException("internal: too many sections");
            long cursor = FormatConstants.DirectoryOffset + (long)sections.Count * SectionEntry.RecordSize;
            var entries = new SectionEntry[sections.Count];
            for (int i = 0; i < sections.Count; i++)
            {
                PendingSection s = sections[i];
                cursor = AlignUp(cursor, s.Alignment);
                entries[i] = new SectionEntry
                {
                    Kind = (uint)s.Kind,
                    // 1.0 sections must be understood; the 1.1 signature and 1.3 unwind sections may be skipped by older readers.
                    Flags = s.Kind is SectionKind.Signature or SectionKind.Unwind || (uint)s.Kind >= FirstPrivateSectionKind ? (uint)SectionFlags.None : (uint)SectionFlags.Required,
                    Offset = (ulong)cursor,
                    Size = (ulong)s.Bytes.Length,
                    Alignment = (uint)s.Alignment,
                    Checksum = Checksums.SectionChecksum(s.Bytes),
                };
                cursor += s.Bytes.Length;
            }
            if (cursor > FormatConstants.MaxFileSize)
                throw new CacheBuildException([$"the file would be {cursor} bytes, more than the {FormatConstants.MaxFileSize} a file may hold [LIM-2]"]);

            var file = new byte[cursor];
            var header = new FileHeader
            {
                Magic = BitConverter.ToUInt64(FormatConstants.Magic),
                MajorVersion = FormatConstants.MajorVersion,
                // The lowest minor version that describes the file [REC-10]: 1.3 with unwind information, 1.2 when
                // prelinked, 1.1 when only signed.
                MinorVersion = (ushort)(_unwind ? 3 : _prelinked ? 2 : _b.SigningKey is null ? 0 : 1),
                HeaderSize = FormatConstants.HeaderSize,
                FileSize = (ulong)file.Length,
                Architecture = (ushort)_b.Target.Architecture,
                Abi = (ushort)_b.Target.Abi,
                Os = (ushort)_b.Target.Os,
                RequiredFlags = 0,
                OptionalFlags = (uint)(_prelinked ? _b.OptionalFlags | OptionalFlags.Prelinked : _b.OptionalFlags & ~OptionalFlags.Prelinked),
                RequiredCpuFeatures = (ulong)_b.RequiredCpuFeatures,
                CodegenFingerprint = Checksums.CodegenFingerprint(fingerprintBytes),
                Producer = producer,
                ModuleName = moduleName,
                SectionCount = (uint)sections.Count,
                DirectoryOffset = FormatConstants.DirectoryOffset,
            };
            MemoryMarshal.Write(file, in header);
            MemoryMarshal.AsBytes(entries.AsSpan()).CopyTo(file.AsSpan(FormatConstants.DirectoryOffset));
            for (int i = 0; i < sections.Count; i++)
                sections[i].Bytes.CopyTo(file.AsSpan((int)entries[i].Offset));
            if (_b.SigningKey is { } key) Sign(file, key, entries);
            ulong checksum = Checksums.FileChecksum(file);
            BitConverter.TryWriteBytes(file.AsSpan(FormatConstants.FileChecksumOffset, 8), checksum);
            return file;
        }

        /// <summary>Signs everything before the (last) signature section, then fixes that section's checksum.</summary>
        private static void Sign(byte[] file, SigningKey key, SectionEntry[] entries)
        {
            int last = entries.Length - 1;
            int sectionOffset = (int)entries[last].Offset;
            int entryChecksumOffset = FormatConstants.DirectoryOffset + last * SectionEntry.RecordSize + 32;
            byte[] signature = key.Sign(file, sectionOffset, entryChecksumOffset);
            var record = new SignatureRecord { Algorithm = (ushort)key.Algorithm, SignatureLength = (uint)signature.Length };
            key.KeyId.CopyTo(record.KeyId);
            signature.CopyTo(record.Signature);
            MemoryMarshal.Write(file.AsSpan(sectionOffset), in record);
            ulong sectionChecksum = Checksums.SectionChecksum(file.AsSpan(sectionOffset, SignatureRecord.RecordSize));
            BitConverter.TryWriteBytes(file.AsSpan(entryChecksumOffset, 8), sectionChecksum);
        }

        private static byte[] Bytes<T>(T[] records) where T : unmanaged => MemoryMarshal.AsBytes(records.AsSpan()).ToArray();

        private static void PadTo(MemoryStream stream, int alignment, byte fill)
        {
            long padding = AlignUp(stream.Length, alignment) - stream.Length;
            if (padding == 0) return;
            Span<byte> bytes = stackalloc byte[(int)Math.Min(padding, 4096)];
            bytes.Fill(fill);
            for (; padding > 0; padding -= bytes.Length)
                stream.Write(bytes[..(int)Math.Min(padding, bytes.Length)]);
        }

        private sealed record PendingSection(SectionKind Kind, byte[] Bytes, int Alignment);
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}
