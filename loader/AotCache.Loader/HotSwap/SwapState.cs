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

internal readonly record struct Reference(int Owner, int Target, ReferenceKind Kind, ulong ExpectedSignature, ContentHash ExpectedContent);

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
    /// <summary>Bytes of <see cref="Body"/>; 0 while the entry points at a stub.</summary>
    public long BodySize;
    public CodeArena.Batch? Batch;
    public long Generation;
    public Refusal? Refused;
    public List<Reference> Outgoing = [];
    public List<Reference> Incoming = [];
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
    public readonly Lock CommitLock = new();

    public nint EntryThunk(int entry) => Reservation.Address + (nint)(EntryThunksOffset + (long)entry * 8);
    public nint Slot(int entry) => Reservation.Address + (nint)(SwapSlotsOffset + (long)entry * SlotSize);
    public nint Stub(int entry) => Reservation.Address + (nint)(StubsOffset + (long)entry * ModuleLayout.StubSize);

    /// <summary>Records a reference in both directions: the owner's outgoing list and the target's reverse index,
    /// which makes an update's checks proportional to the callers of what it changes.</summary>
    public void AddReference(Reference r)
    {
        Entries[r.Owner].Outgoing.Add(r);
        Entries[r.Target].Incoming.Add(r);
    }

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
