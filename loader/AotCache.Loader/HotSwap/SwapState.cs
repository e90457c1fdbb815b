using System.Collections.Concurrent;
using AotCache.Format;
using AotCache.Loader.Memory;

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
    public CodeArena.Batch? Batch;
    public long Generation;
    public RefusedFunction? Refused;
    public List<Reference> Outgoing = [];
    public List<Reference> Incoming = [];
}

/// <summary>Everything a hot-swappable module keeps beyond a direct one.</summary>
internal sealed class SwapState
{
    public const int SlotSize = 24;

    public required MemoryRegion Reservation;
    public required CodeArena Arena;
    public required SwapEntry[] Entries;
    public required long EntryThunksOffset;
    public required long SwapSlotsOffset;
    public required long StubsOffset;
    public readonly ConcurrentDictionary<string, SwapEntry> ByName = new(StringComparer.Ordinal);
    public readonly Stack<int> FreeEntries = new();
    public readonly List<(int Entry, long Epoch)> RetiredEntries = [];
    public readonly EpochTracker Epochs = new();
    public readonly Lock CommitLock = new();

    public nint EntryThunk(int entry) => Reservation.Address + (nint)(EntryThunksOffset + (long)entry * 8);
    public nint Slot(int entry) => Reservation.Address + (nint)(SwapSlotsOffset + (long)entry * SlotSize);
    public nint Stub(int entry) => Reservation.Address + (nint)(StubsOffset + (long)entry * Linking.ModuleLayout.StubSize);

    /// <summary>Writes a slot: metadata first, the code pointer last and atomically.</summary>
    public void Publish(SwapEntry e, nint target)
    {
        Span<byte> slot = RegionAccess.AsSpan(Slot(e.Index), SlotSize);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], e.Signature?.Hash ?? 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(slot[16..], e.Generation);
        RegionAccess.AtomicWriteInt64(Slot(e.Index), target);
    }
}
