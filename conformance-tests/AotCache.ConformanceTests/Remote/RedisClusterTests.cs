using AotCache.ConformanceTests.Spec;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>A remote store on a real three-master Redis Cluster: keys spread over every node's slots, one batch for all
/// of them (no multi-key command, so no CROSSSLOT), first writer wins, and a dead node never reported as a miss.</summary>
public sealed class RedisClusterTests
{
    [Fact]
    [Requirement("RMT-4")]
    public void Entries_spread_over_every_node_round_trip_in_one_batch()
    {
        using RedisCluster cluster = RedisCluster.Start();
        using var store = new RedisRemoteStore(cluster.Address, RemoteData.Patient with { MaxBatchSize = 512 });
        RemoteEntry[] entries = RemoteData.Entries(seed: 40, count: 300);
        Assert.All(store.StoreMany(entries), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        IReadOnlyList<long> perNode = cluster.KeysPerNode();
        Assert.Equal(300, perNode.Sum());
        Assert.All(perNode, n => Assert.True(n > 50, $"keys per node: {string.Join(", ", perNode)}"));

        RemoteKey[] keys = [.. entries.Select(e => e.Key).Concat(Enumerable.Range(0, 30).Select(i => RemoteData.Key(41, i)))];
        IReadOnlyList<FetchResult> fetched = store.FetchMany(keys, RemoteData.AcceptAll);
        for (int i = 0; i < entries.Length; i++) Assert.Equal(entries[i].Bytes.ToArray(), fetched[i].Entry.ToArray());
        Assert.All(fetched.Skip(entries.Length), r => Assert.Equal(FetchOutcome.Miss, r.Outcome));
        Assert.Equal(2, store.Statistics.RoundTrips);
        Assert.Equal(RemoteStoreHealth.Healthy, store.Health);

        // Any one node is enough to find the others.
        using var seededByOne = new RedisRemoteStore($"redis://127.0.0.1:{cluster.Nodes[2].Port}", RemoteData.Patient);
        Assert.All(seededByOne.FetchMany([.. entries.Select(e => e.Key)], RemoteData.AcceptAll), r => Assert.True(r.IsHit, r.ToString()));
        Assert.All(seededByOne.StoreMany(entries), r => Assert.Equal(StoreOutcome.AlreadyPresent, r.Outcome));
    }

    [Fact]
    [Requirement("RMT-13")]
    public void A_dead_node_degrades_the_store_and_its_keys_are_never_reported_as_misses()
    {
        using RedisCluster cluster = RedisCluster.Start();
        using var store = new RedisRemoteStore(cluster.Address, RemoteData.Patient with { MaxBatchSize = 512, CommandTimeout = TimeSpan.FromSeconds(10) });
        RemoteEntry[] entries = RemoteData.Entries(seed: 42, count: 200);
        Assert.All(store.StoreMany(entries), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));

        cluster.Nodes[1].Kill();
        IReadOnlyList<FetchResult> fetched = store.FetchMany([.. entries.Select(e => e.Key)], RemoteData.AcceptAll);
        Assert.DoesNotContain(fetched, r => r.Outcome is FetchOutcome.Miss or FetchOutcome.Refused);
        Assert.Contains(fetched, r => r.Outcome == FetchOutcome.Unavailable);
        Assert.All(fetched.Where(r => r.IsHit), r => Assert.Equal(entries.Single(e => e.Key.Equals(r.Key)).Bytes.ToArray(), r.Entry.ToArray()));
        Assert.Equal(RemoteStoreHealth.Disabled, store.Health);
        Assert.NotNull(store.Warning);
        Assert.All(store.FetchMany([entries[0].Key], RemoteData.AcceptAll), r => Assert.Equal(FetchOutcome.Unavailable, r.Outcome));
    }
}
