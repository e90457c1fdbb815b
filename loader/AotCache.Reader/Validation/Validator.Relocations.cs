using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AotCache.Format;
using D = AotCache.Format.DataObjectRecord.At;
using F = AotCache.Format.FunctionRecord.At;
using R = AotCache.Format.RelocationRecord.At;

namespace AotCache.Reader;

internal ref partial struct Validator
{
    // ---- §14 step 16: relocations -------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckRelocations()
    {
        ReadOnlySpan<RelocationRecord> relocations = Table<RelocationRecord>(SectionKind.Relocations);
        ReadOnlySpan<FunctionRecord> functions = Table<FunctionRecord>(SectionKind.Functions);
        ReadOnlySpan<DataObjectRecord> data = Table<DataObjectRecord>(SectionKind.DataObjects);
        long functionsAt = SectionStart(SectionKind.Functions);
        long dataAt = SectionStart(SectionKind.DataObjects);
        // A prelinked file's code is checked against the canonical layout as each function's relocations are [REL-10].
        var prelinked = new Prelinked(this, relocations);
        uint cursor = 0;
        for (int i = 0; i < functions.Length; i++)
        {
            ref readonly FunctionRecord f = ref functions[i];
            CheckRange(f.FirstRelocation, f.RelocationCount, ref cursor, relocations.Length, functionsAt + (long)i * FunctionRecord.RecordSize + F.FirstRelocation, true, i);
            ReadOnlySpan<RelocationRecord> own = relocations.Slice((int)f.FirstRelocation, (int)f.RelocationCount);
            CheckOwnerRelocations(own, (int)f.FirstRelocation, f.CodeSize, true, i);
            if (prelinked.Layout is not null) prelinked.Check(own, (int)f.FirstRelocation, in f, i);
        }
        Layout = prelinked.Layout;
        for (int i = 0; i < data.Length; i++)
        {
            ref readonly DataObjectRecord d = ref data[i];
            CheckRange(d.FirstRelocation, d.RelocationCount, ref cursor, relocations.Length, dataAt + (long)i * DataObjectRecord.RecordSize + D.FirstRelocation, false, i);
            CheckOwnerRelocations(relocations.Slice((int)d.FirstRelocation, (int)d.RelocationCount), (int)d.FirstRelocation, d.Size, false, i);
        }
        if (cursor != (uint)relocations.Length)
            throw Fail(ErrorCode.BadRelocationRange, SectionStart(SectionKind.Relocations) + (long)cursor * RelocationRecord.RecordSize,
                $"relocations {cursor}..{relocations.Length - 1} belong to no function or data object");
    }

    private static string OwnerName(bool isFunction, int index) => isFunction ? $"function {index}" : $"data object {index}";

    /// <summary>
    /// The prelinked check [REL-10]: in a file with the Prelinked flag, every PC-relative field of a function holds
    /// S + A − P of the canonical layout (FORMAT.md §16.2), read as a little-endian 32-bit value. Runs right after a
    /// function's relocations passed the other checks, so targets and fields are known to be in range.
    /// </summary>
    private readonly ref struct Prelinked
    {
        private readonly ReadOnlySpan<byte> _code;
        private readonly long _codeAt, _relocationsAt;
        private readonly ReadOnlySpan<SymbolRecord> _symbols;
        private readonly ReadOnlySpan<FunctionRecord> _functions;
        private readonly ReadOnlySpan<DataObjectRecord> _data;
        public readonly CanonicalLayout? Layout;

        public Prelinked(in Validator v, ReadOnlySpan<RelocationRecord> relocations)
        {
            _code = v.Bytes(SectionKind.Code);
            _codeAt = v.SectionStart(SectionKind.Code);
            _relocationsAt = v.SectionStart(SectionKind.Relocations);
            _symbols = v.Table<SymbolRecord>(SectionKind.Symbols);
            _functions = v.Table<FunctionRecord>(SectionKind.Functions);
            _data = v.Table<DataObjectRecord>(SectionKind.DataObjects);
            ref readonly FileHeader h = ref MemoryMarshal.AsRef<FileHeader>(v._file[..FormatConstants.HeaderSize]);
            // The layout's slot list reads SlotPcRel32 targets before their records are checked: only in-range ones count,
            // and a file with any other kind of breach fails that check before its layout is ever used.
            Layout = (h.OptionalFlags & (uint)OptionalFlags.Prelinked) == 0 ? null
                : CanonicalLayout.Compute(_code.Length, _symbols, _data, v.ZeroFillSize, relocations);
        }

        public void Check(ReadOnlySpan<RelocationRecord> relocations, int firstIndex, in FunctionRecord f, int function)
        {
            CanonicalLayout layout = Layout!;
            for (int k = 0; k < relocations.Length; k++)
            {
                ref readonly RelocationRecord r = ref relocations[k];
                if (r.Kind == RelocationKind.Absolute64) continue;
                long fieldAt = (long)f.CodeOffset + r.Offset;
                int stored = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(_code[(int)fieldAt..]);
                bool fits = layout.TryPrelink(r, f, _symbols, _functions, _data, out int expected);
                if (fits && stored == expected) continue;
                throw Fail(ErrorCode.PrelinkMismatch, _codeAt + fieldAt, fits
                    ? $"function {function}: the prelinked {r.Kind} field at +{r.Offset} (relocation {firstIndex + k}) holds 0x{stored:x8}, but the canonical layout gives 0x{expected:x8}"
                    : $"function {function}: the {r.Kind} field at +{r.Offset} (relocation {firstIndex + k}) cannot be prelinked: its value does not fit 32 bits");
            }
        }
    }

    /// <param name="at">File offset of the owner's first-relocation field; its count field follows at +4.</param>
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
        int stale = 0, absolute = 0;
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
                || (width == 4 && !RelocationRules.AddendFits(r.Kind, r.Addend))
                || (r.ExpectedSignatureHash != 0 && !callable))
                FailRelocation(relocations, firstIndex, k, ownerSize, isFunction, ownerIndex, previousEnd);
            // A callable target's declaration index was checked with the symbols [SYM-3].
            if (r.ExpectedSignatureHash != 0 && declarations[(int)target.Declaration].SignatureHash != r.ExpectedSignatureHash) stale++;
            if (r.Kind == RelocationKind.Absolute64) absolute++;
            previousEnd = end;
        }
        StaleSignatureReferences += stale;
        if (isFunction) CodeAbsoluteRelocations += absolute;
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
        if (r.Reserved0 != 0) throw Fail(ErrorCode.ReservedNotZero, at + R.Reserved0, $"relocation {index}: reserved field is not zero");
        if (r.Reserved1 != 0) throw Fail(ErrorCode.ReservedNotZero, at + R.Reserved1, $"relocation {index}: reserved field is not zero");
        if (!RelocationRules.IsKnown(r.Kind)) throw Fail(ErrorCode.UnknownRelocationKind, at + R.Kind, $"relocation {index} of {owner}: unknown kind {(ushort)r.Kind}");
        int width = RelocationRules.FieldWidth(r.Kind);
        if ((ulong)r.Offset + (ulong)width > ownerSize)
            throw Fail(ErrorCode.RelocationOutOfBounds, at + R.Offset, $"relocation {index} of {owner}: a {width}-byte field at +{r.Offset} runs past the owner's {ownerSize} bytes");
        if (r.Offset < previousEnd)
            throw Fail(ErrorCode.RelocationOverlap, at + R.Offset, $"relocation {index} of {owner}: field at +{r.Offset} overlaps or precedes the previous one ending at +{previousEnd}");
        if (r.Target >= (uint)symbols.Length)
            throw Fail(ErrorCode.BadRelocationTarget, at + R.Target, $"relocation {index} of {owner}: target symbol {r.Target} is out of range ({symbols.Length} symbols)");
        SymbolKind target = symbols[(int)r.Target].Kind;
        if (!RelocationRules.TargetAllowed(r.Kind, target))
            throw Fail(ErrorCode.RelocationTargetKindMismatch, at + R.Target, $"relocation {index} of {owner}: a {r.Kind} relocation cannot target a {target}");
        if (!RelocationRules.AddendFits(r.Kind, r.Addend))
            throw Fail(ErrorCode.AddendOutOfRange, at + R.Addend, $"relocation {index} of {owner}: addend {r.Addend} does not fit the 32-bit field's range");
        if (r.ExpectedSignatureHash != 0 && !RelocationRules.IsCallable(target))
            throw Fail(ErrorCode.UnexpectedSignatureHash, at + R.ExpectedSignatureHash, $"relocation {index} of {owner}: targets a {target} but carries a signature hash");
        throw new InvalidOperationException($"relocation {index} failed the fast check but no rule: a validator bug");
    }
}
