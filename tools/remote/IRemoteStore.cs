namespace AotCache.Remote;

/// <summary>
/// A shared store of compiled functions, one entry per key (REMOTE.md). Entries are opaque bytes here; whoever
/// fetches one validates it through the callback it passes, because a remote store is untrusted input [RMT-8].
/// </summary>
/// <remarks>
/// Faults of the store never throw: a fetch answers <see cref="FetchOutcome.Unavailable"/>, an upload
/// <see cref="StoreOutcome.Unavailable"/>, and the build goes on by compiling [RMT-13]. After the first fault the store
/// stops trying (see <see cref="Health"/>) and <see cref="Warning"/> says why, once [RMT-14]. Only misuse by the
/// caller (a null argument) and cancellation through the token throw.
/// </remarks>
public interface IRemoteStore : IDisposable
{
    /// <summary>How usable the store still is.</summary>
    RemoteStoreHealth Health { get; }

    /// <summary>The first fault, or null while there has been none.</summary>
    RemoteFault? Fault { get; }

    /// <summary>One line for a front end to print once, set by the first fault and never changed after; null while healthy.</summary>
    string? Warning { get; }

    /// <summary>The counters so far.</summary>
    RemoteStatistics Statistics { get; }

    /// <summary>Fetches the entries of <paramref name="keys"/>, in batches of one round trip each.</summary>
    /// <param name="keys">The keys; results come back in the same order.</param>
    /// <param name="validate">Called once per entry found, with its key's text and its bytes: returns null to accept the
    /// entry, or the reason to refuse it. A refused entry (also one whose callback threw) is a miss to the caller,
    /// counted as refused with <see cref="RefusalReason.Invalid"/>.</param>
    IReadOnlyList<FetchResult> FetchMany(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate);

    /// <inheritdoc cref="FetchMany"/>
    Task<IReadOnlyList<FetchResult>> FetchManyAsync(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate,
        CancellationToken cancellationToken = default);

    /// <summary>Uploads entries, each only if its key has none yet (first writer wins), in batches of one round trip each.</summary>
    /// <param name="entries">The entries; results come back in the same order.</param>
    IReadOnlyList<StoreResult> StoreMany(IReadOnlyList<RemoteEntry> entries);

    /// <inheritdoc cref="StoreMany"/>
    Task<IReadOnlyList<StoreResult>> StoreManyAsync(IReadOnlyList<RemoteEntry> entries, CancellationToken cancellationToken = default);
}
