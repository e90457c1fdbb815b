namespace AotCache.Remote;

/// <summary>Settings of a <see cref="RedisRemoteStore"/>. The defaults suit a team cache on a local network.</summary>
public sealed record RedisRemoteStoreOptions
{
    /// <summary>Time allowed to connect before the store is degraded: a TCP check of the endpoints and the client's
    /// handshake (with every node of a cluster) together. Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Time allowed for one command, and for one batch's round trip including its replies, in the synchronous and the
    /// asynchronous methods alike; a batch not answered in time degrades the store. Default 1 s.
    /// </summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Largest entry stored or accepted, in bytes. A fetch never receives more than this plus one byte per key,
    /// whatever the server holds [RMT-11]. Default 1 MiB.
    /// </summary>
    public int MaxEntryBytes { get; init; } = 1 << 20;

    /// <summary>
    /// Largest module entry (REMOTE.md §10) stored or accepted, in bytes: a module fetch never receives more than this plus
    /// one byte [RMT-28]. Default 64 MiB (a 10,000-function Nib program's cache is 5.3 MiB, a 100,000-function one about 55 MB).
    /// </summary>
    public int MaxModuleBytes { get; init; } = 64 << 20;

    /// <summary>Most keys or entries sent in one batch (one round trip). Default 256.</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>Most batches in flight at once for one call. Default 2.</summary>
    public int MaxParallelBatches { get; init; } = 2;

    /// <summary>Expiry set on every entry this client writes; null (the default) sets none and leaves eviction to the server [RMT-6].</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>Whether to fetch only: every upload is refused with <see cref="RefusalReason.ReadOnly"/> and nothing is sent.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its range; the message names it.</exception>
    public void Validate()
    {
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(CommandTimeout, nameof(CommandTimeout));
        if (TimeToLive is { } ttl && ttl < TimeSpan.FromMilliseconds(1))
            throw new ArgumentOutOfRangeException(nameof(TimeToLive), ttl, "a time to live must be at least 1 ms, or null for none");
        if (MaxEntryBytes is < 1 or > 512 * 1024 * 1024 - 1)
            throw new ArgumentOutOfRangeException(nameof(MaxEntryBytes), MaxEntryBytes, "must be from 1 byte to 512 MiB - 1 (Redis's largest string)");
        if (MaxModuleBytes is < 1 or > 512 * 1024 * 1024 - 1)
            throw new ArgumentOutOfRangeException(nameof(MaxModuleBytes), MaxModuleBytes, "must be from 1 byte to 512 MiB - 1 (Redis's largest string)");
        if (MaxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "must be at least 1");
        if (MaxParallelBatches < 1) throw new ArgumentOutOfRangeException(nameof(MaxParallelBatches), MaxParallelBatches, "must be at least 1");
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(name, value, "must be from 1 ms to 10 minutes");
    }
}
