using System.Globalization;
using AotCache.ConformanceTests.Spec;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>A remote store on one real redis-server: round trips, batching, first writer wins, expiry, size limits,
/// read-only use and the validation callback. Every test starts its own server.</summary>
public sealed class RedisRemoteStoreTests
{
    /// <summary>How often the server ran <paramref name="command"/>, from <c>INFO commandstats</c>.</summary>
    private static long CommandCalls(string stats, string command)
    {
        foreach (string line in stats.Split("\r\n"))
            if (line.StartsWith($"cmdstat_{command}:calls=", StringComparison.Ordinal))
                return long.Parse(line.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture);
        return 0;
    }

    [Fact]
    [Requirement("RMT-3")]
    [Requirement("RMT-4")]
    public void Entries_round_trip_in_batches_of_one_round_trip_each_with_one_command_per_key()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxBatchSize = 128 });
        RemoteEntry[] entries = RemoteData.Entries(seed: 1, count: 300);
        IReadOnlyList<StoreResult> stored = store.StoreMany(entries);
        Assert.All(stored, r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        Assert.Equal(entries.Select(e => e.Key), stored.Select(r => r.Key));

        RemoteKey[] unknown = [.. Enumerable.Range(0, 50).Select(i => RemoteData.Key(seed: 2, i))];
        RemoteKey[] keys = [.. entries.Select(e => e.Key).Concat(unknown)];
        IReadOnlyList<FetchResult> fetched = store.FetchMany(keys, RemoteData.AcceptAll);
        Assert.Equal(keys, fetched.Select(r => r.Key));
        for (int i = 0; i < entries.Length; i++)
        {
            Assert.Equal(FetchOutcome.Hit, fetched[i].Outcome);
            Assert.Equal(entries[i].Bytes.ToArray(), fetched[i].Entry.ToArray());
        }
        Assert.All(fetched.Skip(entries.Length), r => Assert.Equal(FetchOutcome.Miss, r.Outcome));

        RemoteStatistics stats = store.Statistics;
        long bytes = entries.Sum(e => (long)e.Bytes.Length);
        Assert.Equal((300, 50, 300L, 0L, 0L), (stats.Hits, stats.Misses, stats.Stored, stats.Refused, stats.Unavailable));
        Assert.Equal((bytes, bytes), (stats.BytesOut, stats.BytesIn));
        Assert.Equal(3 + 3, stats.RoundTrips); // 300 uploads and 350 fetches, 128 a batch
        Assert.True(stats.NetworkTime > TimeSpan.Zero);
        Assert.Equal(RemoteStoreHealth.Healthy, store.Health);
        Assert.Null(store.Warning);

        // The server saw one command per key and nothing else per key.
        using RespClient admin = server.Client();
        string commandStats = admin.CallText("INFO", "commandstats");
        Assert.True(CommandCalls(commandStats, "getrange") == 350, commandStats);
        // Set-if-absent: the client library sends SETNX when there is no expiry, SET ... NX with one.
        Assert.True(CommandCalls(commandStats, "set") + CommandCalls(commandStats, "setnx") == 300, commandStats);
        Assert.True(CommandCalls(commandStats, "get") + CommandCalls(commandStats, "mget") + CommandCalls(commandStats, "strlen") == 0, commandStats);
        Assert.Equal(300, admin.CallInteger("DBSIZE"));
    }

    [Fact]
    public async Task A_batch_of_any_size_up_to_the_limit_is_one_round_trip_and_the_async_methods_behave_alike()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxBatchSize = 1000 });
        RemoteEntry[] entries = RemoteData.Entries(seed: 3, count: 1000);
        IReadOnlyList<StoreResult> stored = await store.StoreManyAsync(entries);
        Assert.Equal(1, store.Statistics.RoundTrips);
        IReadOnlyList<FetchResult> fetched = await store.FetchManyAsync([.. entries.Select(e => e.Key)], RemoteData.AcceptAll);
        Assert.Equal(2, store.Statistics.RoundTrips);
        Assert.All(stored, r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        Assert.All(fetched, r => Assert.True(r.IsHit, r.ToString()));
        Assert.Empty(store.FetchMany([], RemoteData.AcceptAll));
        Assert.Equal(2, store.Statistics.RoundTrips);
    }

    [Fact]
    [Requirement("RMT-5")]
    public async Task The_first_writer_wins_when_many_clients_upload_the_same_keys_at_once()
    {
        using RedisServer server = RedisServer.Start();
        const int writers = 16, keys = 8;
        var stores = Enumerable.Range(0, writers).Select(_ => new RedisRemoteStore(server.Address, RemoteData.Patient)).ToList();
        try
        {
            // Writer w uploads its own bytes for the same 8 keys, in its own order.
            RemoteEntry[][] uploads = [.. Enumerable.Range(0, writers).Select(w =>
                Enumerable.Range(0, keys).Select(k => new RemoteEntry(RemoteData.Key(4, k), RemoteData.Bytes(w * 1000 + k, 500)))
                    .OrderBy(e => new Random(w).Next()).ToArray())];
            // Connect every store first, so that the uploads themselves race.
            foreach (RedisRemoteStore s in stores) Assert.Equal(FetchOutcome.Miss, s.FetchMany([RemoteData.Key(4, 99)], RemoteData.AcceptAll)[0].Outcome);
            using var start = new ManualResetEventSlim();
            Task<IReadOnlyList<StoreResult>>[] tasks = [.. Enumerable.Range(0, writers).Select(w => Task.Run(() =>
            {
                start.Wait();
                return stores[w].StoreMany(uploads[w]);
            }))];
            start.Set();
            IReadOnlyList<StoreResult>[] outcomes = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(5)); // a hang guard only

            using var reader = new RedisRemoteStore(server.Address, RemoteData.Patient);
            for (int k = 0; k < keys; k++)
            {
                RemoteKey key = RemoteData.Key(4, k);
                var results = outcomes.Select(o => o.Single(r => r.Key.Equals(key))).ToList();
                int winner = results.FindIndex(r => r.Outcome == StoreOutcome.Stored);
                Assert.True(winner >= 0, $"nobody stored key {k}: {string.Join("; ", results)}");
                Assert.Equal(writers - 1, results.Count(r => r.Outcome == StoreOutcome.AlreadyPresent));
                FetchResult fetched = reader.FetchMany([key], RemoteData.AcceptAll)[0];
                Assert.Equal(RemoteData.Bytes(winner * 1000 + k, 500), fetched.Entry.ToArray());
            }
            Assert.Equal(keys, stores.Sum(s => s.Statistics.Stored));
            Assert.Equal(keys * (writers - 1), stores.Sum(s => s.Statistics.AlreadyPresent));
        }
        finally
        {
            foreach (RedisRemoteStore s in stores) s.Dispose();
        }
    }

    [Fact]
    [Requirement("RMT-6")]
    public void Entries_get_the_time_to_live_of_the_options_and_none_by_default()
    {
        using RedisServer server = RedisServer.Start();
        using var withTtl = new RedisRemoteStore(server.Address, RemoteData.Patient with { TimeToLive = TimeSpan.FromHours(1) });
        using var withoutTtl = new RedisRemoteStore(server.Address, RemoteData.Patient);
        RemoteEntry[] entries = RemoteData.Entries(seed: 5, count: 2);
        Assert.Equal(StoreOutcome.Stored, withTtl.StoreMany([entries[0]])[0].Outcome);
        Assert.Equal(StoreOutcome.Stored, withoutTtl.StoreMany([entries[1]])[0].Outcome);
        using RespClient admin = server.Client();
        Assert.InRange(admin.CallInteger("PTTL", entries[0].Key.Text), 3_000_000, 3_600_000);
        Assert.Equal(-1, admin.CallInteger("PTTL", entries[1].Key.Text));
    }

    [Fact]
    public void A_read_only_store_uploads_nothing_and_never_connects_for_it()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { ReadOnly = true });
        IReadOnlyList<StoreResult> results = store.StoreMany(RemoteData.Entries(seed: 6, count: 3));
        Assert.All(results, r => Assert.Equal((StoreOutcome.Refused, RefusalReason.ReadOnly), (r.Outcome, r.Refusal!.Value)));
        Assert.Equal(3, store.Statistics.RefusedFor(RefusalReason.ReadOnly));
        Assert.Equal(0, store.Statistics.RoundTrips);
        Assert.Equal(RemoteStoreHealth.Healthy, store.Health);
        using RespClient admin = server.Client();
        Assert.Equal(0, admin.CallInteger("DBSIZE"));
        Assert.Equal("1", admin.InfoField("stats", "total_connections_received")); // this admin connection only
        // Fetching still works.
        Assert.Equal(FetchOutcome.Miss, store.FetchMany([RemoteData.Key(6, 0)], RemoteData.AcceptAll)[0].Outcome);
    }

    [Fact]
    [Requirement("RMT-11")]
    public void An_oversized_upload_is_refused_without_sending_it_and_the_rest_of_the_batch_is_stored()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxEntryBytes = 1000 });
        RemoteEntry[] entries =
        [
            new(RemoteData.Key(7, 0), RemoteData.Bytes(70, 1000)),
            new(RemoteData.Key(7, 1), RemoteData.Bytes(71, 1001)),
            new(RemoteData.Key(7, 2), RemoteData.Bytes(72, 10)),
        ];
        IReadOnlyList<StoreResult> results = store.StoreMany(entries);
        Assert.Equal([StoreOutcome.Stored, StoreOutcome.Refused, StoreOutcome.Stored], results.Select(r => r.Outcome));
        Assert.Equal(RefusalReason.TooLarge, results[1].Refusal);
        Assert.Contains("1001 bytes exceed the maximum of 1000", results[1].Detail, StringComparison.Ordinal);
        Assert.Equal(1010, store.Statistics.BytesOut);
        using RespClient admin = server.Client();
        Assert.Equal(0, admin.CallInteger("EXISTS", entries[1].Key.Text));
        Assert.Equal(2, admin.CallInteger("DBSIZE"));
    }

    [Fact]
    [Requirement("RMT-11")]
    public void An_oversized_value_on_the_server_is_refused_having_received_at_most_one_byte_more_than_the_limit()
    {
        using RedisServer server = RedisServer.Start();
        RemoteKey big = RemoteData.Key(8, 0), fits = RemoteData.Key(8, 1);
        using (RespClient admin = server.Client())
        {
            Assert.Equal("OK", admin.CallText("SET", big.Text, RemoteData.Bytes(80, 5_000_000)));
            Assert.Equal("OK", admin.CallText("SET", fits.Text, RemoteData.Bytes(81, 1000)));
        }
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxEntryBytes = 1000 });
        IReadOnlyList<FetchResult> results = store.FetchMany([big, fits], RemoteData.AcceptAll);
        Assert.Equal((FetchOutcome.Refused, RefusalReason.TooLarge), (results[0].Outcome, results[0].Refusal!.Value));
        Assert.True(results[0].Entry.IsEmpty);
        Assert.Equal(RemoteData.Bytes(81, 1000), results[1].Entry.ToArray());
        Assert.Equal(1001 + 1000, store.Statistics.BytesIn); // not 5 MB
        Assert.Equal(1, store.Statistics.RefusedFor(RefusalReason.TooLarge));
        Assert.Equal(RemoteStoreHealth.Healthy, store.Health);
    }

    [Fact]
    [Requirement("RMT-8")]
    [Requirement("RMT-10")]
    public void Entries_the_validation_callback_refuses_or_throws_on_are_refused_and_counted_and_the_rest_are_hits()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        RemoteEntry[] entries = RemoteData.Entries(seed: 9, count: 6);
        store.StoreMany(entries);
        var seen = new Dictionary<string, byte[]>();
        IReadOnlyList<FetchResult> results = store.FetchMany([.. entries.Select(e => e.Key)], (key, entry) =>
        {
            lock (seen) seen[key] = entry.ToArray();
            return key == entries[1].Key.Text ? "content hash differs from the key's"
                : key == entries[4].Key.Text ? throw new InvalidDataException("bad magic")
                : null;
        });
        // The callback saw every entry with its exact bytes.
        Assert.Equal(entries.Length, seen.Count);
        Assert.All(entries, e => Assert.Equal(e.Bytes.ToArray(), seen[e.Key.Text]));

        Assert.Equal([FetchOutcome.Hit, FetchOutcome.Refused, FetchOutcome.Hit, FetchOutcome.Hit, FetchOutcome.Refused, FetchOutcome.Hit],
            results.Select(r => r.Outcome));
        Assert.False(results[1].IsHit);
        Assert.True(results[1].Entry.IsEmpty);
        Assert.Equal((RefusalReason.Invalid, "content hash differs from the key's"), (results[1].Refusal!.Value, results[1].Detail!));
        Assert.Equal("the validation callback threw InvalidDataException: bad magic", results[4].Detail);
        RemoteStatistics stats = store.Statistics;
        Assert.Equal((4L, 0L, 2L), (stats.Hits, stats.Misses, stats.RefusedFor(RefusalReason.Invalid)));
        Assert.Equal(RemoteStoreHealth.Healthy, store.Health);
    }

    [Fact]
    public void A_key_holding_something_other_than_a_string_is_refused_not_a_fault()
    {
        using RedisServer server = RedisServer.Start();
        RemoteKey listKey = RemoteData.Key(10, 0);
        using (RespClient admin = server.Client()) admin.CallInteger("RPUSH", listKey.Text, "x");
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        FetchResult result = store.FetchMany([listKey], RemoteData.AcceptAll)[0];
        Assert.Equal((FetchOutcome.Refused, RefusalReason.NotAnEntry), (result.Outcome, result.Refusal!.Value));
        Assert.Equal(RemoteStoreHealth.Healthy, store.Health);
        // First writer wins against any type: the list stays.
        Assert.Equal(StoreOutcome.AlreadyPresent, store.StoreMany([new RemoteEntry(listKey, new byte[] { 1 })])[0].Outcome);
    }

    [Fact]
    public void Without_redis_server_the_tests_fail_and_say_that_ci_run_installs_it()
    {
        RedisServer.RequireInstalled(); // this machine has them
        var e = Assert.Throws<Xunit.Sdk.FailException>(() => RedisServer.RequireInstalled("/nonexistent/redis-server"));
        Assert.Contains("/nonexistent/redis-server is missing", e.Message, StringComparison.Ordinal);
        Assert.Contains(".ci/run installs them", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Misuse_throws_argument_exceptions()
    {
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        Assert.Throws<ArgumentNullException>(() => store.FetchMany(null!, RemoteData.AcceptAll));
        Assert.Throws<ArgumentNullException>(() => store.FetchMany([], null!));
        Assert.Contains("key 1 is null", Assert.Throws<ArgumentException>(() => store.FetchMany([RemoteData.Key(11, 0), null!], RemoteData.AcceptAll)).Message,
            StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => store.StoreMany([new RemoteEntry(RemoteData.Key(11, 0), Array.Empty<byte>())])).Message,
            StringComparison.Ordinal);
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.FetchMany([RemoteData.Key(11, 0)], RemoteData.AcceptAll));
    }
}
