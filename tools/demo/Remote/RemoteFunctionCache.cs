using System.Diagnostics;
using System.Threading.Channels;
using AotCache.Format;
using AotCache.Remote;

namespace AotCache.Demo.Remote;

/// <summary>A function a build would otherwise compile: its name in the program and its cache key.</summary>
public readonly record struct RemoteRequest(string Name, ContentHash Key);

/// <summary>
/// The team cache as a build sees it (REMOTE.md): the functions it would compile are first looked up in the store, and
/// what it compiles is uploaded. A fetched entry becomes a <see cref="FunctionBody"/> only after
/// <see cref="RemoteEntryFormat.TryRead"/> accepted it against the program's scope, so it is defined into the builder
/// exactly like a body carried from the local cache, and the output is the offline build's, byte for byte.
/// Faults of the store never throw: lookups miss, uploads stop, and <see cref="Warning"/> says why, once.
/// </summary>
public sealed class RemoteFunctionCache : IDisposable
{
    private readonly IRemoteStore _store;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _refused = new(StringComparer.Ordinal);
    private int _hits, _asked, _uploaded, _alreadyPresent, _notUploaded;
    private long _entryTicks;

    /// <param name="store">The store; disposed with this cache.</param>
    /// <param name="format">How entries are written, signed and checked.</param>
    /// <param name="uploadsOff">Null uploads what the build compiles; otherwise why it does not (read-only, or a client that
    /// holds no signing key while signatures are required).</param>
    /// <param name="modules">How module entries are written, sealed and checked (REMOTE.md §10); null, or a store that holds
    /// none, leaves module entries out.</param>
    public RemoteFunctionCache(IRemoteStore store, RemoteEntryFormat format, string? uploadsOff = null, RemoteModuleFormat? modules = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(format);
        _store = store;
        Format = format;
        UploadsOff = uploadsOff;
        if (modules is not null && store is IRemoteModuleStore moduleStore) Modules = new RemoteModuleCache(moduleStore, modules, uploadsOff, Count);
    }

    /// <summary>Whole-module entries on the same store; null when they are not used.</summary>
    public RemoteModuleCache? Modules { get; }

    public RemoteEntryFormat Format { get; }

    /// <summary>Whether compiled functions are uploaded.</summary>
    public bool Uploads => UploadsOff is null;

    /// <summary>Why compiled functions are not uploaded; null when they are.</summary>
    public string? UploadsOff { get; }

    /// <summary>The one warning to print after a fault of the store; null while there has been none.</summary>
    public string? Warning => _store.Warning;

    /// <summary>The store's own counters (bytes, round trips, time on the network).</summary>
    public RemoteStatistics StoreStatistics => _store.Statistics;

    /// <summary>Entries fetched, accepted and used.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Functions looked up.</summary>
    public int Asked => Volatile.Read(ref _asked);

    /// <summary>Entries this build wrote to the store.</summary>
    public int Uploaded => Volatile.Read(ref _uploaded);

    /// <summary>Uploads the store already had an entry for (another client was first).</summary>
    public int AlreadyPresent => Volatile.Read(ref _alreadyPresent);

    /// <summary>Compiled functions not uploaded: read-only, the store refused or was unavailable, or the entry failed its own check.</summary>
    public int NotUploaded => Volatile.Read(ref _notUploaded);

    /// <summary>Time spent writing and checking entries (CPU, not network).</summary>
    public TimeSpan EntryTime => TimeSpan.FromTicks(Interlocked.Read(ref _entryTicks));

    /// <summary>Refused entries by reason (an <see cref="EntryProblem"/>, or the store's own reason such as TooLarge).</summary>
    public IReadOnlyDictionary<string, int> Refused
    {
        get { lock (_lock) return new Dictionary<string, int>(_refused, StringComparer.Ordinal); }
    }

    /// <summary>Refused entries in all.</summary>
    public int RefusedCount
    {
        get { lock (_lock) return _refused.Values.Sum(); }
    }

    /// <summary>
    /// Looks up every requested function; returns, in request order, the accepted body or null (compile it). Functions
    /// are defined in <paramref name="scope"/> with the kinds and signatures the build compiles against, and every
    /// fetched entry must fit it [RMT-19].
    /// </summary>
    public FunctionBody?[] Fetch(IReadOnlyList<RemoteRequest> requests, ISymbolScope scope)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(scope);
        var bodies = new FunctionBody?[requests.Count];
        if (requests.Count == 0) return bodies;
        Interlocked.Add(ref _asked, requests.Count);

