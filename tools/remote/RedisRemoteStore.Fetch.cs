using System.Diagnostics;
using StackExchange.Redis;

namespace AotCache.Remote;

public sealed partial class RedisRemoteStore
{
    /// <inheritdoc/>
    public IReadOnlyList<FetchResult> FetchMany(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate) =>
        FetchManyAsync(keys, validate, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async Task<IReadOnlyList<FetchResult>> FetchManyAsync(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(validate);
        for (int i = 0; i < keys.Count; i++)
            if (keys[i] is null) throw new ArgumentException($"key {i} is null", nameof(keys));
        var results = new FetchResult[keys.Count];
        if (keys.Count == 0) return results;

        // A store disabled before this call answers without the network, and without counting network time.
        bool networked = ReadFault is null;
        long started = Stopwatch.GetTimestamp();
        try
        {
            IDatabase? database = networked ? await DatabaseAsync(cancellationToken).ConfigureAwait(false) : null;
            await ForEachBatchAsync(keys.Count, async (offset, count, token) =>
            {
                if (database is null || ReadFault is not null) FillUnavailable(keys, offset, count, results);
                else await FetchBatchAsync(database, keys, offset, count, results, validate, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsFault(e, cancellationToken))
        {
            // Whatever the client library throws is a fault of the store, never of the build [RMT-13].
            Trip(RedisFaults.During(e, Options.CommandTimeout));
            for (int i = 0; i < results.Length; i++)
                if (results[i] is null) FillUnavailable(keys, i, 1, results);
        }
        finally
        {
            if (networked) _counters.AddNetworkTime(Stopwatch.GetElapsedTime(started));
        }
        return results;
    }

    private void FillUnavailable(IReadOnlyList<RemoteKey> keys, int offset, int count, FetchResult[] results)
    {
        string reason = Fault?.Reason ?? "the store is closed";
        for (int i = offset; i < offset + count; i++)
            results[i] = new FetchResult(keys[i], FetchOutcome.Unavailable, ReadOnlyMemory<byte>.Empty, null, reason);
        _counters.AddUnavailable(count);
    }

    /// <summary>One batch: <c>GETRANGE key 0 MAX</c> per key, sent together; a value longer than MAX is refused having
    /// received MAX + 1 bytes of it.</summary>
    private async ValueTask FetchBatchAsync(IDatabase database, IReadOnlyList<RemoteKey> keys, int offset, int count, FetchResult[] results,
        Func<string, ReadOnlyMemory<byte>, string?> validate, CancellationToken cancellationToken)
    {
        IBatch batch = database.CreateBatch();
        var pending = new Task<RedisValue>[count];
        for (int i = 0; i < count; i++)
            pending[i] = batch.StringGetRangeAsync(keys[offset + i].Text, 0, Options.MaxEntryBytes);
        if (Execute(batch, pending) is { } refused)
        {
            Trip(refused);
            FillUnavailable(keys, offset, count, results);
            return;
        }
        _counters.RoundTrip();
        await AwaitBatchAsync(pending, cancellationToken).ConfigureAwait(false);

        RemoteFault? fault = null;
        for (int i = 0; i < count; i++)
        {
            RemoteKey key = keys[offset + i];
            Task<RedisValue> answer = pending[i];
            if (answer.IsCompletedSuccessfully)
            {
                results[offset + i] = Found(key, answer.Result, validate);
                continue;
            }
            Exception? error = answer.IsFaulted ? answer.Exception.InnerException : null;
            if (error is RedisServerException { Kind: RedisErrorKind.WrongType })
            {
                _counters.Refuse(RefusalReason.NotAnEntry);
                results[offset + i] = new FetchResult(key, FetchOutcome.Refused, ReadOnlyMemory<byte>.Empty, RefusalReason.NotAnEntry,
                    "the key holds a value that is not a string");
                continue;
            }
            fault ??= RedisFaults.During(error, Options.CommandTimeout);
            _counters.AddUnavailable(1);
            results[offset + i] = new FetchResult(key, FetchOutcome.Unavailable, ReadOnlyMemory<byte>.Empty, null, fault.Reason);
        }
        // A write-only fault (such as OOM) cannot come from a read; if one did, it still must not stop reads.
        if (fault is not null) Trip(fault.WritesOnly ? fault with { Kind = RemoteFaultKind.ServerError } : fault);
    }

    private FetchResult Found(RemoteKey key, RedisValue value, Func<string, ReadOnlyMemory<byte>, string?> validate)
    {
        // GETRANGE answers an empty string for a missing key; an empty value is no entry either.
        long length = value.IsNull ? 0 : value.Length();
        if (length == 0)
        {
            _counters.Miss();
            return new FetchResult(key, FetchOutcome.Miss, ReadOnlyMemory<byte>.Empty, null, null);
        }
        _counters.AddBytesIn(length);
        if (length > Options.MaxEntryBytes)
        {
            _counters.Refuse(RefusalReason.TooLarge);
            return new FetchResult(key, FetchOutcome.Refused, ReadOnlyMemory<byte>.Empty, RefusalReason.TooLarge,
                $"the entry is larger than the maximum of {Options.MaxEntryBytes} bytes");
        }
        byte[] bytes = (byte[])value!;
        string? refusal;
        try
        {
            refusal = validate(key.Text, bytes);
        }
        catch (Exception e)
        {
            // Validators parse hostile bytes; one that throws refuses the entry rather than failing the build.
            refusal = $"the validation callback threw {e.GetType().Name}: {e.Message}";
        }
        if (refusal is not null)
        {
            _counters.Refuse(RefusalReason.Invalid);
            return new FetchResult(key, FetchOutcome.Refused, ReadOnlyMemory<byte>.Empty, RefusalReason.Invalid, refusal);
        }
        _counters.Hit();
        return new FetchResult(key, FetchOutcome.Hit, bytes, null, null);
    }
}
