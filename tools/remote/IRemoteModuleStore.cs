namespace AotCache.Remote;

/// <summary>
/// A store that also holds module entries (REMOTE.md §10): one large value per key, fetched and uploaded one at a time in
/// one round trip each. It shares the function store's connection, faults and circuit breaker: a fault here stops the
/// function lookups too, and the other way round [RMT-30].
/// </summary>
public interface IRemoteModuleStore : IRemoteStore
{
    /// <summary>Fetches the module entry of <paramref name="key"/>: at most <see cref="RedisRemoteStoreOptions.MaxModuleBytes"/>
    /// bytes are accepted, and no more than that plus one are received [RMT-28].</summary>
    /// <param name="validate">Called with the entry's bytes if one is found: returns null to accept it, or the reason to refuse it.</param>
    ModuleFetchResult FetchModule(RemoteModuleKey key, Func<ReadOnlyMemory<byte>, string?> validate);

    /// <summary>Uploads a module entry if its key has none yet (first writer wins [RMT-29]).</summary>
    ModuleStoreResult StoreModule(RemoteModuleKey key, ReadOnlyMemory<byte> entry);
}

/// <summary>The result of fetching one module entry.</summary>
/// <param name="Entry">The entry's bytes for a <see cref="FetchOutcome.Hit"/>; empty otherwise.</param>
/// <param name="Refusal">Why the entry was refused, for <see cref="FetchOutcome.Refused"/>.</param>
/// <param name="Detail">The refusal's or the fault's explanation; null for hits and misses.</param>
/// <param name="BytesReceived">Bytes of the value received (0 for a miss).</param>
public sealed record ModuleFetchResult(RemoteModuleKey Key, FetchOutcome Outcome, ReadOnlyMemory<byte> Entry, RefusalReason? Refusal, string? Detail,
    long BytesReceived)
{
    public bool IsHit => Outcome == FetchOutcome.Hit;

    public override string ToString() => $"{Key}: {Outcome}{(Refusal is { } r ? $" ({r})" : "")}{(Detail is null ? "" : $": {Detail}")}";
}

/// <summary>The result of uploading one module entry.</summary>
public sealed record ModuleStoreResult(RemoteModuleKey Key, StoreOutcome Outcome, RefusalReason? Refusal, string? Detail)
{
    public override string ToString() => $"{Key}: {Outcome}{(Refusal is { } r ? $" ({r})" : "")}{(Detail is null ? "" : $": {Detail}")}";
}
