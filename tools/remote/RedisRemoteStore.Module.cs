using System.Diagnostics;
using StackExchange.Redis;

namespace AotCache.Remote;

public sealed partial class RedisRemoteStore : IRemoteModuleStore
{
    /// <inheritdoc/>
    public ModuleFetchResult FetchModule(RemoteModuleKey key, Func<ReadOnlyMemory<byte>, string?> validate) =>
        FetchModuleAsync(key, validate, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>One <c>GETRANGE key 0 MAX</c>: one round trip, at most MAX + 1 bytes received [RMT-28].</summary>
    public async Task<ModuleFetchResult> FetchModuleAsync(RemoteModuleKey key, Func<ReadOnlyMemory<byte>, string?> validate,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(validate);
        if (ReadFault is not null) return Unavailable(key);
        long started = Stopwatch.GetTimestamp();
        RedisValue value;
        try
        {
            IDatabase? database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (database is null) return Unavailable(key);
            Task<RedisValue> pending = database.StringGetRangeAsync(key.Text, 0, Options.MaxModuleBytes);
            await AwaitBatchAsync([pending], cancellationToken).ConfigureAwait(false);
            _counters.RoundTrip();
            if (!pending.IsCompletedSuccessfully)
            {
                Exception? error = pending.IsFaulted ? pending.Exception.InnerException : null;
                if (error is RedisServerException { Kind: RedisErrorKind.WrongType })
                    return new ModuleFetchResult(key, FetchOutcome.Refused, ReadOnlyMemory<byte>.Empty, RefusalReason.NotAnEntry,
                        "the key holds a value that is not a string", 0);
                RemoteFault fault = RedisFaults.During(error, Options.CommandTimeout);
                Trip(fault.WritesOnly ? fault with { Kind = RemoteFaultKind.ServerError } : fault);
                return Unavailable(key);
            }
            value = pending.Result;
        }
        catch (Exception e) when (IsFault(e, cancellationToken))
        {
            // Whatever the client library throws is a fault of the store, never of the build [RMT-30].
            Trip(RedisFaults.During(e, Options.CommandTimeout));
            return Unavailable(key);
        }
        finally
        {
            _counters.AddNetworkTime(Stopwatch.GetElapsedTime(started));
        }

        long length = value.IsNull ? 0 : value.Length();
        if (length == 0) return new ModuleFetchResult(key, FetchOutcome.Miss, ReadOnlyMemory<byte>.Empty, null, null, 0);
        _counters.AddBytesIn(length);
        if (length > Options.MaxModuleBytes)
            return new ModuleFetchResult(key, FetchOutcome.Refused, ReadOnlyMemory<byte>.Empty, RefusalReason.TooLarge,
                $"the module entry is larger than the maximum of {Options.MaxModuleBytes} bytes", length);
        byte[] bytes = (byte[])value!;
        string? refusal;
        try
        {
            refusal = validate(bytes);
        }
        catch (Exception e)
        {
            refusal = $"the validation callback threw {e.GetType().Name}: {e.Message}";
        }
        return refusal is null
            ? new ModuleFetchResult(key, FetchOutcome.Hit, bytes, null, null, length)
            : new ModuleFetchResult(key, FetchOutcome.Refused, ReadOnlyMemory<byte>.Empty, RefusalReason.Invalid, refusal, length);
    }

    /// <inheritdoc/>
    public ModuleStoreResult StoreModule(RemoteModuleKey key, ReadOnlyMemory<byte> entry) =>
        StoreModuleAsync(key, entry, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>One set-if-absent (<c>SETNX</c>, or <c>SET ... NX</c> with the expiry): first writer wins [RMT-29].</summary>
    public async Task<ModuleStoreResult> StoreModuleAsync(RemoteModuleKey key, ReadOnlyMemory<byte> entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (entry.IsEmpty) throw new ArgumentException("an empty value reads as a miss", nameof(entry));
        if (Options.ReadOnly) return new ModuleStoreResult(key, StoreOutcome.Refused, RefusalReason.ReadOnly, "the store was opened read-only");
        if (entry.Length > Options.MaxModuleBytes)
            return new ModuleStoreResult(key, StoreOutcome.Refused, RefusalReason.TooLarge,
                $"the module entry's {entry.Length} bytes exceed the maximum of {Options.MaxModuleBytes}");
        if (WriteFault is not null) return new ModuleStoreResult(key, StoreOutcome.Unavailable, null, WriteFault?.Reason ?? "the store is closed");
        long started = Stopwatch.GetTimestamp();
        try
        {
            IDatabase? database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (database is null) return new ModuleStoreResult(key, StoreOutcome.Unavailable, null, Fault?.Reason ?? "the store is closed");
            Expiration expiry = Options.TimeToLive is { } ttl ? new Expiration(ttl) : Expiration.Default;
            Task<bool> pending = database.StringSetAsync(key.Text, entry, expiry, ValueCondition.NotExists);
            _counters.AddBytesOut(entry.Length);
            await AwaitBatchAsync([pending], cancellationToken).ConfigureAwait(false);
            _counters.RoundTrip();
            if (pending.IsCompletedSuccessfully)
                return new ModuleStoreResult(key, pending.Result ? StoreOutcome.Stored : StoreOutcome.AlreadyPresent, null, null);
            RemoteFault fault = RedisFaults.During(pending.IsFaulted ? pending.Exception.InnerException : null, Options.CommandTimeout);
            Trip(fault);
            return fault.WritesOnly
                ? new ModuleStoreResult(key, StoreOutcome.Refused, fault.Kind == RemoteFaultKind.Full ? RefusalReason.Full : RefusalReason.WriteRefused, fault.Reason)
                : new ModuleStoreResult(key, StoreOutcome.Unavailable, null, fault.Reason);
        }
        catch (Exception e) when (IsFault(e, cancellationToken))
        {
            Trip(RedisFaults.During(e, Options.CommandTimeout));
            return new ModuleStoreResult(key, StoreOutcome.Unavailable, null, Fault?.Reason ?? "the store is closed");
        }
        finally
        {
            _counters.AddNetworkTime(Stopwatch.GetElapsedTime(started));
        }
    }

    private ModuleFetchResult Unavailable(RemoteModuleKey key) =>
        new(key, FetchOutcome.Unavailable, ReadOnlyMemory<byte>.Empty, null, Fault?.Reason ?? "the store is closed", 0);
}
