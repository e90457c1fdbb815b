using System.Collections.Immutable;
using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Writer;

/// <summary>
/// Writes the next version of a cache file by editing the previous one: replaced function bodies are spliced
/// in, and everything else — unchanged code, relocation ranges, strings, data, unknown sections — is carried
/// as slices of the old file, moved as whole runs. The cost is O(file) copying and hashing plus O(changed)
/// work (FORMAT.md §17), instead of re-laying out every symbol, function and relocation.
/// </summary>
/// <remarks>
/// The result is the file <see cref="CacheBuilder"/> would write for the same module whenever the functions
/// of each unchanged run share one alignment (runs move by a multiple of their largest alignment). The
/// symbol set does not change: adding, removing or renaming functions needs a <see cref="CacheBuilder"/>.
/// The caller decides what is current: functions whose callee's signature changed, or that depend on a
/// replaced body's content, must be replaced too, or a loader will find them stale [LOAD-5] [DEP-2].
/// </remarks>
public sealed class CacheRewriter
{
    private static readonly byte[] Zeros = new byte[FormatConstants.MaxAlignment];
    private static readonly byte[] CodePadding = CreateCodePadding();

    private readonly CacheImage _old;
    private readonly SortedDictionary<int, Replacement> _replacements = [];
    private readonly Dictionary<uint, byte[]> _privateSections = [];
    private readonly Dictionary<string, ulong> _fingerprintIntegers = new(StringComparer.Ordinal);

    /// <param name="previous">The validated previous version. Keep it open until the rewritten file is written:
    /// the result refers to its bytes.</param>
    public CacheRewriter(CacheImage previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        if (previous.HasSection(SectionKind.Signature))
            throw new ArgumentException("a signed file cannot be edited in place: rebuild it with CacheBuilder and sign it again", nameof(previous));
        if (previous.Header.MinorVersion > FormatConstants.MinorVersion || previous.Header.RequiredFlags != 0)
            throw new ArgumentException($"the file is format {previous.Header.MajorVersion}.{previous.Header.MinorVersion}, newer than this writer: rebuild it", nameof(previous));
        _old = previous;
    }

    /// <summary>Prelink the new code for the canonical layout, as <see cref="CacheBuilder.Prelink"/> does (on by default,
    /// so that an edited file is the file a fresh build writes).</summary>
    public bool Prelink { get; set; } = true;

    /// <summary>How the rewritten declaration table is ordered. <see cref="DeclarationOrder.AsAdded"/> (the default)
    /// keeps the old table and appends new function types; <see cref="DeclarationOrder.ByEncoding"/> rebuilds it as
    /// <see cref="CacheBuilder"/> does with that order, dropping types no symbol uses any more.</summary>
    public DeclarationOrder DeclarationOrder { get; set; }

    /// <summary>
    /// Gives function <paramref name="function"/> (its index in the previous file's function table) a new body: new
    /// code, relocations, dependencies and possibly a new signature. The function keeps its name, linkage and place.
    /// Relocations and dependencies must name symbols of the file (<see cref="RelocationRules.CheckTargets"/>); a
    /// relocation whose expected signature hash is null records its target's declaration after the edit.
    /// </summary>
    public void ReplaceFunction(int function, FunctionBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if ((uint)function >= (uint)_old.Functions.Length)
            throw new ArgumentOutOfRangeException(nameof(function), function, $"the file has {_old.Functions.Length} functions");
        string name = _old.SymbolName((int)_old.Functions[function].Symbol);
        if (RelocationRules.CheckTargets(body.Relocations.AsSpan(), _old) is { } problem)
            throw new ArgumentException($"'{name}': {problem}", nameof(body));
        var relocations = new ResolvedRelocation[body.Relocations.Length];
        for (int i = 0; i < relocations.Length; i++)
        {
            Relocation r = body.Relocations[i];
            relocations[i] = new ResolvedRelocation(r.Offset, r.Kind, _old.FindSymbol(r.Target), r.Addend, r.ExpectedSignatureHash);
        }
        var dependencies = new List<(int Target, DependencyKind Kind, ContentHash Expected)>();
        foreach (Dependency d in body.Dependencies)
        {
            int target = _old.FindSymbol(d.Target);
            DependencyKind kind = target < 0 ? 0 : DependencyRules.KindFor(_old.Symbols[target].Kind);
            if (kind == 0)
                throw new ArgumentException($"'{name}' depends on '{d.Target}', which is not a function or data object of the file [DEP-1]", nameof(body));
            if (dependencies.Exists(x => x.Target == target))
                throw new ArgumentException($"'{name}' depends on '{d.Target}' twice [DEP-1]", nameof(body));
            dependencies.Add((target, kind, d.ExpectedContentHash));
        }
        _replacements[function] = new Replacement(body, relocations, dependencies);
    }

