using System.Buffers.Binary;
using AotCache.Format;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader;

/// <summary>Counters of a hot-swappable module's code memory.</summary>
public readonly record struct SwapStatistics(int LiveFunctions, int LiveBatches, int RetiredBatchesAwaitingReclaim, long CommittedArenaBytes);

public sealed partial class LoadedModule
{
    /// <summary>Starts an update of a hot-swappable module: redefine, add and remove functions, then commit.</summary>
    public UpdateTransaction BeginUpdate()
    {
        ThrowIfDisposed();
        if (_swap is null) throw new InvalidOperationException($"module {Names.Quote(_image.ModuleName)} was loaded with LinkMode.Direct; load it with LinkMode.HotSwappable to update it");
        return new UpdateTransaction(_swap);
    }

    /// <summary>
    /// Marks the calling thread as executing loaded code until disposed, so that bodies it may be running are not
    /// freed by a concurrent commit, and so that a call reaching a refused function with no compiler ends the process
    /// with a message naming it rather than returning made-up values to its caller or going back past this scope (a raw
    /// call has no entry to go back to). <see cref="Invoke(string, ReadOnlySpan{Value})"/> does this by itself; hosts that call raw function
    /// pointers must.
    /// </summary>
    public CodeScope EnterCode()
    {
        ThrowIfDisposed();
        _swap?.Epochs.Enter();
        CallShim.PushBarrier();
        return new CodeScope(_swap?.Epochs);
    }

    /// <summary>Frees replaced bodies that no thread can still be executing; commits do this too.</summary>
    public int ReclaimRetiredCode()
    {
        ThrowIfDisposed();
        if (_swap is null) return 0;
        lock (_swap.CommitLock) return _swap.Reclaim();
    }

    /// <summary>The hot-swap state: functions, live and retired code batches, committed bytes (zeros for a module loaded with <see cref="LinkMode.Direct"/>).</summary>
    public SwapStatistics GetSwapStatistics()
    {
        ThrowIfDisposed();
        if (_swap is null) return default;
        lock (_swap.CommitLock)
            return new SwapStatistics(_swap.ByName.Count, _swap.Arena.LiveBatches, _swap.Arena.RetiredBatches, _swap.Arena.CommittedBytes);
    }

    /// <summary>Inner-loop iterations of the reference bookkeeping of commits so far (tests check it grows linearly).</summary>
    internal long SwapWorkSteps
    {
        get
        {
            if (_swap is null) return 0;
            lock (_swap.CommitLock) return _swap.WorkSteps;
        }
    }

    /// <summary>Names of the functions currently defined, for tools and tests.</summary>
    public IReadOnlyCollection<string> FunctionNames
    {
        get
        {
            ThrowIfDisposed();
            if (_swap is not null) return [.. _swap.ByName.Keys.Order(StringComparer.Ordinal)];
            var names = new List<string>();
            foreach (FunctionRecord f in _image.Functions) names.Add(_image.SymbolName((int)f.Symbol));
            return names;
        }
    }

    private nint FindSwappable(string name, out Signature signature, bool stable)
    {
        if (!_swap!.ByName.TryGetValue(name, out SwapEntry? e))
            throw new KeyNotFoundException($"module {Names.Quote(_image.ModuleName)} has no function named {Names.Quote(name)}");
        // Read the entry's fields once: a commit replaces them together under its lock, and publishes the
        // slot only after they are set, so (signature, body) below belong to one definition.
        lock (_swap.CommitLock)
        {
            if (!e.Exported) throw new KeyNotFoundException($"function {Names.Quote(name)} is local to module {Names.Quote(_image.ModuleName)} (not exported)");
            // A refused function runs only when a compiler can give it a body: its stub (through the entry) asks for one.
            if (e.Refused is { } refused && _compileOnCall is null) throw new AotCacheException(refused.Reason, -1, $"function {Names.Quote(name)} was refused: {refused.Detail}");
            signature = e.Signature!;
            return stable ? _swap.EntryThunk(e.Index) : e.Body;
        }
    }

