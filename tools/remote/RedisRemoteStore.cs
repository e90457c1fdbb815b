using System.Diagnostics;
using StackExchange.Redis;

namespace AotCache.Remote;

/// <summary>
/// A remote store on one Redis server or a Redis Cluster (REMOTE.md). Connects on first use; the client library
/// routes every key to the node that serves its slot. Fetches send <c>GETRANGE key 0 MAX</c> and uploads
/// a set-if-absent (<c>SETNX key value</c>, or <c>SET key value NX</c> with the expiry), in batches of one round trip each.
/// </summary>
/// <remarks>
/// One instance serves one build. Faults never throw: the first one degrades the store for the rest of its life
/// (<see cref="Health"/>) and sets <see cref="Warning"/>; later calls answer at once without touching the network.
/// A full server, or one that refuses writes, disables uploads only. Safe to use from several threads at once.
/// </remarks>
public sealed partial class RedisRemoteStore : IRemoteStore
{
    private readonly RemoteCounters _counters = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly Lock _stateLock = new();
    private ConnectionMultiplexer? _connection;
    private RemoteFault? _firstFault;
    private RemoteFault? _readFault;
    private RemoteFault? _writeFault;
    private string? _warning;
    private Task _closing = Task.CompletedTask;
    private bool _disposed;

    /// <summary>Creates a store for <paramref name="address"/>, <c>redis://HOST:PORT[,HOST:PORT…]</c>; nothing is
    /// sent until the first call.</summary>
    /// <exception cref="ArgumentException">The address is malformed; the message says how.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public RedisRemoteStore(string address, RedisRemoteStoreOptions? options = null)
        : this(RemoteAddress.Parse(address), options)
    {
    }

