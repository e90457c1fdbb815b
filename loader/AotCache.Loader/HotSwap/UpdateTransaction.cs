using AotCache.Format;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader.HotSwap;

/// <summary>
/// An all-or-nothing change to a hot-swappable module: redefine, add and remove functions, then
/// <see cref="Commit"/>. A commit that would leave any function stale (compiled against a signature or
/// content its target no longer has) is refused with a report naming each one, and changes nothing.
/// </summary>
/// <remarks>
/// A misuse is reported by the call that makes it: a body whose relocations reach a symbol of a kind they may not
/// (<see cref="RelocationRules.CheckTargets"/>), a name that does not exist or already does. A name a new body refers
/// to but that does not exist yet may still be added by the same transaction (mutually recursive new functions);
/// if it is not, the commit is refused and names it.
/// </remarks>
public sealed class UpdateTransaction
{
    private readonly SwapState _swap;
    private readonly SortedDictionary<string, Change?> _changes = new(StringComparer.Ordinal); // null: remove
    private readonly ResultScope _result;
    private bool _done;

    /// <summary>A redefinition or addition.</summary>
    private sealed record Change(FunctionBody Body, bool Exported);

    internal UpdateTransaction(SwapState swap)
    {
        _swap = swap;
        _result = new ResultScope(this);
    }

    /// <summary>The module as it will be if this transaction commits: what new bodies are checked against.</summary>
    public ISymbolScope Result => _result;

    /// <summary>Gives an existing function a new body (and possibly a new signature). It keeps its linkage.</summary>
    public UpdateTransaction Redefine(string name, FunctionBody body)
    {
        CheckOpen(name, body);
        if (!_swap.ByName.TryGetValue(name, out SwapEntry? e)) throw new KeyNotFoundException($"cannot redefine {Names.Quote(name)}: no such function");
        _changes[name] = new Change(body, e.Exported);
        return this;
    }

    /// <summary>Adds a new function, exported unless <paramref name="linkage"/> says local.</summary>
    public UpdateTransaction Add(string name, FunctionBody body, Linkage linkage = Linkage.Export)
    {
        CheckOpen(name, body);
        if (linkage is not (Linkage.Export or Linkage.Local))
            throw new ArgumentOutOfRangeException(nameof(linkage), linkage, "a defined function is Local or Export [SYM-1]");
        if (_swap.ByName.ContainsKey(name) || _swap.Image.FindSymbol(name) >= 0 && _swap.Image.Symbols[_swap.Image.FindSymbol(name)].Kind != SymbolKind.Function)
            throw new ArgumentException($"cannot add {Names.Quote(name)}: a symbol with that name exists", nameof(name));
        _changes[name] = new Change(body, linkage == Linkage.Export);
        return this;
    }

    /// <summary>Removes a function. Its callers must be redefined or removed in the same transaction.</summary>
    public UpdateTransaction Remove(string name)
    {
        if (_done) throw new InvalidOperationException("the transaction was already committed or refused");
        if (!_swap.ByName.ContainsKey(name)) throw new KeyNotFoundException($"cannot remove {Names.Quote(name)}: no such function");
        _changes[name] = null;
        return this;
    }