    private static RefusedFunction DescribeEntry(SwapEntry e)
    {
        string name = e.Name.Length > 0 ? e.Name : $"#{e.Index}";
        return e.Refused is { } r ? new RefusedFunction(name, r.Reason, r.Detail)
            : new RefusedFunction(name, ErrorCode.StaleCaller,
                e.Defined ? "the function was replaced while a stale reference still pointed at it" : "the function was removed by an update");
    }

    private static void WriteEntryThunks(Span<byte> mem, ModuleLayout layout)
    {
        for (int i = 0; i < layout.SwapEntries; i++)
        {
            // jmp qword [rip + swap slot i]: every caller reaches the current body through this.
            long at = layout.EntryThunksOffset + (long)i * ModuleLayout.ThunkSize;
            long slot = layout.SwapSlotsOffset + (long)i * SwapState.SlotSize;
            Span<byte> t = mem[(int)at..];
            t[0] = 0xFF; t[1] = 0x25;
            BinaryPrimitives.WriteInt32LittleEndian(t[2..], checked((int)(slot - (at + 6))));
            t[6] = 0xCC; t[7] = 0xCC;
        }
    }

    private static SwapState CreateSwapState(CacheImage image, ModuleLinks links, IExecutableMemory memory, MemoryRegion reservation, ModuleLayout layout,
        Dictionary<int, RefusedFunction> refused, ToolOptions tools)
    {
        var entries = new SwapEntry[layout.SwapEntries];
        for (int i = 0; i < entries.Length; i++) entries[i] = new SwapEntry(i);
        var swap = new SwapState
        {
            Image = image,
            Links = links,
            Reservation = reservation,
            Arena = new CodeArena(memory, reservation, layout.TotalSize, memory.PageSize),
            Entries = entries,
            EntryThunksOffset = layout.EntryThunksOffset,
            SwapSlotsOffset = layout.SwapSlotsOffset,
            StubsOffset = layout.StubsOffset,
            Tools = tools,
        };
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        for (int f = 0; f < functions.Length; f++)
        {
            SwapEntry e = entries[f];
            SymbolRecord symbol = symbols[(int)functions[f].Symbol];
            e.Name = image.GetString(symbol.Name);
            e.Defined = true;
            e.Exported = symbol.Linkage == Linkage.Export;
            e.Signature = image.GetSignature((int)symbol.Declaration);
            e.Content = functions[f].ContentHash;
            e.Body = (nint)(refused.ContainsKey(f) ? links.Stub(f) : links.Body(f));
            e.Generation = 1;
            e.Refused = refused.TryGetValue(f, out RefusedFunction? r) ? new Refusal(r.Reason, r.Detail) : null;
            swap.ByName[e.Name] = e;
            swap.Publish(e, e.Body);
        }
        for (int i = entries.Length - 1; i >= functions.Length; i--)
        {
            swap.Publish(entries[i], swap.Stub(i));
            swap.FreeEntries.Push(i);
        }
        // References between functions, and the reverse index that makes update checks proportional to callers.
        for (int f = 0; f < functions.Length; f++)
            foreach (RelocationRecord r in image.RelocationsOf(functions[f]))
            {
                SymbolRecord target = symbols[(int)r.Target];
                if (target.Kind != SymbolKind.Function) continue;
                ReferenceKind kind = RelocationRules.IsBodyBound(r.Kind, r.Addend) ? ReferenceKind.BodyBound : ReferenceKind.Call;
                swap.AddReference(new Reference(f, (int)target.Definition, kind, r.ExpectedSignatureHash, default));
            }
        foreach (DependencyRecord d in image.Dependencies)
            if (d.Kind == DependencyKind.FunctionContent)
                swap.AddReference(new Reference((int)d.Function, (int)symbols[(int)d.Target].Definition, ReferenceKind.Content, 0, d.ExpectedContentHash));
        return swap;
    }
}

/// <summary>A thread's stay inside a hot-swappable module's code; see <see cref="LoadedModule.EnterCode"/>.</summary>
public readonly struct CodeScope : IDisposable
{
    private readonly EpochTracker? _epochs;
    internal CodeScope(EpochTracker? epochs) => _epochs = epochs;
    /// <summary>Leaves the scope: code retired since it was entered may be reclaimed once no other thread is inside.</summary>
    public void Dispose()
    {
        CallShim.PopBarrier();
        _epochs?.Exit();
    }
}
