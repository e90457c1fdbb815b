using System.Buffers.Binary;
using AotCache.Format;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;

namespace AotCache.Loader.HotSwap;

/// <summary>
/// An all-or-nothing change to a hot-swappable module: redefine, add and remove functions, then
/// <see cref="Commit"/>. A commit that would leave any function stale (compiled against a signature or
/// content its target no longer has) is refused with a report naming each one, and changes nothing.
/// </summary>
public sealed class UpdateTransaction
{
    private readonly LoadedModule _module;
    private readonly SwapState _swap;
    private readonly SortedDictionary<string, FunctionUpdate?> _changes = new(StringComparer.Ordinal); // null: remove
    private bool _done;

    internal UpdateTransaction(LoadedModule module, SwapState swap)
    {
        _module = module;
        _swap = swap;
    }

    /// <summary>Gives an existing function a new body (and possibly a new signature).</summary>
    public UpdateTransaction Redefine(string name, FunctionUpdate update)
    {
        CheckOpen(name, update);
        if (!_swap.ByName.ContainsKey(name)) throw new KeyNotFoundException($"cannot redefine '{name}': no such function");
        _changes[name] = update;
        return this;
    }

    /// <summary>Adds a new function.</summary>
    public UpdateTransaction Add(string name, FunctionUpdate update)
    {
        CheckOpen(name, update);
        if (_swap.ByName.ContainsKey(name) || _module.Image.FindSymbol(name) >= 0 && !_swap.ByName.ContainsKey(name) && IsNonFunction(name))
            throw new ArgumentException($"cannot add '{name}': a symbol with that name exists", nameof(name));
        _changes[name] = update;
        return this;
    }

    /// <summary>Removes a function. Its callers must be redefined or removed in the same transaction.</summary>
    public UpdateTransaction Remove(string name)
    {
        if (_done) throw new InvalidOperationException("the transaction was already committed or refused");
        if (!_swap.ByName.ContainsKey(name)) throw new KeyNotFoundException($"cannot remove '{name}': no such function");
        _changes[name] = null;
        return this;
    }

    private bool IsNonFunction(string name) => _module.Image.Symbols[_module.Image.FindSymbol(name)].Kind != SymbolKind.Function;

    private void CheckOpen(string name, FunctionUpdate update)
    {
        if (_done) throw new InvalidOperationException("the transaction was already committed or refused");
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(update);
        if (update.Code.Length == 0) throw new ArgumentException($"'{name}' has no code", nameof(update));
        if (update.Alignment < 1 || update.Alignment > 4096 || (update.Alignment & (update.Alignment - 1)) != 0)
            throw new ArgumentException($"'{name}': alignment {update.Alignment} is not a power of two up to 4096", nameof(update));
        int previousEnd = 0;
        foreach (UpdateRelocation r in update.Relocations.OrderBy(r => r.Offset))
        {
            if (!Enum.IsDefined(r.Kind)) throw new ArgumentException($"'{name}': unknown relocation kind {(int)r.Kind}", nameof(update));
            int width = RelocationRules.FieldWidth(r.Kind);
            if (r.Offset < previousEnd || (long)r.Offset + width > update.Code.Length)
                throw new ArgumentException($"'{name}': relocation at +{r.Offset} is outside the code or overlaps another", nameof(update));
            if (width == 4 && (r.Addend < int.MinValue || r.Addend > int.MaxValue))
                throw new ArgumentException($"'{name}': addend {r.Addend} does not fit 32 bits", nameof(update));
            previousEnd = r.Offset + width;
        }
    }

    /// <summary>Commits, or throws <see cref="AotCacheException"/> (StaleCaller) listing every stale function.
    /// A refused commit leaves the module exactly as it was.</summary>
    public void Commit()
    {
        if (!TryCommit(out IReadOnlyList<StaleFunction> stale))
            throw new AotCacheException(ErrorCode.StaleCaller, -1,
                $"update refused, {stale.Count} stale function{(stale.Count == 1 ? "" : "s")}: " + string.Join("; ", stale));
    }

    /// <summary>Commits, or returns false with the stale functions and changes nothing.</summary>
    public bool TryCommit(out IReadOnlyList<StaleFunction> stale)
    {
        if (_done) throw new InvalidOperationException("the transaction was already committed or refused");
        lock (_swap.CommitLock)
        {
            _done = true;
            stale = FindStale();
            if (stale.Count > 0) return false;
            Apply();
            return true;
        }
    }

