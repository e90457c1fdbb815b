namespace AotCache.Remote;

/// <summary>One entry to upload: a key and the entry's bytes, which the store treats as opaque.</summary>
public sealed record RemoteEntry(RemoteKey Key, ReadOnlyMemory<byte> Bytes);

/// <summary>What a fetch found for one key. Everything but <see cref="Hit"/> is a miss to the caller: compile the function.</summary>
public enum FetchOutcome
{
    /// <summary>The store held an entry for the key and the validation callback accepted it.</summary>
    Hit = 1,
    /// <summary>The store holds no entry for the key.</summary>
    Miss,
    /// <summary>The store held something for the key that was refused (<see cref="FetchResult.Refusal"/> says why).</summary>
    Refused,
    /// <summary>The store could not be asked: it is degraded (<see cref="IRemoteStore.Warning"/> says why).</summary>
    Unavailable,
}

/// <summary>What a store did with one uploaded entry.</summary>
public enum StoreOutcome
{
    /// <summary>This upload wrote the entry: it was the first for its key.</summary>
    Stored = 1,
    /// <summary>An entry for the key was already there and was kept (first writer wins [RMT-5]).</summary>
    AlreadyPresent,
    /// <summary>The entry was not stored (<see cref="StoreResult.Refusal"/> says why).</summary>
    Refused,
    /// <summary>The store could not be asked: it is degraded (<see cref="IRemoteStore.Warning"/> says why).</summary>
    Unavailable,
}

/// <summary>Why one entry was refused.</summary>
public enum RefusalReason
{
    /// <summary>The entry is larger than the store's maximum entry size.</summary>
    TooLarge = 1,
    /// <summary>The validation callback refused the fetched entry (or threw).</summary>
    Invalid,
    /// <summary>The key holds something that is not a string value, so it cannot be an entry.</summary>
    NotAnEntry,
    /// <summary>The server is out of memory and does not evict (<c>maxmemory-policy noeviction</c>): it refused the write.</summary>
    Full,
    /// <summary>The server refused writes (a read-only replica, a read-only user, or failing persistence).</summary>
    WriteRefused,
    /// <summary>The store was opened read-only: nothing is uploaded.</summary>
    ReadOnly,
}

/// <summary>The result of fetching one key.</summary>
/// <param name="Key">The key asked for.</param>
/// <param name="Outcome">What was found.</param>
/// <param name="Entry">The entry's bytes for a <see cref="FetchOutcome.Hit"/>; empty otherwise.</param>
/// <param name="Refusal">Why the entry was refused, for <see cref="FetchOutcome.Refused"/>.</param>
/// <param name="Detail">The refusal's or the fault's explanation; null for hits and misses.</param>
public sealed record FetchResult(RemoteKey Key, FetchOutcome Outcome, ReadOnlyMemory<byte> Entry, RefusalReason? Refusal, string? Detail)
{
    /// <summary>Whether the caller may use <see cref="Entry"/>; otherwise it compiles the function itself.</summary>
    public bool IsHit => Outcome == FetchOutcome.Hit;

    /// <summary>A short line for logs.</summary>
    public override string ToString() => $"{Key}: {Outcome}{(Refusal is { } r ? $" ({r})" : "")}{(Detail is null ? "" : $": {Detail}")}";
}

/// <summary>The result of uploading one entry.</summary>
/// <param name="Key">The entry's key.</param>
/// <param name="Outcome">What the store did.</param>
/// <param name="Refusal">Why the entry was refused, for <see cref="StoreOutcome.Refused"/>.</param>
/// <param name="Detail">The refusal's or the fault's explanation; null when stored or already present.</param>
public sealed record StoreResult(RemoteKey Key, StoreOutcome Outcome, RefusalReason? Refusal, string? Detail)
{
    /// <summary>A short line for logs.</summary>
    public override string ToString() => $"{Key}: {Outcome}{(Refusal is { } r ? $" ({r})" : "")}{(Detail is null ? "" : $": {Detail}")}";
}