    /// <summary>Gives the function named <paramref name="name"/> a new body (see <see cref="ReplaceFunction(int, FunctionBody)"/>).</summary>
    public void ReplaceFunction(string name, FunctionBody body)
    {
        int function = _old.FindFunction(name);
        if (function < 0) throw new ArgumentException($"the file has no function named '{name}'", nameof(name));
        ReplaceFunction(function, body);
    }

    /// <summary>Replaces the bytes of an existing producer-private section (FORMAT.md §4).</summary>
    public void ReplacePrivateSection(uint kind, ReadOnlySpan<byte> bytes)
    {
        if (kind < CacheBuilder.FirstPrivateSectionKind || !_old.TryGetSection(kind, out _))
            throw new ArgumentException($"the file has no private section of kind 0x{kind:x}", nameof(kind));
        _privateSections[kind] = bytes.ToArray();
    }

    /// <summary>Sets the value of an existing integer fingerprint component (e.g. a front end's module hash).</summary>
    public void SetFingerprintInteger(string key, ulong value)
    {
        foreach (FingerprintComponent c in _old.Fingerprint)
            if (c.ValueKind == FingerprintValueKind.Integer && _old.GetString(c.Key) == key)
            {
                _fingerprintIntegers[key] = value;
                return;
            }
        throw new ArgumentException($"the file has no integer fingerprint component '{key}'", nameof(key));
    }