    // ---- what the module would look like ------------------------------------------------------

    private bool Exists(string name) => _changes.TryGetValue(name, out FunctionUpdate? u) ? u is not null : _swap.ByName.ContainsKey(name);

    private Signature? ResultSignature(string name) =>
        _changes.TryGetValue(name, out FunctionUpdate? u) ? u?.Signature : _swap.ByName.TryGetValue(name, out SwapEntry? e) ? e.Signature : null;

    private ContentHash ResultContent(string name) =>
        _changes.TryGetValue(name, out FunctionUpdate? u) ? u?.ContentHash ?? default : _swap.ByName.TryGetValue(name, out SwapEntry? e) ? e.Content : default;

    /// <summary>
    /// Every function that would be stale. Checks only the changed functions, their new code, and the
    /// functions that refer to them (the reverse index): cost proportional to the change and its callers.
    /// Content staleness is transitive: a function stale because it inlined a changed function will be
    /// recompiled, so whatever inlined it is stale too.
    /// </summary>
    private List<StaleFunction> FindStale()
    {
        var stale = new List<StaleFunction>();
        var staleNames = new HashSet<string>(StringComparer.Ordinal);
        var contentChanged = new Queue<SwapEntry>();
        foreach (var (name, update) in _changes)
        {
            if (!_swap.ByName.TryGetValue(name, out SwapEntry? e)) continue; // added: nobody refers to it yet
            bool signatureChanged = update is null || !update.Signature.Equals(e.Signature);
            foreach (Reference r in e.Incoming)
            {
                SwapEntry owner = _swap.Entries[r.Owner];
                if (_changes.ContainsKey(owner.Name) || staleNames.Contains(owner.Name)) continue;
                StaleFunction? s = r.Kind switch
                {
                    _ when update is null => new StaleFunction(owner.Name, StaleReason.TargetRemoved, name, Text(e.Signature), "removed"),
                    ReferenceKind.Call when signatureChanged && r.ExpectedSignature != 0 && r.ExpectedSignature != update.Signature.Hash =>
                        new StaleFunction(owner.Name, StaleReason.SignatureChanged, name, Text(e.Signature), Text(update.Signature)),
                    ReferenceKind.BodyBound => new StaleFunction(owner.Name, StaleReason.BodyReplaced, name, "", ""),
                    ReferenceKind.Content when r.ExpectedContent != update.ContentHash =>
                        new StaleFunction(owner.Name, StaleReason.ContentChanged, name, r.ExpectedContent.ToString(), update.ContentHash.ToString()),
                    _ => null,
                };
                if (s is null) continue;
                stale.Add(s);
                staleNames.Add(owner.Name);
                contentChanged.Enqueue(owner);
            }
        }
        // Transitive: content dependents (and body-bound referrers) of functions that are themselves stale.
        while (contentChanged.TryDequeue(out SwapEntry? e))
        {
            foreach (Reference r in e.Incoming)
            {
                if (r.Kind == ReferenceKind.Call) continue;
                SwapEntry owner = _swap.Entries[r.Owner];
                if (_changes.ContainsKey(owner.Name) || !staleNames.Add(owner.Name)) continue;
                stale.Add(new StaleFunction(owner.Name, r.Kind == ReferenceKind.Content ? StaleReason.ContentChanged : StaleReason.BodyReplaced,
                    e.Name, r.ExpectedContent.ToString(), $"to be recompiled (stale: {e.Name})"));
                contentChanged.Enqueue(owner);
            }
        }
        // New code must itself match what its targets will be.
        foreach (var (name, update) in _changes)
        {
            if (update is null) continue;
            foreach (UpdateRelocation r in update.Relocations)
            {
                if (Exists(r.Target))
                {
                    Signature target = ResultSignature(r.Target)!;
                    if (r.ExpectedSignatureHash != 0 && r.ExpectedSignatureHash != target.Hash)
                        stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, r.Target, HashText(r.ExpectedSignatureHash), Text(target)));
                    continue;
                }
                int symbol = _module.Image.FindSymbol(r.Target);
                if (symbol < 0 || _module.Image.Symbols[symbol].Kind == SymbolKind.Function)
                {
                    stale.Add(new StaleFunction(name, StaleReason.UnknownTarget, r.Target, "", ""));
                    continue;
                }
                SymbolRecord s = _module.Image.Symbols[symbol];
                if (!RelocationRules.TargetAllowed(r.Kind, s.Kind))
                    throw new ArgumentException($"'{name}': a {r.Kind} relocation cannot target '{r.Target}', a {s.Kind}");
                if (s.Kind == SymbolKind.ImportFunction && r.ExpectedSignatureHash != 0 &&
                    r.ExpectedSignatureHash != _module.Image.Declarations[(int)s.Declaration].SignatureHash)
                    stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, r.Target, HashText(r.ExpectedSignatureHash), _module.Image.GetSignature((int)s.Declaration).ToString()));
            }
            foreach (UpdateDependency d in update.Dependencies)
            {
                if (Exists(d.Target))
                {
                    if (ResultContent(d.Target) != d.ExpectedContentHash)
                        stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, d.Target, d.ExpectedContentHash.ToString(), ResultContent(d.Target).ToString()));
                }
                else
                {
                    int symbol = _module.Image.FindSymbol(d.Target);
                    if (symbol < 0 || _module.Image.Symbols[symbol].Kind != SymbolKind.Data)
                        stale.Add(new StaleFunction(name, StaleReason.UnknownTarget, d.Target, "", ""));
                    else if (_module.Image.DataObjects[(int)_module.Image.Symbols[symbol].Definition].ContentHash != d.ExpectedContentHash)
                        stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, d.Target, d.ExpectedContentHash.ToString(),
                            _module.Image.DataObjects[(int)_module.Image.Symbols[symbol].Definition].ContentHash.ToString()));
                }
            }
        }
        return stale;
    }

    private string Text(Signature? s) => s is null ? "nothing" : $"{s} (0x{s.Hash:x16})";

    private string HashText(ulong hash) => StaleAnalysis.SignatureText(_module.Image, hash);

    // ---- applying -----------------------------------------------------------------------------

    private void Apply()
    {
        // Which entry each new definition goes to: same entry when the signature is unchanged (in-flight
        // callers keep working through the same slot); a fresh entry otherwise, leaving the old slot and body
        // intact for threads still running old callers until the epoch passes.
        var target = new Dictionary<string, SwapEntry>(StringComparer.Ordinal);
        var replacedEntries = new List<SwapEntry>();
        foreach (var (name, update) in _changes)
        {
            if (update is null) continue;
            if (_swap.ByName.TryGetValue(name, out SwapEntry? e) && update.Signature.Equals(e.Signature))
                target[name] = e;
            else
            {
                if (_swap.FreeEntries.Count == 0)
                    throw new InvalidOperationException("no room for another function: load the module with a larger LoadOptions.AddCapacity");
                target[name] = _swap.Entries[_swap.FreeEntries.Pop()];
                if (e is not null) replacedEntries.Add(e);
            }
        }

        // Lay the new bodies out in one batch.
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        long size = 0;
        foreach (var (name, update) in _changes)
        {
            if (update is null) continue;
            size = (size + update.Alignment - 1) / update.Alignment * update.Alignment;
            offsets[name] = size;
            size += update.Code.Length;
        }
        CodeArena.Batch? batch = size > 0 ? _swap.Arena.Allocate(size) : null;
        try
        {
            if (batch is not null)
            {
                nint batchAddress = _swap.Reservation.Address + (nint)batch.Offset;
                Span<byte> memory = RegionAccess.AsSpan(batchAddress, (int)batch.Length);
                memory.Fill(0xCC);
                foreach (var (name, update) in _changes)
                {
                    if (update is null) continue;
                    long at = offsets[name];
                    update.Code.CopyTo(memory[(int)at..]);
                    foreach (UpdateRelocation r in update.Relocations)
                        Patch(memory, batchAddress, at, name, r, target, offsets);
                }
                _swap.Arena.MakeExecutable(batch);
            }
        }
        catch
        {
            if (batch is not null) _swap.Arena.Abandon(batch);
            // Entries taken for new definitions go back: nothing was published.
            foreach (var (name, e) in target)
                if (!_swap.ByName.TryGetValue(name, out SwapEntry? current) || current != e) _swap.FreeEntries.Push(e.Index);
            throw;
        }

        // Publish. From here on nothing can fail.
        var retiredBatches = new List<CodeArena.Batch>();
        void ReleaseBody(SwapEntry e)
        {
            if (e.Batch is { } b && --b.LiveBodies == 0) retiredBatches.Add(b);
            e.Batch = null;
        }
        foreach (var (name, update) in _changes)
        {
            _swap.ByName.TryGetValue(name, out SwapEntry? old);
            if (update is null)
            {
                RemoveReferences(old!);
                ReleaseBody(old!);
                _swap.ByName.TryRemove(name, out _);
                old!.Defined = false;
                old.Refused = new RefusedFunction(name, ErrorCode.StaleCaller, "the function was removed by an update");
                replacedEntries.Add(old);
                continue;
            }
            SwapEntry e = target[name];
            if (old is not null)
            {
                RemoveReferences(old);
                ReleaseBody(old);
            }
            e.Name = name;
            e.Defined = true;
            e.Exported = update.Exported;
            e.Signature = update.Signature;
            e.Content = update.ContentHash;
            e.Body = _swap.Reservation.Address + (nint)(batch!.Offset + offsets[name]);
            e.Batch = batch;
            batch.LiveBodies++;
            e.Generation++;
            e.Refused = null;
            if (old is not null && old != e)
            {
                old.Defined = false;
                old.Refused = new RefusedFunction(name, ErrorCode.StaleCaller, $"'{name}' was redefined with another signature; this is its old entry");
            }
        }
        // References of the new bodies, into the reverse index.
        foreach (var (name, update) in _changes)
        {
            if (update is null) continue;
            SwapEntry owner = target[name];
            foreach (UpdateRelocation r in update.Relocations)
                if (target.TryGetValue(r.Target, out SwapEntry? t) || _swap.ByName.TryGetValue(r.Target, out t))
                    LoadedModule.AddReference(_swap.Entries, new Reference(owner.Index, t.Index,
                        IsBodyBound(r) ? ReferenceKind.BodyBound : ReferenceKind.Call, r.ExpectedSignatureHash, default));
            foreach (UpdateDependency d in update.Dependencies)
                if (target.TryGetValue(d.Target, out SwapEntry? t) || _swap.ByName.TryGetValue(d.Target, out t))
                    LoadedModule.AddReference(_swap.Entries, new Reference(owner.Index, t.Index, ReferenceKind.Content, 0, d.ExpectedContentHash));
        }
        // Slots: metadata, then the code pointer, one atomic store each.
        foreach (var (name, e) in target)
        {
            _swap.ByName[name] = e;
            _swap.Publish(e, e.Body);
        }
        long epoch = _swap.Epochs.Advance();
        foreach (SwapEntry old in replacedEntries)
            _swap.RetiredEntries.Add((old.Index, epoch));
        foreach (CodeArena.Batch b in retiredBatches) _swap.Arena.Retire(b, epoch);
        LoadedModule.Reclaim(_swap);
    }

    private void RemoveReferences(SwapEntry e)
    {
        foreach (Reference r in e.Outgoing) _swap.Entries[r.Target].Incoming.Remove(r);
        e.Outgoing = [];
    }

    private static bool IsBodyBound(UpdateRelocation r) => r.Kind switch
    {
        RelocationKind.Absolute64 => r.Addend != 0,
        RelocationKind.SlotPcRel32 => false,
        _ => r.Addend != -4,
    };

    private void Patch(Span<byte> memory, nint batchAddress, long ownerOffset, string owner, UpdateRelocation r,
        Dictionary<string, SwapEntry> target, Dictionary<string, long> offsets)
    {
        long p = batchAddress + ownerOffset + r.Offset;
        long s;
        if (target.TryGetValue(r.Target, out SwapEntry? e) || _swap.ByName.TryGetValue(r.Target, out e))
        {
            bool inBatch = offsets.ContainsKey(r.Target);
            s = r.Kind == RelocationKind.SlotPcRel32 ? _swap.Slot(e.Index)
                : IsBodyBound(r) ? (inBatch ? batchAddress + offsets[r.Target] : e.Body)
                : _swap.EntryThunk(e.Index);
        }
        else
        {
            s = _module.ImportOrDataAddress(r.Target, r.Kind);
        }
        if (r.Kind == RelocationKind.Absolute64)
        {
            BinaryPrimitives.WriteInt64LittleEndian(memory[(int)(ownerOffset + r.Offset)..], unchecked(s + r.Addend));
            return;
        }
        long value = s + r.Addend - p;
        if (value < int.MinValue || value > int.MaxValue)
            throw new AotCacheException(ErrorCode.RelocationOverflow, -1,
                $"new code of '{owner}': {r.Kind} relocation at +{r.Offset} to '{r.Target}' needs displacement {value}, which does not fit 32 bits");
        BinaryPrimitives.WriteInt32LittleEndian(memory[(int)(ownerOffset + r.Offset)..], (int)value);
    }
}
