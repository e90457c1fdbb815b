using System.Collections.Concurrent;
using AotCache.Format;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader.HotSwap;

/// <summary>How a reference from one function to another is linked in a hot-swappable module.</summary>
internal enum ReferenceKind
{
    /// <summary>Through the target's entry thunk and swap slot: follows redefinitions; checked by signature.</summary>
    Call,
    /// <summary>Straight into the target's current body (a jump into its middle): invalid once that body is replaced.</summary>
    BodyBound,
    /// <summary>A content dependency (the owner inlined the target): invalid once the target's content hash changes.</summary>
    Content,
}

internal readonly record struct Reference(int Owner, int Target, ReferenceKind Kind, ulong ExpectedSignature, ContentHash ExpectedContent)
{
    /// <summary>The owner's <see cref="SwapEntry.ReferenceGeneration"/> when the reference was recorded: the
    /// reference is live while the owner's generation is still this one (<see cref="SwapState.IsLive"/>).</summary>
    public int OwnerGeneration { get; init; }
}

/// <summary>One swap slot and what it currently holds. Slot layout in writable memory (24 bytes):
/// code pointer, signature hash, generation. Only the code pointer is read by machine code.</summary>
internal sealed class SwapEntry(int index)
{
    public int Index { get; } = index;
    public string Name = "";
    public bool Defined;
    public bool Exported;
    public Signature? Signature;
    public ContentHash Content;
    public nint Body;
    /// <summary>Bytes of <see cref="Body"/> when an update placed it (<see cref="Batch"/> is set); a body the file placed is
    /// sized by the function table.</summary>
    public long BodySize;
    public CodeArena.Batch? Batch;
    public long Generation;
    public Refusal? Refused;
    public List<Reference> Outgoing = [];

    /// <summary>References to this entry, in the order they were recorded; some may be dead (their owner's
    /// references were dropped since): iterate with <see cref="SwapState.IsLive"/>.</summary>
    public List<Reference> Incoming = [];

    /// <summary>Bumped when this entry's outgoing references are dropped, which kills them all at once.</summary>
    public int ReferenceGeneration;

    /// <summary>How many entries of <see cref="Incoming"/> are dead.</summary>
    public int DeadIncoming;
}

/// <summary>Everything a hot-swappable module keeps beyond a direct one.</summary>
internal sealed class SwapState
{
    public const int SlotSize = ModuleLayout.SwapSlotSize;

    /// <summary>The file the module was loaded from: its imports and data, which updates may refer to.</summary>
    public required CacheImage Image;

    /// <summary>Where the module's imports and data are, for new code's relocations.</summary>
    public required ModuleLinks Links;

    public required MemoryRegion Reservation;
    public required CodeArena Arena;
    public required SwapEntry[] Entries;
    public required long EntryThunksOffset;
    public required long SwapSlotsOffset;
    public required long StubsOffset;
    /// <summary>Which tools learn of each batch of new bodies.</summary>
    public required ToolOptions Tools;
    public readonly ConcurrentDictionary<string, SwapEntry> ByName = new(StringComparer.Ordinal);
    public readonly Stack<int> FreeEntries = new();
    public readonly List<(int Entry, long Epoch)> RetiredEntries = [];
    public readonly EpochTracker Epochs = new();
#if NET9_0_OR_GREATER
    public readonly Lock CommitLock = new();
#else
    public readonly object CommitLock = new(); // net8.0 has no System.Threading.Lock: an ordinary monitor
#endif

    public nint EntryThunk(int entry) => Reservation.Address + (nint)(EntryThunksOffset + (long)entry * 8);
    public nint Slot(int entry) => Reservation.Address + (nint)(SwapSlotsOffset + (long)entry * SlotSize);
    public nint Stub(int entry) => Reservation.Address + (nint)(StubsOffset + (long)entry * ModuleLayout.StubSize);

    /// <summary>Records a reference in both directions: the owner's outgoing list and the target's reverse index,
    /// which makes an update's checks proportional to the callers of what it changes.</summary>
    public void AddReference(Reference r)
    {
        r = r with { OwnerGeneration = Entries[r.Owner].ReferenceGeneration };
        Entries[r.Owner].Outgoing.Add(r);
        Entries[r.Target].Incoming.Add(r);
    }

    /// <summary>Whether a reference in some entry's <see cref="SwapEntry.Incoming"/> is still its owner's.</summary>
    public bool IsLive(in Reference r) => Entries[r.Owner].ReferenceGeneration == r.OwnerGeneration;

    /// <summary>
    /// Drops every outgoing reference of <paramref name="e"/> (its body is being replaced or removed), in
    /// O(its outgoing references): bumping its generation kills them in the targets' reverse indexes, where they are
    /// skipped, and a target's list is compacted once more than half of it is dead (amortized O(1) per reference,
    /// order kept). Removing each from a list instead would cost the list's length per reference: quadratic for an
    /// update that redefines every caller of a function with many callers. Call under <see cref="CommitLock"/>.
    /// </summary>
    public void RemoveReferences(SwapEntry e)
    {
        e.ReferenceGeneration++;
        foreach (Reference r in e.Outgoing)
        {
            WorkSteps++;
            SwapEntry target = Entries[r.Target];
            if (++target.DeadIncoming <= target.Incoming.Count / 2) continue;
            WorkSteps += target.Incoming.Count;
            target.Incoming.RemoveAll(x => !IsLive(x));
            target.DeadIncoming = 0;
        }
        e.Outgoing = [];
    }

    /// <summary>Inner-loop iterations of reference bookkeeping, for tests that check it grows linearly.</summary>
    internal long WorkSteps;

    /// <summary>Frees entries and bodies retired before the oldest epoch a thread is still in. Call under <see cref="CommitLock"/>.</summary>
    public int Reclaim()
    {
        long oldest = Epochs.OldestActive();
        for (int i = RetiredEntries.Count - 1; i >= 0; i--)
        {
            var (entry, epoch) = RetiredEntries[i];
            if (epoch > oldest) continue;
            RetiredEntries.RemoveAt(i);
            // The old body may be freed next: a stale raw pointer to this entry now lands on its refusal stub.
            Publish(Entries[entry], Stub(entry));
            FreeEntries.Push(entry);
        }
        return Arena.Reclaim(oldest);
    }

    /// <summary>Writes a slot: metadata first, the code pointer last and atomically.</summary>
    public void Publish(SwapEntry e, nint target)
    {
        Span<byte> slot = RegionAccess.AsSpan(Slot(e.Index), SlotSize);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], e.Signature?.Hash ?? 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(slot[16..], e.Generation);
        RegionAccess.AtomicWriteInt64(Slot(e.Index), target);
    }
}
