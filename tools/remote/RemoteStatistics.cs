namespace AotCache.Remote;

/// <summary>What a remote store has done so far: a snapshot of its counters.</summary>
/// <param name="Hits">Keys fetched and accepted.</param>
/// <param name="Misses">Keys the store did not hold.</param>
/// <param name="RefusedByReason">Entries refused, fetched or uploaded, by reason (reasons with none are left out).</param>
/// <param name="Unavailable">Keys and entries not attempted or not answered because the store was degraded.</param>
/// <param name="Stored">Entries this client wrote.</param>
/// <param name="AlreadyPresent">Entries not written because their key already had one.</param>
/// <param name="BytesIn">Bytes of entry values received.</param>
/// <param name="BytesOut">Bytes of entry values sent.</param>
/// <param name="RoundTrips">Batches sent (one network round trip each, per server involved).</param>
/// <param name="NetworkTime">Wall-clock time the store's calls spent connecting and waiting for batches.</param>
public sealed record RemoteStatistics(
    long Hits,
    long Misses,
    IReadOnlyDictionary<RefusalReason, long> RefusedByReason,
    long Unavailable,
    long Stored,
    long AlreadyPresent,
    long BytesIn,
    long BytesOut,
    long RoundTrips,
    TimeSpan NetworkTime)
{
    /// <summary>Entries refused for any reason.</summary>
    public long Refused => RefusedByReason.Values.Sum();

    /// <summary>Refusals for one reason.</summary>
    public long RefusedFor(RefusalReason reason) => RefusedByReason.GetValueOrDefault(reason);

    /// <summary>One line for a build summary.</summary>
    public override string ToString() =>
        $"remote: {Hits} hits, {Misses} misses, {Refused} refused" +
        (RefusedByReason.Count == 0 ? "" : $" ({string.Join(", ", RefusedByReason.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"))})") +
        $", {Unavailable} unavailable, {Stored} stored, {AlreadyPresent} already present, {BytesIn} bytes in, {BytesOut} bytes out, " +
        $"{RoundTrips} round trips, {NetworkTime.TotalMilliseconds:0} ms on the network";
}

/// <summary>The live counters behind <see cref="RemoteStatistics"/>; safe to update from several batches at once.</summary>
internal sealed class RemoteCounters
{
    private long _hits, _misses, _unavailable, _stored, _alreadyPresent, _bytesIn, _bytesOut, _roundTrips, _networkTicks;
    private readonly long[] _refused = new long[Enum.GetValues<RefusalReason>().Max(r => (int)r) + 1];

    public void Hit() => Interlocked.Increment(ref _hits);
    public void Miss() => Interlocked.Increment(ref _misses);
    public void Refuse(RefusalReason reason) => Interlocked.Increment(ref _refused[(int)reason]);
    public void AddUnavailable(int count) => Interlocked.Add(ref _unavailable, count);
    public void Store() => Interlocked.Increment(ref _stored);
    public void AlreadyPresent() => Interlocked.Increment(ref _alreadyPresent);
    public void AddBytesIn(long bytes) => Interlocked.Add(ref _bytesIn, bytes);
    public void AddBytesOut(long bytes) => Interlocked.Add(ref _bytesOut, bytes);
    public void RoundTrip() => Interlocked.Increment(ref _roundTrips);
    public void AddNetworkTime(TimeSpan time) => Interlocked.Add(ref _networkTicks, time.Ticks);

    public RemoteStatistics Snapshot()
    {
        var refused = new Dictionary<RefusalReason, long>();
        foreach (RefusalReason reason in Enum.GetValues<RefusalReason>())
        {
            long n = Interlocked.Read(ref _refused[(int)reason]);
            if (n != 0) refused[reason] = n;
        }
        return new RemoteStatistics(Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), refused, Interlocked.Read(ref _unavailable),
            Interlocked.Read(ref _stored), Interlocked.Read(ref _alreadyPresent), Interlocked.Read(ref _bytesIn), Interlocked.Read(ref _bytesOut),
            Interlocked.Read(ref _roundTrips), TimeSpan.FromTicks(Interlocked.Read(ref _networkTicks)));
    }
}
