namespace AotCache.Remote;

/// <summary>What went wrong with a remote store as a whole (not with one entry).</summary>
public enum RemoteFaultKind
{
    /// <summary>No connection could be made: connection refused, an unknown host, or no answer within the connect timeout.</summary>
    Unreachable = 1,
    /// <summary>The server did not answer a batch within the command timeout (a stalled or overloaded server).</summary>
    Timeout,
    /// <summary>The connection broke while the store was in use (the server was killed or restarted, the network failed).</summary>
    ConnectionLost,
    /// <summary>The server answered with an error that concerns the store, not one entry.</summary>
    ServerError,
    /// <summary>The server is full and does not evict: writes are refused, reads still work.</summary>
    Full,
    /// <summary>The server refuses writes for another reason (read-only replica or user, failing persistence); reads still work.</summary>
    WritesRefused,
}

/// <summary>How usable a remote store still is. A store only ever moves down this list (a circuit breaker) [RMT-14].</summary>
public enum RemoteStoreHealth
{
    /// <summary>Reads and writes are attempted.</summary>
    Healthy = 1,
    /// <summary>Reads are attempted; writes are not (the server is full or refuses writes).</summary>
    WritesDisabled,
    /// <summary>Nothing is attempted: every call answers <see cref="FetchOutcome.Unavailable"/> or <see cref="StoreOutcome.Unavailable"/> at once.</summary>
    Disabled,
}

/// <summary>A fault of the remote store as a whole.</summary>
/// <param name="Kind">What kind of fault.</param>
/// <param name="Reason">What happened, for people: e.g. "connection refused by 127.0.0.1:6379".</param>
public sealed record RemoteFault(RemoteFaultKind Kind, string Reason)
{
    /// <summary>Whether the fault disables writes only; reads go on.</summary>
    public bool WritesOnly => Kind is RemoteFaultKind.Full or RemoteFaultKind.WritesRefused;
}
