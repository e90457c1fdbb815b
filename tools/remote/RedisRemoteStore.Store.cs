using System.Diagnostics;
using StackExchange.Redis;

namespace AotCache.Remote;

public sealed partial class RedisRemoteStore
{
    /// <inheritdoc/>
    public IReadOnlyList<StoreResult> StoreMany(IReadOnlyList<RemoteEntry> entries) =>
        StoreManyAsync(entries, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StoreResult>> StoreManyAsync(IReadOnlyList<RemoteEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i] is null || entries[i].Key is null) throw new ArgumentException($"entry {i} or its key is null", nameof(entries));
            if (entries[i].Bytes.IsEmpty) throw new ArgumentException($"entry {i} ({entries[i].Key}) is empty: an empty value reads as a miss", nameof(entries));
        }
        var results = new StoreResult[entries.Count];
        if (entries.Count == 0) return results;

        // Refusals decided here send nothing: a read-only store, and entries over the size limit.
        var toSend = new List<int>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            RemoteEntry entry = entries[i];
            if (Options.ReadOnly)
                results[i] = Refuse(entry.Key, RefusalReason.ReadOnly, "the store was opened read-only");
            else if (entry.Bytes.Length > Options.MaxEntryBytes)
                results[i] = Refuse(entry.Key, RefusalReason.TooLarge, $"the entry's {entry.Bytes.Length} bytes exceed the maximum of {Options.MaxEntryBytes}");
            else
                toSend.Add(i);
        }
        if (toSend.Count == 0) return results;

        bool networked = WriteFault is null;
        long started = Stopwatch.GetTimestamp();
        try
        {
            IDatabase? database = networked ? await DatabaseAsync(cancellationToken).ConfigureAwait(false) : null;
            await ForEachBatchAsync(toSend.Count, async (offset, count, token) =>
            {
                if (database is null || WriteFault is not null) FillUnavailable(entries, toSend, offset, count, results);
                else await StoreBatchAsync(database, entries, toSend, offset, count, results, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsFault(e, cancellationToken))
        {
            // Whatever the client library throws is a fault of the store, never of the build [RMT-13].
            Trip(RedisFaults.During(e, Options.CommandTimeout));
            for (int i = 0; i < toSend.Count; i++)
                if (results[toSend[i]] is null) FillUnavailable(entries, toSend, i, 1, results);
        }
        finally
        {
            if (networked) _counters.AddNetworkTime(Stopwatch.GetElapsedTime(started));
        }
        return results;
    }

    private StoreResult Refuse(RemoteKey key, RefusalReason reason, string detail)
    {
        _counters.Refuse(reason);
        return new StoreResult(key, StoreOutcome.Refused, reason, detail);
    }

    private void FillUnavailable(IReadOnlyList<RemoteEntry> entries, List<int> toSend, int offset, int count, StoreResult[] results)
    {
        string reason = WriteFault?.Reason ?? Fault?.Reason ?? "the store is closed";
        for (int i = offset; i < offset + count; i++)
            results[toSend[i]] = new StoreResult(entries[toSend[i]].Key, StoreOutcome.Unavailable, null, reason);
        _counters.AddUnavailable(count);
    }

    /// <summary>One batch: a set-if-absent per entry (<c>SETNX</c>, or <c>SET ... NX</c> with the expiry), sent together. The first writer of a key wins
    /// [RMT-5]; a later one learns that the key is already present.</summary>
    private async ValueTask StoreBatchAsync(IDatabase database, IReadOnlyList<RemoteEntry> entries, List<int> toSend, int offset, int count,
        StoreResult[] results, CancellationToken cancellationToken)
    {
        Expiration expiry = Options.TimeToLive is { } ttl ? new Expiration(ttl) : Expiration.Default;
        IBatch batch = database.CreateBatch();
        var pending = new Task<bool>[count];
        for (int i = 0; i < count; i++)
        {
            RemoteEntry entry = entries[toSend[offset + i]];
            pending[i] = batch.StringSetAsync(entry.Key.Text, entry.Bytes, expiry, ValueCondition.NotExists);
            _counters.AddBytesOut(entry.Bytes.Length);
        }
        if (Execute(batch, pending) is { } refused)
        {
            Trip(refused);
            FillUnavailable(entries, toSend, offset, count, results);
            return;
        }
        _counters.RoundTrip();
        await AwaitBatchAsync(pending, cancellationToken).ConfigureAwait(false);

        RemoteFault? fault = null;
        for (int i = 0; i < count; i++)
        {
            int index = toSend[offset + i];
            RemoteKey key = entries[index].Key;
            Task<bool> answer = pending[i];
            if (answer.IsCompletedSuccessfully)
            {
                if (answer.Result) _counters.Store();
                else _counters.AlreadyPresent();
                results[index] = new StoreResult(key, answer.Result ? StoreOutcome.Stored : StoreOutcome.AlreadyPresent, null, null);
                continue;
            }
            RemoteFault thisFault = RedisFaults.During(answer.IsFaulted ? answer.Exception.InnerException : null, Options.CommandTimeout);
            fault ??= thisFault;
            if (thisFault.WritesOnly)
            {
                results[index] = Refuse(key, thisFault.Kind == RemoteFaultKind.Full ? RefusalReason.Full : RefusalReason.WriteRefused, thisFault.Reason);
            }
            else
            {
                _counters.AddUnavailable(1);
                results[index] = new StoreResult(key, StoreOutcome.Unavailable, null, thisFault.Reason);
            }
        }
        if (fault is not null) Trip(fault);
    }
}