    /// <summary>Lays out the new version.</summary>
    public RewrittenFile Build()
    {
        ReadOnlyMemory<byte> file = _old.FileMemory;
        var content = new Dictionary<uint, (List<ReadOnlyMemory<byte>> Pieces, long Length)>();
        ulong? fingerprintHash = null;

        if (DeclarationOrder == DeclarationOrder.ByEncoding) RebuildDeclarations(content);
        else AppendDeclarations(content);

        // Functions, code and relocations: runs of unchanged functions move as one block each.
        ReadOnlySpan<FunctionRecord> oldFunctions = _old.Functions;
        var functions = new FunctionRecord[oldFunctions.Length];
        var code = new List<ReadOnlyMemory<byte>>();
        var relocations = new List<ReadOnlyMemory<byte>>();
        ReadOnlyMemory<byte> oldCode = Slice(file, SectionKind.Code);
        ReadOnlyMemory<byte> oldRelocations = Slice(file, SectionKind.Relocations);
        long codeCursor = 0, relocationCursor = 0;
        var blocks = new List<CodeBlock>(); // where each piece of the new code comes from, for prelinking
        for (int k = 0; k < oldFunctions.Length;)
        {
            if (_replacements.TryGetValue(k, out Replacement? replacement))
            {
                FunctionBody r = replacement.Body;
                long offset = AlignUp(codeCursor, r.Alignment);
                AddPadding(code, offset - codeCursor, CodePadding);
                blocks.Add(new CodeBlock(code.Count, k, k + 1, -1));
                code.Add(ImmutableCollectionsMarshal.AsArray(r.Code));
                FunctionRecord old = oldFunctions[k];
                functions[k] = new FunctionRecord(old.Symbol, (uint)offset, (uint)r.Code.Length, (uint)r.Alignment, (uint)relocationCursor,
                    (uint)r.Relocations.Length, r.RequiredCpuFeatures, r.ContentHash);
                if (replacement.Relocations.Length > 0) relocations.Add(Records(replacement.Relocations));
                codeCursor = offset + r.Code.Length;
                relocationCursor += r.Relocations.Length;
                k++;
                continue;
            }
            int end = k;
            uint largest = 1;
            while (end < oldFunctions.Length && !_replacements.ContainsKey(end)) largest = Math.Max(largest, oldFunctions[end++].Alignment);
            FunctionRecord first = oldFunctions[k], last = oldFunctions[end - 1];
            // The smallest start at or after the cursor that keeps every function of the run on its alignment.
            long start = codeCursor + Mod(first.CodeOffset - codeCursor, largest);
            AddPadding(code, start - codeCursor, CodePadding);
            blocks.Add(new CodeBlock(code.Count, k, end, first.CodeOffset));
            code.Add(oldCode[(int)first.CodeOffset..(int)(last.CodeOffset + last.CodeSize)]);
            long delta = start - first.CodeOffset;
            long relocationStart = first.FirstRelocation, relocationEnd = last.FirstRelocation + (long)last.RelocationCount;
            if (relocationEnd > relocationStart)
                relocations.Add(oldRelocations[(int)(relocationStart * RelocationRecord.RecordSize)..(int)(relocationEnd * RelocationRecord.RecordSize)]);
            long relocationDelta = relocationCursor - relocationStart;
            for (int i = k; i < end; i++)
            {
                FunctionRecord f = oldFunctions[i];
                functions[i] = new FunctionRecord(f.Symbol, (uint)(f.CodeOffset + delta), f.CodeSize, f.Alignment,
                    (uint)(f.FirstRelocation + relocationDelta), f.RelocationCount, f.RequiredCpuFeatures, f.ContentHash);
            }
            codeCursor = last.CodeOffset + last.CodeSize + delta;
            relocationCursor += relocationEnd - relocationStart;
            k = end;
        }
        content[(uint)SectionKind.Functions] = One(MemoryMarshal.AsBytes(functions.AsSpan()).ToArray());
        bool prelinked = Prelink && PrelinkCode(code, blocks, functions, codeCursor);
        content[(uint)SectionKind.Code] = (code, codeCursor);

        // Data objects' relocations follow the functions' [REL-2]: they move by the change in count.
        long oldFunctionRelocations = oldFunctions.Length == 0 ? 0 : oldFunctions[^1].FirstRelocation + (long)oldFunctions[^1].RelocationCount;
        long dataRelocationDelta = relocationCursor - oldFunctionRelocations;
        long totalRelocations = relocationCursor + (_old.Relocations.Length - oldFunctionRelocations);
        if (oldFunctionRelocations < _old.Relocations.Length)
            relocations.Add(oldRelocations[(int)(oldFunctionRelocations * RelocationRecord.RecordSize)..]);
        content[(uint)SectionKind.Relocations] = (relocations, totalRelocations * RelocationRecord.RecordSize);
        if (dataRelocationDelta != 0)
        {
            DataObjectRecord[] data = _old.DataObjects.ToArray();
            for (int i = 0; i < data.Length; i++)
            {
                DataObjectRecord d = data[i];
                data[i] = new DataObjectRecord(d.Symbol, d.Kind, d.Offset, d.Size, d.Alignment, (uint)(d.FirstRelocation + dataRelocationDelta), d.RelocationCount, d.ContentHash);
            }
            content[(uint)SectionKind.DataObjects] = One(MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        }

        // Dependencies: a replaced function's are its new body's. The table is rebuilt only when that changes it.
        bool changesDependencies = false;
        foreach (DependencyRecord d in _old.Dependencies) changesDependencies |= _replacements.ContainsKey((int)d.Function);
        foreach (Replacement r in _replacements.Values) changesDependencies |= r.Dependencies.Count > 0;
        if (changesDependencies)
        {
            var next = new List<DependencyRecord>();
            foreach (DependencyRecord d in _old.Dependencies)
                if (!_replacements.ContainsKey((int)d.Function)) next.Add(d);
            foreach (var (function, r) in _replacements)
                foreach (var (target, kind, expected) in r.Dependencies)
                    next.Add(new DependencyRecord((uint)function, (uint)target, kind, expected));
            next.Sort((x, y) => x.Function != y.Function ? x.Function.CompareTo(y.Function) : x.Target.CompareTo(y.Target)); // [DEP-1]
            content[(uint)SectionKind.Dependencies] = One(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(next)).ToArray());
        }

        if (_fingerprintIntegers.Count > 0)
        {
            FingerprintComponent[] components = _old.Fingerprint.ToArray();
            for (int i = 0; i < components.Length; i++)
                if (components[i].ValueKind == FingerprintValueKind.Integer && _fingerprintIntegers.TryGetValue(_old.GetString(components[i].Key), out ulong value))
                    components[i] = new FingerprintComponent(components[i].Key, components[i].ValueKind, components[i].Match, value);
            byte[] bytes = MemoryMarshal.AsBytes(components.AsSpan()).ToArray();
            content[(uint)SectionKind.Fingerprint] = One(bytes);
            fingerprintHash = Checksums.CodegenFingerprint(bytes);
        }
        foreach (var (kind, bytes) in _privateSections) content[kind] = One(bytes);

        // Unwind information: rebuilt whenever the file has some or a replacement brings some, since every FDE names
        // its function's code offset. O(functions), and the file the builder would write [UNW-4].
        bool unwind = false;
        if (_old.HasUnwindInfo || _replacements.Values.Any(r => r.Body.Unwind is not null))
        {
            byte[] section = UnwindSection(functions, out unwind);
            content[(uint)SectionKind.Unwind] = unwind ? One(section) : ([], 0);
        }

        return Assemble(file, content, fingerprintHash, prelinked, unwind);
    }