        // One lookup per key; a key two functions share (a front end whose keys omit the name) is compiled instead.
        var keyOf = new RemoteKey?[requests.Count];
        var index = new Dictionary<string, int>(requests.Count, StringComparer.Ordinal);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < requests.Count; i++)
        {
            if (requests[i].Key.IsNone) continue;
            // Nib's code needs no CPU feature beyond the baseline; a compiler that chooses features predicts them here.
            keyOf[i] = Format.KeyOf(requests[i].Key, CpuFeatures.None);
            if (!index.TryAdd(keyOf[i]!.Text, i)) duplicates.Add(keyOf[i]!.Text);
        }
        foreach (string text in duplicates) index.Remove(text);
        var keys = new List<RemoteKey>(index.Count);
        for (int i = 0; i < requests.Count; i++)
            if (keyOf[i] is { } key && index.TryGetValue(key.Text, out int at) && at == i) keys.Add(key);

        IReadOnlyList<FetchResult> results = _store.FetchMany(keys, (text, bytes) =>
        {
            long started = Stopwatch.GetTimestamp();
            int i = index[text];
            bool accepted = Format.TryRead(bytes, keyOf[i]!, requests[i].Name, scope, out FunctionBody? body, out EntryRefusal? refusal);
            Interlocked.Add(ref _entryTicks, Stopwatch.GetElapsedTime(started).Ticks);
            if (accepted)
            {
                bodies[i] = body;
                return null;
            }
            Count(refusal!.Problem.ToString());
            return $"{requests[i].Name}: {refusal}";
        });
        foreach (FetchResult result in results)
        {
            if (result.IsHit) Interlocked.Increment(ref _hits);
            // The store's own refusals (too large, not a string); those the callback made are counted already.
            else if (result.Outcome == FetchOutcome.Refused && result.Refusal is { } reason and not RefusalReason.Invalid) Count(reason.ToString());
        }
        return bodies;
    }

    /// <summary>
    /// Uploads compiled functions, each as the entry of its body compiled against <paramref name="scope"/>, after
    /// checking the entry as a fetch would [RMT-7]. Does nothing (but count) when uploads are off or the store refuses them.
    /// </summary>
    public void Upload(IReadOnlyList<(string Name, FunctionBody Body)> compiled, ISymbolScope scope)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        using RemoteUpload upload = BeginUpload(scope);
        foreach (var (name, body) in compiled) upload.Add(name, body);
        upload.Complete();
    }

    /// <summary>
    /// Starts uploading in the background, so that writing, checking and sending entries overlaps compiling: add each
    /// function as it is compiled, then <see cref="RemoteUpload.Complete"/>. <paramref name="scope"/> is read from
    /// another thread while the build goes on, so it must not change meanwhile (the program's declarations, not the
    /// builder being filled).
    /// </summary>
    public RemoteUpload BeginUpload(ISymbolScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return new RemoteUpload(this, scope);
    }

    /// <summary>Writes, checks [RMT-7] and uploads a group of compiled functions; called by <see cref="RemoteUpload"/>'s worker.</summary>
    internal void UploadGroup(List<(string Name, FunctionBody Body)> group, ISymbolScope scope)
    {
        if (group.Count == 0) return;
        if (!Uploads || _store.Health != RemoteStoreHealth.Healthy)
        {
            Interlocked.Add(ref _notUploaded, group.Count);
            return;
        }
        long started = Stopwatch.GetTimestamp();
        var entries = new List<RemoteEntry>(group.Count);
        foreach (var (name, body) in group)
        {
            RemoteKey key = Format.KeyOf(body);
            byte[] bytes;
            try
            {
                bytes = Format.Write(name, body, scope);
            }
            catch (ArgumentException)
            {
                // A body the scope cannot describe (a front end's mistake) is not shared; the build itself is not affected.
                Count("own entry unwritable");
                continue;
            }
            // What this client would refuse it must not upload.
            if (Format.TryRead(bytes, key, name, scope, out _, out EntryRefusal? refusal))
                entries.Add(new RemoteEntry(key, bytes));
            else
                Count($"own entry {refusal!.Problem}");
        }
        Interlocked.Add(ref _entryTicks, Stopwatch.GetElapsedTime(started).Ticks);
        Interlocked.Add(ref _notUploaded, group.Count - entries.Count);
        foreach (StoreResult result in _store.StoreMany(entries))
        {
            switch (result.Outcome)
            {
                case StoreOutcome.Stored: Interlocked.Increment(ref _uploaded); break;
                case StoreOutcome.AlreadyPresent: Interlocked.Increment(ref _alreadyPresent); break;
                default: Interlocked.Increment(ref _notUploaded); break;
            }
        }
    }

    private void Count(string reason)
    {
        lock (_lock) _refused[reason] = _refused.GetValueOrDefault(reason) + 1;
    }

    /// <summary>
    /// The build summary's remote line: local hits (functions carried from the local cache), remote hits, compiled,
    /// uploaded, refused and why, bytes and time on the network.
    /// </summary>
    public string Summary(int localHits, int compiled)
    {
        RemoteStatistics s = _store.Statistics;
        IReadOnlyDictionary<string, int> refused = Refused;
        string moduleText = Modules is null ? "" : Modules.Summary() + "; ";
        // A module hit: nothing was analysed, compiled or looked up function by function.
        if (Modules?.Outcome == ModuleOutcome.Hit) (localHits, compiled) = (0, 0);
        string refusedText = refused.Count == 0 ? "0 refused"
            : $"{refused.Values.Sum()} refused ({string.Join(", ", refused.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}"))})";
        string uploads = Uploads ? $"{Uploaded} uploaded{(AlreadyPresent > 0 ? $" ({AlreadyPresent} already there)" : "")}{(NotUploaded > 0 ? $", {NotUploaded} not uploaded" : "")}"
            : $"0 uploaded ({UploadsOff})";
        return $"remote: {moduleText}{localHits} local hits, {Hits} remote hits, {compiled} compiled, {uploads}, {refusedText}; " +
               $"{Size(s.BytesIn)} in, {Size(s.BytesOut)} out, {s.RoundTrips} round trips, {s.NetworkTime.TotalMilliseconds:F1} ms on the network, " +
               $"{EntryTime.TotalMilliseconds:F1} ms checking and writing entries";
    }

    private static string Size(long bytes) => bytes < 1 << 20 ? $"{bytes / 1024.0:F1} KiB" : $"{bytes / (1024.0 * 1024):F1} MiB";

    public void Dispose() => _store.Dispose();
}

