using AotCache.ConformanceTests.FrontEnd;
using AotCache.ConformanceTests.Spec;
using AotCache.Demo.Build;
using AotCache.Demo.Remote;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Faults of a real store during front-end builds (REMOTE.md §7): nothing listening, a server killed in the middle of a
/// build, a stalled server, and two machines uploading the same functions at once. Every build finishes, writes the
/// offline build's bytes, and warns once. No assertion is about time: deadlines are generous bounds.
/// </summary>
public sealed class RemoteFrontEndFaultTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TeamCache _team = new();

    public void Dispose() => _team.Dispose();

    /// <summary>A store that passes every call on to <paramref name="inner"/>, running <paramref name="onFirstEntry"/> in the
    /// validation callback of the first entry fetched and <paramref name="afterFetch"/> when a fetch returns.</summary>
    private sealed class Interposed(IRemoteStore inner, Action? onFirstEntry = null, Action? afterFetch = null) : IRemoteStore
    {
        private int _entries;

        public RemoteStoreHealth Health => inner.Health;
        public RemoteFault? Fault => inner.Fault;
        public string? Warning => inner.Warning;
        public RemoteStatistics Statistics => inner.Statistics;

        public IReadOnlyList<FetchResult> FetchMany(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate)
        {
            IReadOnlyList<FetchResult> results = inner.FetchMany(keys, (key, entry) =>
            {
                if (Interlocked.Increment(ref _entries) == 1) onFirstEntry?.Invoke();
                return validate(key, entry);
            });
            afterFetch?.Invoke();
            return results;
        }

        public Task<IReadOnlyList<FetchResult>> FetchManyAsync(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate,
            CancellationToken cancellationToken = default) => Task.FromResult(FetchMany(keys, validate));

        public IReadOnlyList<StoreResult> StoreMany(IReadOnlyList<RemoteEntry> entries) => inner.StoreMany(entries);

        public Task<IReadOnlyList<StoreResult>> StoreManyAsync(IReadOnlyList<RemoteEntry> entries, CancellationToken cancellationToken = default) =>
            inner.StoreManyAsync(entries, cancellationToken);

        public void Dispose() => inner.Dispose();
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-14")]
    [Requirement("RMT-21")]
    public void Nothing_listening_builds_offline_with_one_warning()
    {
        RedisServer.RequireInstalled();
        int port = RedisServer.FreePort();
        string text = Nib.Generated(100);
        string machine = _team.Machine("m", text);
        string err = TeamCache.Build(machine, $"redis://127.0.0.1:{port}");
        List<string> warnings = TeamCache.RemoteWarnings(err);
        string warning = Assert.Single(warnings);
        Assert.Contains($"cannot connect to 127.0.0.1:{port}: Connection refused", warning, StringComparison.Ordinal);
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 102 compiled, 0 uploaded, 102 not uploaded, 0 refused; 0.0 KiB in, 0.0 KiB out, 0 round trips",
            TeamCache.RemoteSummary(err));
        Assert.Equal(_team.Offline(text), TeamCache.Output(machine));
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-14")]
    [Requirement("RMT-21")]
    public void A_server_killed_in_the_middle_of_a_build_leaves_the_build_to_finish_offline_with_the_same_bytes()
    {
        string text = Nib.Generated(500);
        byte[] offline = _team.Offline(text);
        RedisServer server = RedisServer.Start();
        try
        {
            TeamCache.Build(_team.Machine("first", text), server.Address);

            // The second machine's build kills the server once the first fetched entry arrives: later batches find no server.
            string second = _team.Machine("second", text);
            var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxBatchSize = 50 });
            using RemoteFunctionCache remote = TeamCache.Remote(new Interposed(store, onFirstEntry: server.Kill));
            BuildResult build = TeamCache.Engine(second, remote);
            output.WriteLine(remote.Summary(build.Reused, build.Compiled));
            output.WriteLine(remote.Warning);

            Assert.True(server.HasExited);
            Assert.True(build.Fetched > 0 && build.Compiled > 0, $"{build.Fetched} fetched, {build.Compiled} compiled");
            Assert.Equal(502, build.Fetched + build.Compiled);
            Assert.Equal(offline, TeamCache.Output(second));
            // One warning for the whole build, naming the connection; nothing uploaded to a dead store.
            Assert.Contains("is unavailable; compiling locally for the rest of this build", remote.Warning, StringComparison.Ordinal);
            Assert.Equal(RemoteStoreHealth.Disabled, store.Health);
            Assert.Contains(store.Fault!.Kind, new[] { RemoteFaultKind.ConnectionLost, RemoteFaultKind.Unreachable });
            Assert.Equal((0, build.Compiled), (remote.Uploaded, remote.NotUploaded));
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-21")]
    public void A_stalled_server_is_hit_by_the_command_timeout_and_the_build_finishes_with_the_same_bytes()
    {
        using RedisServer server = RedisServer.Start("--enable-debug-command", "local");
        string text = Nib.Generated(200);
        TeamCache.Build(_team.Machine("first", text), server.Address);

        // Connected and answering, then stalled for longer than the build takes.
        var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { CommandTimeout = TimeSpan.FromMilliseconds(500) });
        for (int attempt = 0; store.FetchMany([RemoteData.Key(77, attempt)], RemoteData.AcceptAll)[0].Outcome != FetchOutcome.Miss; attempt++)
        {
            // A loaded machine can miss even a local server's 500 ms once; such a store is degraded for good.
            Assert.True(attempt < 10, $"no fetch answered within 500 ms: {store.Warning}");
            store.Dispose();
            store = new RedisRemoteStore(server.Address, RemoteData.Patient with { CommandTimeout = TimeSpan.FromMilliseconds(500) });
        }
        using RespClient sleeper = server.Stall(seconds: 60);
        string second = _team.Machine("second", text);
        using RemoteFunctionCache remote = TeamCache.Remote(store);
        BuildResult build = TeamCache.Engine(second, remote);

        Assert.Equal((202, 0), (build.Compiled, build.Fetched));
        Assert.Equal(_team.Offline(text), TeamCache.Output(second));
        Assert.Contains("the server did not answer within 500 ms", remote.Warning, StringComparison.Ordinal);
        Assert.Equal(RemoteFaultKind.Timeout, store.Fault!.Kind);
    }

    [Fact]
    [Requirement("RMT-13")]
    [Requirement("RMT-14")]
    public void A_server_stalled_before_the_build_connects_gives_one_warning_on_the_command_line()
    {
        using RedisServer server = RedisServer.Start("--enable-debug-command", "local");
        string text = Nib.Generated(100);
        TeamCache.Build(_team.Machine("first", text), server.Address);
        using RespClient sleeper = server.Stall(seconds: 60);

        string second = _team.Machine("second", text);
        var (exit, _, err) = Nib.Cli(["build", TeamCache.SourceOf(second), "--cache-dir", Path.Combine(second, "cache"), "--remote-cache", server.Address,
            "--remote-connect-timeout", "1000", "--remote-command-timeout", "1000", "--no-remote-modules"]);
        Assert.True(exit == 0, err);
        string warning = Assert.Single(TeamCache.RemoteWarnings(err));
        output.WriteLine(warning);
        Assert.Contains("is unavailable; compiling locally for the rest of this build", warning, StringComparison.Ordinal);
        Assert.Contains("remote: 0 local hits, 0 remote hits, 102 compiled", err, StringComparison.Ordinal);
        Assert.Equal(_team.Offline(text), TeamCache.Output(second));
    }

    [Fact]
    [Requirement("RMT-5")]
    [Requirement("RMT-7")]
    public async Task Two_machines_uploading_the_same_functions_at_once_store_each_entry_once_and_a_third_uses_them()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(300);
        // Both look up before either uploads: each then compiles everything and uploads everything, at the same time.
        using var bothFetched = new CountdownEvent(2);
        RemoteFunctionCache Machine() => TeamCache.Remote(new Interposed(new RedisRemoteStore(server.Address, RemoteData.Patient), afterFetch: () =>
        {
            bothFetched.Signal();
            Assert.True(bothFetched.Wait(TimeSpan.FromMinutes(5)), "the other machine never looked up");
        }));
        using RemoteFunctionCache a = Machine(), b = Machine();
        string machineA = _team.Machine("a", text), machineB = _team.Machine("b", text);
        BuildResult[] builds = await Task.WhenAll(Task.Run(() => TeamCache.Engine(machineA, a)), Task.Run(() => TeamCache.Engine(machineB, b)))
            .WaitAsync(TimeSpan.FromMinutes(10));
        Assert.All(builds, build => Assert.Equal(302, build.Compiled));
        Assert.Equal(302, a.Uploaded + b.Uploaded);
        Assert.Equal(302, a.AlreadyPresent + b.AlreadyPresent);
        using RespClient admin = server.Client();
        Assert.Equal(302, admin.CallInteger("DBSIZE"));

        // Entries are deterministic, so whichever machine won a key stored the bytes the other would have.
        string third = _team.Machine("c", text);
        BuildResult fetched = TeamCache.Engine(third, TeamCache.Remote(new RedisRemoteStore(server.Address, RemoteData.Patient)));
        Assert.Equal((302, 0), (fetched.Fetched, fetched.Compiled));
        Assert.Equal(TeamCache.Output(machineA), TeamCache.Output(third));
        Assert.Equal(TeamCache.Output(machineB), TeamCache.Output(third));
        using AotCache.Reader.CacheImage image = AotCache.Reader.CacheImage.OpenFile(TeamCache.CacheFileOf(third));
        foreach (int k in new[] { 0, 1, 150, 301 })
        {
            var body = image.GetFunctionBody(k);
            string name = image.SymbolName((int)image.Functions[k].Symbol);
            Assert.Equal(a.Format.Write(name, body, image), admin.CallBytes("GET", a.Format.KeyOf(body).Text));
        }
    }
}