    /// <summary>The Unwind section after the edit: each function's CFA program from its replacement or the old file.</summary>
    private byte[] UnwindSection(FunctionRecord[] functions, out bool any)
    {
        ReadOnlyMemory<byte> oldCfi = _old.UnwindCfi;
        var frames = new FrameDescription?[functions.Length];
        any = false;
        for (int k = 0; k < functions.Length; k++)
        {
            ReadOnlyMemory<byte> program;
            if (_replacements.TryGetValue(k, out Replacement? r))
            {
                if (r.Body.Unwind is not { } unwind) continue;
                program = unwind.Program.AsMemory();
            }
            else
            {
                int fde = _old.UnwindEntry(k);
                if (fde < 0) continue;
                program = oldCfi.Slice(fde + UnwindRules.FdeHeaderSize, UnwindRules.FdeProgram(oldCfi.Span, fde).Length);
            }
            frames[k] = new FrameDescription(functions[k].CodeOffset, functions[k].CodeSize, program);
            any = true;
        }
        return any ? UnwindRules.BuildSection(frames) : [];
    }

    /// <summary>A piece of the new code section: <see cref="Piece"/> of the code list holds functions
    /// [<see cref="First"/>, <see cref="End"/>), copied from <see cref="OldOffset"/> in the old code (−1: a replacement's body).</summary>
    private readonly record struct CodeBlock(int Piece, int First, int End, long OldOffset);

    /// <summary>
    /// Stores the canonical layout's values in the new code's PC-relative fields (FORMAT.md §16.2): only the functions
    /// whose fields change are copied and patched, every other run stays a slice of the old file. An edit that keeps
    /// sizes moves nothing, and an edit that changes one function's size moves only the code after it, so the fields
    /// that change are the ones that reach across it. False, with <paramref name="code"/> untouched, when a value
    /// does not fit 32 bits: the file is then written without the flag.
    /// </summary>
    private bool PrelinkCode(List<ReadOnlyMemory<byte>> code, List<CodeBlock> blocks, FunctionRecord[] functions, long codeSize)
    {
        ReadOnlySpan<SymbolRecord> symbols = _old.Symbols;
        ReadOnlySpan<DataObjectRecord> data = _old.DataObjects;
        ReadOnlySpan<FunctionRecord> oldFunctions = _old.Functions;
        ReadOnlySpan<byte> oldCode = _old.Code;
        // The slots depend only on which defined symbols a SlotPcRel32 reaches: the old table's, less the replaced
        // functions', plus the replacements'.
        var slotRelocations = new List<RelocationRecord>();
        ReadOnlySpan<RelocationRecord> oldRelocations = _old.Relocations;
        for (int f = 0; f < oldFunctions.Length; f++)
            if (!_replacements.ContainsKey(f))
                foreach (RelocationRecord r in oldRelocations.Slice((int)oldFunctions[f].FirstRelocation, (int)oldFunctions[f].RelocationCount))
                    if (r.Kind == RelocationKind.SlotPcRel32) slotRelocations.Add(r);
        foreach (DataObjectRecord d in data)
            foreach (RelocationRecord r in _old.RelocationsOf(d))
                if (r.Kind == RelocationKind.SlotPcRel32) slotRelocations.Add(r);
        foreach (Replacement replacement in _replacements.Values)
            foreach (ResolvedRelocation r in replacement.Relocations)
                if (r.Kind == RelocationKind.SlotPcRel32) slotRelocations.Add(new RelocationRecord((uint)r.Offset, r.Kind, (uint)r.Target, r.Addend, 0));
        CanonicalLayout layout = CanonicalLayout.Compute(codeSize, symbols, data, _old.ZeroFillSize, CollectionsMarshal.AsSpan(slotRelocations));

        // Every field's value; the functions holding a field that differs from what their bytes say get patched copies.
        var patches = new Dictionary<int, List<(int Offset, RelocationKind Kind, int Value)>>();
        foreach (CodeBlock block in blocks)
            for (int k = block.First; k < block.End; k++)
            {
                bool replaced = _replacements.TryGetValue(k, out Replacement? replacement);
                ReadOnlySpan<byte> bytes = replaced ? replacement!.Body.Code.AsSpan() : oldCode.Slice((int)oldFunctions[k].CodeOffset, (int)oldFunctions[k].CodeSize);
                RelocationRecord[] own = replaced ? [.. replacement!.Relocations.Select(r => new RelocationRecord((uint)r.Offset, r.Kind, (uint)r.Target, r.Addend, 0))]
                    : oldRelocations.Slice((int)oldFunctions[k].FirstRelocation, (int)oldFunctions[k].RelocationCount).ToArray();
                foreach (RelocationRecord r in own)
                {
                    if (r.Kind == RelocationKind.Absolute64) continue;
                    if (!layout.TryPrelink(r, functions[k], symbols, functions, data, out int value)) return false;
                    if (System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes[(int)r.Offset..]) == value) continue;
                    if (!patches.TryGetValue(k, out var list)) patches[k] = list = [];
                    list.Add(((int)r.Offset, r.Kind, value));
                }
            }
        if (patches.Count == 0) return true;

