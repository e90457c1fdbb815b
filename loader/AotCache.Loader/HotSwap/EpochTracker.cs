namespace AotCache.Loader.HotSwap;

/// <summary>
/// Tells when no thread can still be executing a replaced body (epoch-based reclamation). A thread
/// announces the global epoch when it enters loaded code and clears it when it leaves; a body retired at
/// epoch R may be freed once every thread inside loaded code entered at R or later, because such a thread
/// read the swap slots after they were updated.
/// </summary>
/// <remarks>
/// <see cref="LoadedModule.Invoke(string, ReadOnlySpan{Value})"/> enters and leaves automatically. Hosts that call raw function
/// pointers wrap their calls in <see cref="LoadedModule.EnterCode"/>; code that runs outside such a scope
/// is not protected and must not run across a commit.
/// </remarks>
internal sealed class EpochTracker : IDisposable
{
    private sealed class Record
    {
        public long Entered; // 0: not inside loaded code
        public int Depth;
    }

    private long _global = 1;
    private readonly ThreadLocal<Record> _records = new(() => new Record(), trackAllValues: true);

    public void Enter()
    {
        Record r = _records.Value!;
        if (r.Depth++ == 0)
            // A full fence: the announcement is visible before this thread reads any swap slot.
            Interlocked.Exchange(ref r.Entered, Volatile.Read(ref _global));
    }

    public void Exit()
    {
        Record r = _records.Value!;
        if (--r.Depth == 0) Volatile.Write(ref r.Entered, 0);
    }

    /// <summary>Starts a new epoch after swap slots were written; returns it (the retirement epoch).</summary>
    public long Advance() => Interlocked.Increment(ref _global);

    /// <summary>The oldest epoch any thread inside loaded code entered at; <see cref="long.MaxValue"/> when none is inside.</summary>
    public long OldestActive()
    {
        long oldest = long.MaxValue;
        foreach (Record r in _records.Values)
        {
            long e = Volatile.Read(ref r.Entered);
            if (e != 0 && e < oldest) oldest = e;
        }
        return oldest;
    }

    public void Dispose() => _records.Dispose();
}