/// <summary>
/// An upload running beside the build (<see cref="RemoteFunctionCache.BeginUpload"/>): functions added are written,
/// checked and sent by a worker thread in groups of one store batch, while the build compiles the next ones.
/// </summary>
public sealed class RemoteUpload : IDisposable
{
    /// <summary>Functions per group: one batch of the store's, one round trip.</summary>
    private const int GroupSize = 256;

    private readonly RemoteFunctionCache _cache;
    private readonly ISymbolScope _scope;
    private readonly Channel<(string Name, FunctionBody Body)> _queue =
        Channel.CreateUnbounded<(string, FunctionBody)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _worker;

    internal RemoteUpload(RemoteFunctionCache cache, ISymbolScope scope)
    {
        _cache = cache;
        _scope = scope;
        _worker = Task.Run(RunAsync);
    }

    /// <summary>Queues a compiled function; one without a content hash has no key and is not shared.</summary>
    public void Add(string name, FunctionBody body)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(body);
        if (body.ContentHash.IsNone) return;
        if (!_queue.Writer.TryWrite((name, body))) throw new InvalidOperationException("the upload was already completed");
    }

    /// <summary>Waits until every function added has been uploaded (or counted as not uploaded).</summary>
    public void Complete()
    {
        _queue.Writer.TryComplete();
        _worker.GetAwaiter().GetResult();
    }

    private async Task RunAsync()
    {
        var group = new List<(string, FunctionBody)>(GroupSize);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_queue.Reader.TryRead(out var item))
            {
                group.Add(item);
                if (group.Count < GroupSize) continue;
                _cache.UploadGroup(group, _scope);
                group.Clear();
            }
        }
        _cache.UploadGroup(group, _scope);
    }

    /// <summary>Completes the upload if <see cref="Complete"/> was not called (an exception left the build).</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        try
        {
            _worker.Wait();
        }
        catch (AggregateException)
        {
            // The build is already leaving with an exception of its own.
        }
    }
}