    /// <summary>Creates a store for a parsed address; nothing is sent until the first call.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public RedisRemoteStore(RemoteAddress address, RedisRemoteStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        options ??= new RedisRemoteStoreOptions();
        options.Validate();
        Address = address;
        Options = options;
    }

    /// <summary>Where the store is.</summary>
    public RemoteAddress Address { get; }

    /// <summary>The settings in force.</summary>
    public RedisRemoteStoreOptions Options { get; }

    /// <inheritdoc/>
    public RemoteStoreHealth Health
    {
        get
        {
            lock (_stateLock)
                return _readFault is not null ? RemoteStoreHealth.Disabled
                    : _writeFault is not null ? RemoteStoreHealth.WritesDisabled
                    : RemoteStoreHealth.Healthy;
        }
    }

    /// <inheritdoc/>
    public RemoteFault? Fault
    {
        get { lock (_stateLock) return _firstFault; }
    }

    /// <inheritdoc/>
    public string? Warning
    {
        get { lock (_stateLock) return _warning; }
    }

    /// <inheritdoc/>
    public RemoteStatistics Statistics => _counters.Snapshot();

    private RemoteFault? ReadFault
    {
        get { lock (_stateLock) return _readFault; }
    }

    private RemoteFault? WriteFault
    {
        get { lock (_stateLock) return _writeFault; }
    }

    /// <summary>
    /// Records a fault. The first one sets the warning. A fault that is not about writes only disables the store and
    /// closes its connection in the background, so that the client library stops reconnecting.
    /// </summary>
    private void Trip(RemoteFault fault)
    {
        ConnectionMultiplexer? toClose = null;
        lock (_stateLock)
        {
            if (_firstFault is null)
            {
                _firstFault = fault;
                _warning = fault.WritesOnly
                    ? $"remote cache {Address} refuses uploads; not uploading for the rest of this build: {fault.Reason}"
                    : $"remote cache {Address} is unavailable; compiling locally for the rest of this build: {fault.Reason}";
            }
            _writeFault ??= fault;
            if (!fault.WritesOnly && _readFault is null)
            {
                _readFault = fault;
                toClose = _connection;
                _connection = null;
            }
            if (toClose is not null) _closing = Task.WhenAll(_closing, CloseAsync(toClose));
        }
    }

    private static async Task CloseAsync(ConnectionMultiplexer connection)
    {
        try
        {
            await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a connection that already failed may fail too; there is nothing left to release.
        }
        finally
        {
            connection.Dispose();
        }
    }

    /// <summary>The database to send to, connecting first if needed; null when the store is disabled (now or by this
    /// connection attempt).</summary>
    private async Task<IDatabase?> DatabaseAsync(CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_readFault is not null) return null;
            if (_connection is not null) return _connection.GetDatabase();
        }
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_stateLock)
            {
                if (_readFault is not null) return null;
                if (_connection is not null) return _connection.GetDatabase();
            }
            // One deadline for the whole connect. A plain TCP connect first: the client library, refused by every
            // endpoint, sometimes waits out its whole connect timeout and does not say why.
            long started = Stopwatch.GetTimestamp();
            string? unreachable = await EndPointProbe.UnreachableAsync(Address, Options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            if (unreachable is not null)
            {
                Trip(new RemoteFault(RemoteFaultKind.Unreachable, $"cannot connect to {unreachable}"));
                return null;
            }
            TimeSpan left = Options.ConnectTimeout - Stopwatch.GetElapsedTime(started);
            if (left < TimeSpan.FromMilliseconds(1)) left = TimeSpan.FromMilliseconds(1);

            // The connect log is where the client library names socket errors ("Connection refused").
            using var log = new StringWriter();
            using TextWriter synchronizedLog = TextWriter.Synchronized(log);
            Task<ConnectionMultiplexer> connecting = ConnectionMultiplexer.ConnectAsync(Configuration(), synchronizedLog);
            ConnectionMultiplexer connection;
            try
            {
                connection = await connecting.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                DisposeWhenDone(connecting);
                if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
                string logText;
                lock (synchronizedLog) logText = log.ToString();
                Trip(RedisFaults.Connecting(e, Address, Options.ConnectTimeout, logText));
                return null;
            }
            lock (_stateLock)
            {
                if (_readFault is null && !_disposed)
                {
                    _connection = connection;
                    return connection.GetDatabase();
                }
                _closing = Task.WhenAll(_closing, CloseAsync(connection));
                return null;
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>A connection that completes after its deadline is closed as soon as it exists.</summary>
    private static void DisposeWhenDone(Task<ConnectionMultiplexer> connecting) =>
        connecting.ContinueWith(static t =>
        {
            if (t.IsCompletedSuccessfully) t.Result.Dispose();
            else _ = t.Exception;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private ConfigurationOptions Configuration()
    {
        int connectMs = (int)Math.Ceiling(Options.ConnectTimeout.TotalMilliseconds);
        int commandMs = (int)Math.Ceiling(Options.CommandTimeout.TotalMilliseconds);
        var configuration = new ConfigurationOptions
        {
            // Fail the connect instead of retrying in the background: the build compiles locally instead.
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = connectMs,
            SyncTimeout = commandMs,
            AsyncTimeout = commandMs,
            // A command sent while disconnected fails at once rather than waiting in a queue for a reconnect.
            BacklogPolicy = BacklogPolicy.FailFast,
            ClientName = "aotcache-remote",
            // No pub/sub channel and no tie-breaker key: the store needs neither, and each costs a command.
            ConfigurationChannel = "",
            TieBreaker = "",
            AllowAdmin = false,
        };
        foreach (RemoteEndPoint endPoint in Address.EndPoints) configuration.EndPoints.Add(endPoint.Host, endPoint.Port);
        return configuration;
    }

    /// <summary>Runs <paramref name="body"/> once per batch of at most <see cref="RedisRemoteStoreOptions.MaxBatchSize"/>
    /// items (offset, count), at most <see cref="RedisRemoteStoreOptions.MaxParallelBatches"/> at a time.</summary>
    private Task ForEachBatchAsync(int total, Func<int, int, CancellationToken, ValueTask> body, CancellationToken cancellationToken)
    {
        int size = Options.MaxBatchSize;
        int batches = (total + size - 1) / size;
        if (batches == 1) return body(0, total, cancellationToken).AsTask();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxParallelBatches, CancellationToken = cancellationToken };
        return Parallel.ForEachAsync(Enumerable.Range(0, batches), parallel,
            (batch, token) => body(batch * size, Math.Min(size, total - batch * size), token));
    }

    /// <summary>Whether an exception out of a call is the store's fault, to be degraded on: not the caller's cancellation,
    /// and not a call on a disposed store (the caller's misuse).</summary>
    private bool IsFault(Exception e, CancellationToken cancellationToken)
    {
        if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) return false;
        lock (_stateLock) return !(e is ObjectDisposedException && _disposed);
    }

    /// <summary>
    /// Sends a batch. With no connection left to send on (the server died between two batches), the client library
    /// throws here rather than failing the commands: that is the store's fault, returned; the commands' own failures,
    /// which may follow, are observed so that they are not reported as unobserved.
    /// </summary>
    private RemoteFault? Execute(IBatch batch, Task[] pending)
    {
        try
        {
            batch.Execute();
            return null;
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or InvalidOperationException)
        {
            foreach (Task t in pending)
                _ = t.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return RedisFaults.During(e, Options.CommandTimeout);
        }
    }

    /// <summary>Waits until every command of a batch has its answer, or the command timeout passes. Commands still
    /// unanswered are left incomplete for the caller to see; their later failures are observed here.</summary>
    private async Task AwaitBatchAsync(Task[] pending, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(pending).WaitAsync(Options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A timeout or failed commands: each command's own state says which.
        }
        finally
        {
            foreach (Task t in pending)
                if (!t.IsCompleted)
                    _ = t.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                        TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Closes the connection. Calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        Task closing;
        lock (_stateLock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_connection is not null) _closing = Task.WhenAll(_closing, CloseAsync(_connection));
            _connection = null;
            closing = _closing;
        }
        // Bounded: a server that stopped answering must not hold up the end of a build.
        closing.Wait(Options.ConnectTimeout + Options.CommandTimeout);
    }
}
