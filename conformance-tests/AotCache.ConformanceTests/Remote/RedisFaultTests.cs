using AotCache.ConformanceTests.Spec;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Faults of a real redis-server never throw to the caller: nothing listening, a server killed mid-batch, a stalled
/// server, a full server. The store answers Unavailable with the reason, stops trying for the rest of its life (a
/// circuit breaker) and sets one warning. No assertion here depends on how fast the machine is: what happened is read
/// from the store's fault, its statistics and the results; clocks only guard against hangs.
/// </summary>
public sealed class RedisFaultTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private void AssertWarnsOnce(RedisRemoteStore store, RemoteFaultKind kind, string reasonPart)
    {
        RemoteFault fault = Assert.IsType<RemoteFault>(store.Fault);
        Assert.Equal(kind, fault.Kind);
        Assert.Contains(reasonPart, fault.Reason, StringComparison.OrdinalIgnoreCase);
        string warning = Assert.IsType<string>(store.Warning);
        Assert.Contains(store.Address.ToString(), warning, StringComparison.Ordinal);
        Assert.Contains(fault.Reason, warning, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', warning);
        output.WriteLine(warning);
    }

    /// <summary>A degraded store answers from memory: no round trip (its statistics say so), every result Unavailable.</summary>
    private static void AssertAnswersWithoutTheNetwork(RedisRemoteStore store, int seed)
    {
        RemoteStatistics before = store.Statistics;
        string? warning = store.Warning;
        IReadOnlyList<FetchResult> fetched = store.FetchMany([.. Enumerable.Range(0, 20).Select(i => RemoteData.Key(seed, i))], RemoteData.AcceptAll);
        IReadOnlyList<StoreResult> stored = store.StoreMany(RemoteData.Entries(seed, 20));
        Assert.All(fetched, r => Assert.Equal(FetchOutcome.Unavailable, r.Outcome));
        Assert.All(stored, r => Assert.Equal(StoreOutcome.Unavailable, r.Outcome));
        Assert.All(fetched, r => Assert.Equal(store.Fault!.Reason, r.Detail));
        RemoteStatistics after = store.Statistics;
        Assert.Equal(before.RoundTrips, after.RoundTrips);
        Assert.Equal(before.NetworkTime, after.NetworkTime);
        Assert.Equal(before.Unavailable + 40, after.Unavailable);
        Assert.Same(warning, store.Warning); // set once, never replaced
        Assert.Equal(RemoteStoreHealth.Disabled, store.Health);
    }

    /// <summary>A store that has connected and answered one fetch in time. On a loaded machine even a healthy local
    /// server can miss a short timeout once; such a store is degraded for good, so a fresh one is tried.</summary>
    private static RedisRemoteStore ConnectedStore(RedisServer server, RedisRemoteStoreOptions options)
    {
        var failures = new List<string>();
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var store = new RedisRemoteStore(server.Address, options);
            if (store.FetchMany([RemoteData.Key(999, attempt)], RemoteData.AcceptAll)[0].Outcome == FetchOutcome.Miss) return store;
            failures.Add(store.Warning ?? "no warning");
            store.Dispose();
        }
        throw new Xunit.Sdk.XunitException($"no store answered a warm-up fetch in time: {string.Join("; ", failures)}");
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-14")]
    public void Nothing_listening_degrades_the_store_with_the_reason_and_it_does_not_try_again()
    {
        RedisServer.RequireInstalled();
        int port = RedisServer.FreePort();
        using var store = new RedisRemoteStore($"redis://127.0.0.1:{port}", RemoteData.Patient with { ConnectTimeout = TimeSpan.FromSeconds(5) });
        // Refused at once, not timed out: the reason says "Connection refused".
        IReadOnlyList<FetchResult> results = store.FetchMany([RemoteData.Key(20, 0), RemoteData.Key(20, 1)], RemoteData.AcceptAll);
        Assert.All(results, r => Assert.Equal(FetchOutcome.Unavailable, r.Outcome));
        Assert.All(results, r => Assert.False(r.IsHit));
        AssertWarnsOnce(store, RemoteFaultKind.Unreachable, $"cannot connect to 127.0.0.1:{port}: Connection refused");
        Assert.Equal(0, store.Statistics.RoundTrips);
        Assert.Equal(2, store.Statistics.Unavailable);
        AssertAnswersWithoutTheNetwork(store, seed: 21);
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-14")]
    public async Task A_server_killed_mid_batch_degrades_the_store_and_a_restarted_server_is_not_contacted_again()
    {
        using RedisServer server = RedisServer.Start("--enable-debug-command", "local");
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        RemoteEntry[] entries = RemoteData.Entries(seed: 22, count: 50);
        Assert.All(store.StoreMany(entries), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));

        // Stall the server so that the next batch waits for an answer, then kill it. Whether the batch was already sent
        // when the kill came (ConnectionLost) or not yet (Unreachable), it must not end as a timeout.
        using RespClient sleeper = server.Stall(seconds: 600);
        Task<IReadOnlyList<FetchResult>> fetch = store.FetchManyAsync([.. entries.Select(e => e.Key)], RemoteData.AcceptAll);
        Assert.False(fetch.IsCompleted, "the batch was answered by a stalled server");
        server.Kill();
        IReadOnlyList<FetchResult> results = await fetch.WaitAsync(TimeSpan.FromMinutes(5)); // a hang guard only
        Assert.All(results, r => Assert.Equal(FetchOutcome.Unavailable, r.Outcome));
        Assert.NotEqual(RemoteFaultKind.Timeout, store.Fault!.Kind); // seen as a lost connection, not by the 30 s command timeout
        Assert.Contains(store.Fault.Kind, new[] { RemoteFaultKind.ConnectionLost, RemoteFaultKind.Unreachable });
        AssertWarnsOnce(store, store.Fault.Kind, "connection");
        AssertAnswersWithoutTheNetwork(store, seed: 23);

        // The server comes back on the same port: the store stays degraded for the rest of the build and never connects.
        using RedisServer restarted = server.Restart();
        AssertAnswersWithoutTheNetwork(store, seed: 24);
        using RespClient admin = restarted.Client();
        Assert.Equal("1", admin.InfoField("stats", "total_connections_received")); // this admin connection only
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-14")]
    public void A_server_killed_between_two_batches_degrades_the_store_instead_of_throwing()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxBatchSize = 10, MaxParallelBatches = 1 });
        RemoteEntry[] entries = RemoteData.Entries(seed: 30, count: 30);
        Assert.All(store.StoreMany(entries), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));

        // The first batch's answers arrive; the server dies before the second batch is sent, on a connection that was fine.
        int seen = 0;
        IReadOnlyList<FetchResult> results = store.FetchMany([.. entries.Select(e => e.Key)], (key, entry) =>
        {
            if (++seen == 1) server.Kill();
            return null;
        });
        Assert.Equal(Enumerable.Repeat(FetchOutcome.Hit, 10).Concat(Enumerable.Repeat(FetchOutcome.Unavailable, 20)), results.Select(r => r.Outcome));
        Assert.Contains(store.Fault!.Kind, new[] { RemoteFaultKind.ConnectionLost, RemoteFaultKind.Unreachable });
        AssertWarnsOnce(store, store.Fault.Kind, "connection");
        Assert.All(store.StoreMany(RemoteData.Entries(seed: 31, count: 3)), r => Assert.Equal(StoreOutcome.Unavailable, r.Outcome));
    }

    [Fact]
    [Requirement("RMT-13")]
    public void A_stalled_server_hits_the_command_timeout_and_the_call_returns_within_a_bound()
    {
        using RedisServer server = RedisServer.Start("--enable-debug-command", "local");
        var timeout = TimeSpan.FromMilliseconds(250);
        RemoteEntry[] entries = RemoteData.Entries(seed: 25, count: 10);
        using (var writer = new RedisRemoteStore(server.Address, RemoteData.Patient))
            Assert.All(writer.StoreMany(entries), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        using RedisRemoteStore store = ConnectedStore(server, RemoteData.Patient with { CommandTimeout = timeout });

        // Stalled for ten minutes: a call that returns with every result Unavailable and a Timeout fault returned because
        // of its 250 ms command timeout (without it, it would wait for the stall to end and get hits).
        using RespClient sleeper = server.Stall(seconds: 600);
        IReadOnlyList<FetchResult> results = store.FetchMany([.. entries.Select(e => e.Key)], RemoteData.AcceptAll);
        Assert.All(results, r => Assert.Equal(FetchOutcome.Unavailable, r.Outcome));
        AssertWarnsOnce(store, RemoteFaultKind.Timeout, "did not answer within 250 ms");
        AssertAnswersWithoutTheNetwork(store, seed: 26);
    }

    [Fact]
    [Requirement("RMT-15")]
    public void A_full_server_refuses_uploads_with_the_reason_and_fetching_still_works()
    {
        using RedisServer server = RedisServer.Start("--maxmemory-policy", "noeviction");
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        RemoteEntry[] early = RemoteData.Entries(seed: 27, count: 5);
        Assert.All(store.StoreMany(early), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        using (RespClient admin = server.Client()) Assert.Equal("OK", admin.CallText("CONFIG", "SET", "maxmemory", "1mb"));

        // 8 entries of 256 KiB cannot fit in 1 MB.
        RemoteEntry[] late = [.. Enumerable.Range(0, 8).Select(i => new RemoteEntry(RemoteData.Key(28, i), RemoteData.Bytes(2800 + i, 256 * 1024)))];
        IReadOnlyList<StoreResult> results = store.StoreMany(late);
        Assert.Contains(results, r => r.Outcome == StoreOutcome.Refused);
        Assert.All(results.Where(r => r.Outcome == StoreOutcome.Refused), r =>
        {
            Assert.Equal(RefusalReason.Full, r.Refusal);
            Assert.Contains("OOM", r.Detail, StringComparison.Ordinal);
        });
        Assert.All(results, r => Assert.Contains(r.Outcome, new[] { StoreOutcome.Stored, StoreOutcome.Refused }));
        Assert.Equal(RemoteStoreHealth.WritesDisabled, store.Health);
        AssertWarnsOnce(store, RemoteFaultKind.Full, "full");
        Assert.Contains("refuses uploads", store.Warning, StringComparison.Ordinal);

        // Uploads are no longer sent; fetches go on and find what was stored.
        long roundTrips = store.Statistics.RoundTrips;
        Assert.All(store.StoreMany(RemoteData.Entries(seed: 29, count: 3)), r => Assert.Equal(StoreOutcome.Unavailable, r.Outcome));
        Assert.Equal(roundTrips, store.Statistics.RoundTrips);
        IReadOnlyList<FetchResult> fetched = store.FetchMany([.. early.Select(e => e.Key), RemoteData.Key(29, 0)], RemoteData.AcceptAll);
        Assert.Equal(roundTrips + 1, store.Statistics.RoundTrips);
        Assert.All(fetched.Take(5), (r, i) => Assert.Equal(early[i].Bytes.ToArray(), r.Entry.ToArray()));
        Assert.Equal(FetchOutcome.Miss, fetched[5].Outcome);
        Assert.Equal(RemoteStoreHealth.WritesDisabled, store.Health);
    }
}
