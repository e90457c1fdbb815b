using AotCache.Loader.Linking;
using AotCache.Loader.Memory;

namespace AotCache.Loader.HotSwap;

/// <summary>
/// Pages for new bodies inside the module's reserved range, so that new code reaches the module's
/// thunks, slots and data with rel32. Each commit places all its bodies in one batch of contiguous pages
/// (one protection change per commit); a batch is freed when its last body is replaced and no thread can
/// still be inside it.
/// </summary>
internal sealed class CodeArena(IExecutableMemory memory, MemoryRegion reservation, long start, int pageSize)
{
    internal sealed class Batch(long offset, long length)
    {
        public long Offset { get; } = offset;
        public long Length { get; } = length;
        public int LiveBodies;
        public long RetiredAt; // 0: still live
        /// <summary>The batch's bodies as the unwinder and tools know them; withdrawn before the pages are released [LOAD-10].</summary>
        public CodeRegistration? Registration;
    }

    private readonly List<(long Offset, long Length)> _free = [(start, reservation.Size - start)];
    private readonly List<Batch> _retired = [];
    private readonly HashSet<Batch> _allocated = [];

    public long CommittedBytes { get; private set; }
    public int LiveBatches => _allocated.Count;
    public int RetiredBatches => _retired.Count;

    /// <summary>Commits a run of pages, read-write, for <paramref name="bytes"/> bytes of new code.</summary>
    public Batch Allocate(long bytes)
    {
        long length = (bytes + pageSize - 1) / pageSize * pageSize;
        for (int i = 0; i < _free.Count; i++)
        {
            var (offset, available) = _free[i];
            if (available < length) continue;
            if (available == length) _free.RemoveAt(i); else _free[i] = (offset + length, available - length);
            memory.Commit(reservation, offset, length);
            CommittedBytes += length;
            var batch = new Batch(offset, length);
            _allocated.Add(batch);
            return batch;
        }
        throw new InvalidOperationException($"the module's code reservation is full: no {length} contiguous bytes left for new bodies");
    }

    public void MakeExecutable(Batch batch) => memory.Protect(reservation, batch.Offset, batch.Length, PageProtection.ReadExecute);

    /// <summary>Gives back a batch that was never published (a commit failed while relocating).</summary>
    public void Abandon(Batch batch) => Release(batch);

    /// <summary>Marks a batch whose bodies were all replaced; it is freed by <see cref="Reclaim"/> once safe.</summary>
    public void Retire(Batch batch, long epoch)
    {
        batch.RetiredAt = epoch;
        _retired.Add(batch);
    }

    /// <summary>Frees every retired batch that no thread can still be executing.</summary>
    public int Reclaim(long oldestActiveEpoch)
    {
        int freed = 0;
        for (int i = _retired.Count - 1; i >= 0; i--)
        {
            if (_retired[i].RetiredAt > oldestActiveEpoch) continue;
            Release(_retired[i]);
            _retired.RemoveAt(i);
            freed++;
        }
        return freed;
    }

    /// <summary>Withdraws every batch's registration: the module is being unloaded.</summary>
    public void DisposeRegistrations()
    {
        foreach (Batch batch in _allocated)
        {
            batch.Registration?.Dispose();
            batch.Registration = null;
        }
    }

    private void Release(Batch batch)
    {
        batch.Registration?.Dispose(); // tools forget the bodies before their pages go [LOAD-10]
        batch.Registration = null;
        _allocated.Remove(batch);
        memory.Decommit(reservation, batch.Offset, batch.Length);
        CommittedBytes -= batch.Length;
        _free.Add((batch.Offset, batch.Length));
        // Coalesce neighbours so that long runs stay available.
        _free.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        for (int i = _free.Count - 1; i > 0; i--)
        {
            if (_free[i - 1].Offset + _free[i - 1].Length != _free[i].Offset) continue;
            _free[i - 1] = (_free[i - 1].Offset, _free[i - 1].Length + _free[i].Length);
            _free.RemoveAt(i);
        }
    }
}