        // Rebuild the piece list: runs split around patched functions, each patched function a fresh copy.
        var rebuilt = new List<ReadOnlyMemory<byte>>(code.Count + 2 * patches.Count);
        int next = 0;
        foreach (CodeBlock block in blocks)
        {
            while (next < block.Piece) rebuilt.Add(code[next++]); // padding before the block
            ReadOnlyMemory<byte> piece = code[next++];
            if (block.OldOffset < 0)
            {
                rebuilt.Add(patches.TryGetValue(block.First, out var own) ? Patched(piece.Span, own) : piece);
                continue;
            }
            long at = block.OldOffset; // the old offset the piece's remaining bytes start at
            for (int k = block.First; k < block.End; k++)
            {
                if (!patches.TryGetValue(k, out var own)) continue;
                FunctionRecord f = oldFunctions[k];
                if (f.CodeOffset > at) rebuilt.Add(piece[(int)(at - block.OldOffset)..(int)(f.CodeOffset - block.OldOffset)]);
                rebuilt.Add(Patched(oldCode.Slice((int)f.CodeOffset, (int)f.CodeSize), own));
                at = f.CodeOffset + f.CodeSize;
            }
            if (at - block.OldOffset < piece.Length) rebuilt.Add(piece[(int)(at - block.OldOffset)..]);
        }
        while (next < code.Count) rebuilt.Add(code[next++]);
        code.Clear();
        code.AddRange(rebuilt);
        return true;
    }

    private static byte[] Patched(ReadOnlySpan<byte> bytes, List<(int Offset, RelocationKind Kind, int Value)> patches)
    {
        byte[] copy = bytes.ToArray();
        foreach (var (offset, kind, value) in patches) RelocationRules.Store(copy.AsSpan(offset), kind, value);
        return copy;
    }

    /// <summary>Header, directory and sections in the old order; sections not in <paramref name="content"/> are copied
    /// with their checksums. Empty sections are left out, as a writer should.</summary>
    private RewrittenFile Assemble(ReadOnlyMemory<byte> file, Dictionary<uint, (List<ReadOnlyMemory<byte>> Pieces, long Length)> content, ulong? fingerprintHash, bool prelinked, bool unwind)
    {
        var entries = new List<SectionEntry>();
        var bodies = new List<List<ReadOnlyMemory<byte>>>();
        foreach (SectionEntry old in _old.Directory)
        {
            if (content.TryGetValue(old.Kind, out var changed))
            {
                if (changed.Length == 0) continue;
                SectionEntry entry = old;
                entry.Size = (ulong)changed.Length;
                entry.Checksum = RewrittenFile.Hash(changed.Pieces);
                entries.Add(entry);
                bodies.Add(changed.Pieces);
                content.Remove(old.Kind);
            }
            else
            {
                entries.Add(old);
                bodies.Add([file.Slice((int)old.Offset, (int)old.Size)]);
            }
        }
        // A table the old file did not need (e.g. its first relocation or a new declaration) goes before the code.
        foreach (var (kind, added) in content.OrderBy(c => c.Key))
        {
            if (added.Length == 0) continue;
            // Unwind information the old file did not have goes where the builder puts it: after the 1.0 sections,
            // before producer-private ones, and optional (FORMAT.md §19).
            bool optional = kind == (uint)SectionKind.Unwind;
            int before = optional ? entries.FindIndex(e => e.Kind >= CacheBuilder.FirstPrivateSectionKind) : entries.FindIndex(e => e.Kind == (uint)SectionKind.Code);
            if (before < 0) before = entries.Count;
            entries.Insert(before, new SectionEntry { Kind = kind, Flags = optional ? (uint)SectionFlags.None : (uint)SectionFlags.Required, Size = (ulong)added.Length, Alignment = 8, Checksum = RewrittenFile.Hash(added.Pieces) });
            bodies.Insert(before, added.Pieces);
        }

        var headerAndDirectory = new byte[FormatConstants.DirectoryOffset + entries.Count * SectionEntry.RecordSize];
        var pieces = new List<ReadOnlyMemory<byte>> { headerAndDirectory };
        long cursor = headerAndDirectory.Length;
        for (int i = 0; i < entries.Count; i++)
        {
            SectionEntry e = entries[i];
            long offset = AlignUp(cursor, e.Alignment);
            AddPadding(pieces, offset - cursor, Zeros);
            e.Offset = (ulong)offset;
            entries[i] = e;
            pieces.AddRange(bodies[i]);
            cursor = offset + (long)e.Size;
        }
        if (cursor > FormatConstants.MaxFileSize)
            throw new CacheBuildException([$"the rewritten file would be {cursor} bytes, more than a file may hold [LIM-2]"]);

        FileHeader header = _old.Header;
        header.FileSize = (ulong)cursor;
        header.FileChecksum = 0;
        header.SectionCount = (uint)entries.Count;
        if (fingerprintHash is { } h) header.CodegenFingerprint = h;
        // As the builder would: 1.3 with unwind information, else 1.2 with the flag when prelinked, else 1.0 (signed
        // files are refused above) [REC-10].
        header.OptionalFlags = prelinked ? header.OptionalFlags | (uint)OptionalFlags.Prelinked : header.OptionalFlags & ~(uint)OptionalFlags.Prelinked;
        header.MinorVersion = (ushort)(unwind ? 3 : prelinked ? 2 : 0);
        MemoryMarshal.Write(headerAndDirectory, in header);
        MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(entries)).CopyTo(headerAndDirectory.AsSpan(FormatConstants.DirectoryOffset));
        // The checksum covers every byte with its own field taken as zero [INT-1]: hash with zero, then store it.
        ulong checksum = RewrittenFile.Hash(pieces);
        BitConverter.TryWriteBytes(headerAndDirectory.AsSpan(FormatConstants.FileChecksumOffset, 8), checksum);
        return new RewrittenFile(pieces, cursor);
    }

    /// <summary>Declarations as added: a replacement may need a function type the file does not have yet; it is
    /// appended, and the replaced function's symbol points at it.</summary>
    private void AppendDeclarations(Dictionary<uint, (List<ReadOnlyMemory<byte>> Pieces, long Length)> content)
    {
        ReadOnlyMemory<byte> file = _old.FileMemory;
        // Declarations: a replacement may need a function type the file does not have yet; it is appended.
        var declarations = new List<DeclarationRecord>(_old.Declarations.ToArray());
        var signatureBytes = new List<byte>();
        var declarationOf = new Dictionary<int, int>();
        foreach (var (function, replacement) in _replacements)
        {
            Signature signature = replacement.Body.Signature;
            int d = FindDeclaration(declarations, signatureBytes, signature);
            if (d < 0)
            {
                declarations.Add(new DeclarationRecord((uint)(_old.SignatureBytes.Length + signatureBytes.Count), (uint)signature.Encoding.Length, signature.Hash));
                signatureBytes.AddRange(signature.Encoding);
                d = declarations.Count - 1;
            }
            declarationOf[function] = d;
        }
        if (signatureBytes.Count > 0)
        {
            content[(uint)SectionKind.Signatures] = Concat(Slice(file, SectionKind.Signatures), signatureBytes.ToArray());
            content[(uint)SectionKind.Declarations] = One(MemoryMarshal.AsBytes(declarations.ToArray().AsSpan()).ToArray());
        }

        // Symbols: a replaced function whose type changed points at its new declaration.
        ReadOnlySpan<FunctionRecord> oldFunctions = _old.Functions;
        SymbolRecord[]? symbols = null;
        foreach (var (function, d) in declarationOf)
        {
            int s = (int)oldFunctions[function].Symbol;
            SymbolRecord old = _old.Symbols[s];
            if (old.Declaration == (uint)d) continue;
            symbols ??= _old.Symbols.ToArray();
            symbols[s] = new SymbolRecord(old.Name, old.Kind, old.Linkage, (uint)d, old.Definition);
        }
        if (symbols is not null) content[(uint)SectionKind.Symbols] = One(MemoryMarshal.AsBytes(symbols.AsSpan()).ToArray());
    }

    /// <summary>Declarations by encoding: the types the symbols use after the replacements, sorted bytewise, and every
    /// function symbol pointed at its type's new index (<see cref="DeclarationOrder.ByEncoding"/>).</summary>
    private void RebuildDeclarations(Dictionary<uint, (List<ReadOnlyMemory<byte>> Pieces, long Length)> content)
    {
        ReadOnlySpan<byte> oldBytes = _old.SignatureBytes;
        ReadOnlySpan<DeclarationRecord> oldDeclarations = _old.Declarations;
        ReadOnlySpan<SymbolRecord> oldSymbols = _old.Symbols;
        ReadOnlySpan<FunctionRecord> oldFunctions = _old.Functions;
        // Each symbol's type after the edit, as the index of a distinct encoding; only used types are interned.
        var encodings = new List<byte[]>();
        var byEncoding = new Dictionary<string, int>(StringComparer.Ordinal);
        int Intern(ReadOnlySpan<byte> encoding)
        {
            string key = Convert.ToBase64String(encoding);
            if (!byEncoding.TryGetValue(key, out int e))
            {
                byEncoding.Add(key, e = encodings.Count);
                encodings.Add(encoding.ToArray());
            }
            return e;
        }
        var fromOld = new int[oldDeclarations.Length];
        Array.Fill(fromOld, -1);
        var replaced = new Dictionary<int, int>(); // symbol -> type
        foreach (var (function, r) in _replacements) replaced[(int)oldFunctions[function].Symbol] = Intern(r.Body.Signature.Encoding.AsSpan());
        var typeOf = new int[oldSymbols.Length];
        for (int s = 0; s < oldSymbols.Length; s++)
        {
            uint d = oldSymbols[s].Declaration;
            if (replaced.TryGetValue(s, out int e)) typeOf[s] = e;
            else if (d == FormatConstants.NoIndex) typeOf[s] = -1;
            else
            {
                DeclarationRecord old = oldDeclarations[(int)d];
                if (fromOld[d] < 0) fromOld[d] = Intern(oldBytes.Slice((int)old.SignatureOffset, (int)old.SignatureLength));
                typeOf[s] = fromOld[d];
            }
        }
        var order = new int[encodings.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) => DeclarationOrders.Compare(encodings[x], encodings[y]));
        var rank = new int[order.Length];
        var declarations = new DeclarationRecord[order.Length];
        var signatureBytes = new List<byte>();
        for (int k = 0; k < order.Length; k++)
        {
            byte[] encoding = encodings[order[k]];
            rank[order[k]] = k;
            declarations[k] = new DeclarationRecord((uint)signatureBytes.Count, (uint)encoding.Length, Signature.HashEncoding(encoding));
            signatureBytes.AddRange(encoding);
        }
        // Sections are replaced only when they differ: an edit that keeps every type leaves them as slices.
        bool same = declarations.Length == oldDeclarations.Length && CollectionsMarshal.AsSpan(signatureBytes).SequenceEqual(oldBytes);
        for (int k = 0; same && k < declarations.Length; k++)
            same = declarations[k].SignatureOffset == oldDeclarations[k].SignatureOffset && declarations[k].SignatureLength == oldDeclarations[k].SignatureLength;
        if (!same)
        {
            content[(uint)SectionKind.Signatures] = One(signatureBytes.ToArray());
            content[(uint)SectionKind.Declarations] = One(MemoryMarshal.AsBytes(declarations.AsSpan()).ToArray());
        }
        SymbolRecord[]? symbols = null;
        for (int s = 0; s < oldSymbols.Length; s++)
        {
            if (typeOf[s] < 0) continue;
            SymbolRecord old = oldSymbols[s];
            uint d = (uint)rank[typeOf[s]];
            if (old.Declaration == d) continue;
            symbols ??= oldSymbols.ToArray();
            symbols[s] = new SymbolRecord(old.Name, old.Kind, old.Linkage, d, old.Definition);
        }
        if (symbols is not null) content[(uint)SectionKind.Symbols] = One(MemoryMarshal.AsBytes(symbols.AsSpan()).ToArray());
    }

    private int FindDeclaration(List<DeclarationRecord> declarations, List<byte> appended, Signature signature)
    {
        ReadOnlySpan<byte> oldBytes = _old.SignatureBytes;
        for (int d = 0; d < declarations.Count; d++)
        {
            DeclarationRecord r = declarations[d];
            if (r.SignatureHash != signature.Hash || r.SignatureLength != signature.Encoding.Length) continue;
            ReadOnlySpan<byte> bytes = r.SignatureOffset < oldBytes.Length
                ? oldBytes.Slice((int)r.SignatureOffset, (int)r.SignatureLength)
                : CollectionsMarshal.AsSpan(appended).Slice((int)r.SignatureOffset - oldBytes.Length, (int)r.SignatureLength);
            if (bytes.SequenceEqual(signature.Encoding.AsSpan())) return d;
        }
        return -1;
    }

    private ReadOnlyMemory<byte> Slice(ReadOnlyMemory<byte> file, SectionKind kind) =>
        _old.HasSection(kind) ? file.Slice(_old.SectionOffset(kind), SectionLength(kind)) : ReadOnlyMemory<byte>.Empty;

    private int SectionLength(SectionKind kind)
    {
        foreach (SectionEntry e in _old.Directory)
            if (e.Kind == (uint)kind) return (int)e.Size;
        return 0;
    }

    /// <summary>Relocation records of a replacement; a null expected signature hash records the target's signature
    /// after the edit (a replaced function's new one).</summary>
    private byte[] Records(ResolvedRelocation[] relocations)
    {
        var records = new RelocationRecord[relocations.Length];
        for (int i = 0; i < records.Length; i++)
        {
            ResolvedRelocation r = relocations[i];
            records[i] = new RelocationRecord((uint)r.Offset, r.Kind, (uint)r.Target, r.Addend, r.ExpectedSignatureHash ?? SignatureHashAfterEdit(r.Target));
        }
        return MemoryMarshal.AsBytes(records.AsSpan()).ToArray();
    }

    private ulong SignatureHashAfterEdit(int symbol)
    {
        SymbolRecord s = _old.Symbols[symbol];
        if (!RelocationRules.IsCallable(s.Kind)) return 0;
        if (s.Kind == SymbolKind.Function && _replacements.TryGetValue((int)s.Definition, out Replacement? r)) return r.Body.Signature.Hash;
        return _old.Declarations[(int)s.Declaration].SignatureHash;
    }

    private readonly record struct ResolvedRelocation(int Offset, RelocationKind Kind, int Target, long Addend, ulong? ExpectedSignatureHash);

    private sealed record Replacement(FunctionBody Body, ResolvedRelocation[] Relocations, List<(int Target, DependencyKind Kind, ContentHash Expected)> Dependencies);

    private static (List<ReadOnlyMemory<byte>>, long) One(byte[] bytes) => ([bytes], bytes.Length);

    private static (List<ReadOnlyMemory<byte>>, long) Concat(ReadOnlyMemory<byte> first, byte[] second) => ([first, second], first.Length + second.Length);

    private static void AddPadding(List<ReadOnlyMemory<byte>> pieces, long length, byte[] fill)
    {
        if (length > 0) pieces.Add(fill.AsMemory(0, (int)length));
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static long Mod(long value, long modulus) => ((value % modulus) + modulus) % modulus;

    private static byte[] CreateCodePadding()
    {
        var bytes = new byte[FormatConstants.MaxAlignment];
        Array.Fill(bytes, FormatConstants.CodePadding);
        return bytes;
    }
}