    private void CheckOpen(string name, FunctionBody body)
    {
        if (_done) throw new InvalidOperationException("the transaction was already committed or refused");
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(body);
        // Names that do not exist yet are taken as functions this transaction may still add; the commit checks them.
        if (RelocationRules.CheckTargets(body.Relocations.AsSpan(), _result, pending: _ => true) is { } problem)
            throw new ArgumentException($"{Names.Quote(name)}: {problem}", nameof(body));
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
            stale = FindStale();
            if (stale.Count == 0) Apply(); // a failure in Apply (no room, a displacement out of range) changes nothing
            _done = true;
            return stale.Count == 0;
        }
    }

    // ---- what the module would look like ------------------------------------------------------

    private bool Exists(string name) => _changes.TryGetValue(name, out Change? u) ? u is not null : _swap.ByName.ContainsKey(name);

    private Signature? ResultSignature(string name) =>
        _changes.TryGetValue(name, out Change? u) ? u?.Body.Signature : _swap.ByName.TryGetValue(name, out SwapEntry? e) ? e.Signature : null;

    private ContentHash ResultContent(string name) =>
        _changes.TryGetValue(name, out Change? u) ? u?.Body.ContentHash ?? default : _swap.ByName.TryGetValue(name, out SwapEntry? e) ? e.Content : default;

    /// <summary>The module after the transaction: its functions as changed, the file's imports and data.</summary>
    private sealed class ResultScope(UpdateTransaction t) : ISymbolScope
    {
        public bool TryGetSymbol(string name, out SymbolInfo symbol)
        {
            if (t.ResultSignature(name) is { } signature)
            {
                symbol = new SymbolInfo(SymbolKind.Function, signature);
                return true;
            }
            if (!t._changes.ContainsKey(name) && t._swap.Image.TryGetSymbol(name, out symbol) && symbol.Kind != SymbolKind.Function) return true;
            symbol = default;
            return false;
        }
    }

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
        foreach (var (name, change) in _changes)
        {
            if (!_swap.ByName.TryGetValue(name, out SwapEntry? e)) continue; // added: nobody refers to it yet
            FunctionBody? update = change?.Body;
            bool signatureChanged = update is null || !update.Signature.Equals(e.Signature);
            foreach (Reference r in e.Incoming)
            {
                if (!_swap.IsLive(r)) continue;
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
                if (r.Kind == ReferenceKind.Call || !_swap.IsLive(r)) continue;
                SwapEntry owner = _swap.Entries[r.Owner];
                if (_changes.ContainsKey(owner.Name) || !staleNames.Add(owner.Name)) continue;
                stale.Add(new StaleFunction(owner.Name, r.Kind == ReferenceKind.Content ? StaleReason.ContentChanged : StaleReason.BodyReplaced,
                    e.Name, r.ExpectedContent.ToString(), $"to be recompiled (stale: {Names.Escape(e.Name)})"));
                contentChanged.Enqueue(owner);
            }
        }
        // New code must itself match what its targets will be. Every target was checked against the result when its
        // body was given (kinds may reach it, REL-6); what is left is whether it exists and what it was compiled against.
        CacheImage image = _swap.Image;
        foreach (var (name, change) in _changes)
        {
            if (change is null) continue;
            foreach (Relocation r in change.Body.Relocations)
            {
                if (!_result.TryGetSymbol(r.Target, out SymbolInfo target))
                {
                    stale.Add(new StaleFunction(name, StaleReason.UnknownTarget, r.Target, "", ""));
                    continue;
                }
                if (r.ExpectedSignatureHash is { } expected && expected != 0 && target.Signature is { } actual && expected != actual.Hash)
                    stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, r.Target, HashText(expected), Text(actual)));
            }
            foreach (Dependency d in change.Body.Dependencies)
            {
                if (Exists(d.Target))
                {
                    if (ResultContent(d.Target) != d.ExpectedContentHash)
                        stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, d.Target, d.ExpectedContentHash.ToString(), ResultContent(d.Target).ToString()));
                }
                else
                {
                    int symbol = image.FindSymbol(d.Target);
                    if (symbol < 0 || image.Symbols[symbol].Kind != SymbolKind.Data)
                        stale.Add(new StaleFunction(name, StaleReason.UnknownTarget, d.Target, "", ""));
                    else if (image.DataObjects[(int)image.Symbols[symbol].Definition].ContentHash is var content && content != d.ExpectedContentHash)
                        stale.Add(new StaleFunction(name, StaleReason.NewCodeMismatch, d.Target, d.ExpectedContentHash.ToString(), content.ToString()));
                }
            }
        }
        return stale;
    }

    private static string Text(Signature? s) => s is null ? "nothing" : $"{s} (0x{s.Hash:x16})";

    private string HashText(ulong hash) => StaleAnalysis.SignatureText(_swap.Image, hash);

    // ---- applying -----------------------------------------------------------------------------

    private void Apply()
    {
        // Which entry each new definition goes to: same entry when the signature is unchanged (in-flight
        // callers keep working through the same slot); a fresh entry otherwise, leaving the old slot and body
        // intact for threads still running old callers until the epoch passes.
        var target = new Dictionary<string, SwapEntry>(StringComparer.Ordinal);
        var replacedEntries = new List<SwapEntry>();
        int fresh = 0;
        foreach (var (name, change) in _changes)
            if (change is not null && !(_swap.ByName.TryGetValue(name, out SwapEntry? e) && change.Body.Signature.Equals(e.Signature))) fresh++;
        if (fresh > _swap.FreeEntries.Count)
            throw new InvalidOperationException($"no room for {fresh} more function entries ({_swap.FreeEntries.Count} free): load the module with a larger LoadOptions.AddCapacity");
        foreach (var (name, change) in _changes)
        {
            if (change is null) continue;
            if (_swap.ByName.TryGetValue(name, out SwapEntry? e) && change.Body.Signature.Equals(e.Signature))
                target[name] = e;
            else
            {
                target[name] = _swap.Entries[_swap.FreeEntries.Pop()];
                if (e is not null) replacedEntries.Add(e);
            }
        }

        // Lay the new bodies out in one batch.
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        long size = 0;
        foreach (var (name, change) in _changes)
        {
            if (change is null) continue;
            size = (size + change.Body.Alignment - 1) / change.Body.Alignment * change.Body.Alignment;
            offsets[name] = size;
            size += change.Body.Code.Length;
        }
        CodeArena.Batch? batch = size > 0 ? _swap.Arena.Allocate(size) : null;
        try
        {
            if (batch is not null)
            {
                nint batchAddress = _swap.Reservation.Address + (nint)batch.Offset;
                Span<byte> memory = RegionAccess.AsSpan(batchAddress, (int)batch.Length);
                memory.Fill(0xCC);
                foreach (var (name, change) in _changes)
                {
                    if (change is null) continue;
                    long at = offsets[name];
                    change.Body.Code.AsSpan().CopyTo(memory[(int)at..]);
                    foreach (Relocation r in change.Body.Relocations)
                        Patch(memory, batchAddress, at, name, r, target, offsets);
                }
                _swap.Arena.MakeExecutable(batch);
                // The new bodies' frames are known to the unwinder (and tools) before any slot can lead there [LOAD-10].
                batch.Registration = RegisterBatch(batchAddress, batch.Length, offsets);
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
        foreach (var (name, change) in _changes)
        {
            _swap.ByName.TryGetValue(name, out SwapEntry? old);
            if (change is null)
            {
                RemoveReferences(old!);
                ReleaseBody(old!);
                _swap.ByName.TryRemove(name, out _);
                old!.Defined = false;
                old.Refused = new Refusal(ErrorCode.StaleCaller, "the function was removed by an update");
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
            e.Exported = change.Exported;
            e.Signature = change.Body.Signature;
            e.Content = change.Body.ContentHash;
            e.Body = _swap.Reservation.Address + (nint)(batch!.Offset + offsets[name]);
            e.BodySize = change.Body.Code.Length;
            e.Batch = batch;
            batch.LiveBodies++;
            e.Generation++;
            e.Refused = null;
            if (old is not null && old != e)
            {
                old.Defined = false;
                old.Refused = new Refusal(ErrorCode.StaleCaller, $"{Names.Quote(name)} was redefined with another signature; this is its old entry");
            }
        }
        // References of the new bodies, into the reverse index.
        foreach (var (name, change) in _changes)
        {
            if (change is null) continue;
            SwapEntry owner = target[name];
            foreach (Relocation r in change.Body.Relocations)
                if (target.TryGetValue(r.Target, out SwapEntry? t) || _swap.ByName.TryGetValue(r.Target, out t))
                    _swap.AddReference(new Reference(owner.Index, t.Index,
                        RelocationRules.IsBodyBound(r.Kind, r.Addend) ? ReferenceKind.BodyBound : ReferenceKind.Call,
                        r.ExpectedSignatureHash ?? t.Signature?.Hash ?? 0, default));
            foreach (Dependency d in change.Body.Dependencies)
                if (target.TryGetValue(d.Target, out SwapEntry? t) || _swap.ByName.TryGetValue(d.Target, out t))
                    _swap.AddReference(new Reference(owner.Index, t.Index, ReferenceKind.Content, 0, d.ExpectedContentHash));
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
        _swap.Reclaim();
    }

    /// <summary>The batch's new bodies, announced to the unwinder and, if asked, to the perf map and the debugger.</summary>
    private CodeRegistration? RegisterBatch(nint batchAddress, long batchLength, Dictionary<string, long> offsets)
    {
        var bodies = new List<(string Name, long Offset, FunctionBody Body)>();
        foreach (var (name, change) in _changes)
            if (change is not null) bodies.Add((name, offsets[name], change.Body));
        return CodeRegistration.ForBodies(_swap.Tools, batchAddress, batchLength, bodies);
    }

    private void RemoveReferences(SwapEntry e) => _swap.RemoveReferences(e);

    private void Patch(Span<byte> memory, nint batchAddress, long ownerOffset, string owner, Relocation r,
        Dictionary<string, SwapEntry> target, Dictionary<string, long> offsets)
    {
        long p = batchAddress + ownerOffset + r.Offset;
        long s;
        if (target.TryGetValue(r.Target, out SwapEntry? e) || _swap.ByName.TryGetValue(r.Target, out e))
        {
            bool inBatch = offsets.ContainsKey(r.Target);
            s = r.Kind == RelocationKind.SlotPcRel32 ? _swap.Slot(e.Index)
                : RelocationRules.IsBodyBound(r.Kind, r.Addend) ? (inBatch ? batchAddress + offsets[r.Target] : e.Body)
                : _swap.EntryThunk(e.Index);
        }
        else
        {
            s = _swap.Links.ImportOrDataAddress(r.Target, r.Kind);
        }
        if (!RelocationRules.TryApply(memory[(int)ownerOffset..], r.Offset, r.Kind, s, r.Addend, p, out long value))
            throw new AotCacheException(ErrorCode.RelocationOverflow, -1,
                $"new code of {Names.Quote(owner)}: {r.Kind} relocation at +{r.Offset} to {Names.Quote(r.Target)} needs displacement {value}, which does not fit 32 bits");
    }
}
