using AotCache.ConformanceTests.FrontEnd;
using AotCache.ConformanceTests.Spec;
using AotCache.Demo.Build;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Whole-module entries through the Nib front end on a real redis-server (REMOTE.md §10): a second machine builds a
/// program some machine already built with nothing analysed or compiled and writes the offline bytes; planted entries —
/// tampered, unsigned, for another target, truncated, of another program — are refused with their reasons, left in
/// place, and the build falls back to function entries with the same bytes; read-only machines upload nothing; the
/// store bounds what it receives; a server killed mid-build leaves the build to finish offline.
/// </summary>
public sealed class ModuleEntryTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TeamCache _team = new();

    public void Dispose() => _team.Dispose();

    /// <summary>The module key of a machine's program, as its front end derives it.</summary>
    private static RemoteModuleKey ModuleKeyOf(string machine, string address, string? keyFile = null)
    {
        using RemoteFunctionCache remote = TeamCache.RemoteWithModules(new RedisRemoteStore(address, RemoteData.Patient), keyFile);
        byte[] source = File.ReadAllBytes(TeamCache.SourceOf(machine));
        return remote.Modules!.KeyOf(new SourceFile(TeamCache.SourceOf(machine), source), new HostLibrary(TextWriter.Null));
    }

    private static List<string> ModuleKeys(RespClient admin) =>
        [.. ((object?[])admin.Call("KEYS", "aotc:module:*")!).Select(k => (string)k!)];

    [Fact]
    [Requirement("RMT-25")]
    [Requirement("RMT-27")]
    [Requirement("RMT-29")]
    public void A_second_machine_builds_and_runs_from_the_module_entry_with_nothing_analysed_or_compiled_and_the_offline_bytes()
    {
        using RedisServer server = RedisServer.Start();
        string team = _team.KeyFile("team.key", TeamCache.HmacLine("hmac", "team", 1));
        string text = Nib.Generated(1000);
        byte[] offline = _team.Offline(text);
        string first = _team.Machine("first", text), second = _team.Machine("second", text);

        string firstErr = TeamCache.BuildWithModules(first, server.Address, "--remote-key", team);
        output.WriteLine(TeamCache.RemoteSummary(firstErr));
        Assert.StartsWith("remote: module miss, module uploaded (", TeamCache.RemoteSummary(firstErr));
        RemoteModuleKey key = ModuleKeyOf(first, server.Address, team);
        using (RespClient admin = server.Client())
        {
            Assert.Equal([key.Text], ModuleKeys(admin));
            Assert.Equal(1002 + 1, admin.CallInteger("DBSIZE"));
            byte[] stored = admin.CallBytes("GET", key.Text)!;
            Assert.Equal(offline, stored[..offline.Length]);
        }

        // The second machine runs the program: the module entry becomes its cache; nothing is parsed, bound or compiled.
        var (exit, stdout, secondErr) = TeamCache.WithModules(second, server.Address, ["--remote-key", team], command: "run");
        output.WriteLine(secondErr);
        var (expectedOutput, expectedResult, _) = Nib.Run(TeamCache.CacheFileOf(first));
        Assert.Equal(expectedOutput, stdout);
        Assert.Equal((int)(expectedResult & 0xFF), exit);
        Assert.Contains("build: remote module hit: 1002 functions, 0 analysed, 0 compiled", secondErr, StringComparison.Ordinal);
        Assert.StartsWith("remote: remote module hit (", TeamCache.RemoteSummary(secondErr));
        Assert.Contains("; 0 local hits, 0 remote hits, 0 compiled, 0 uploaded, 0 refused; ", TeamCache.RemoteSummary(secondErr), StringComparison.Ordinal);
        Assert.Contains(" 1 round trips", TeamCache.RemoteSummary(secondErr), StringComparison.Ordinal);
        Assert.Empty(TeamCache.RemoteWarnings(firstErr + secondErr));
        Assert.Equal(offline, TeamCache.Output(first));
        Assert.Equal(offline, TeamCache.Output(second));

        // Through the engine: the result says so, and no analysis ran.
        string third = _team.Machine("third", text);
        using RemoteFunctionCache thirdRemote = TeamCache.RemoteWithModules(new RedisRemoteStore(server.Address, RemoteData.Patient), team);
        BuildResult built = TeamCache.Engine(third, thirdRemote);
        Assert.NotNull(built.RemoteModule);
        Assert.Equal(1002, built.RemoteModule!.Functions);
        Assert.Equal((0, 0, 0, 0), (built.Compiled, built.Fetched, built.StaleRecompiled, built.Changed.Count));
        Assert.Equal(TimeSpan.Zero, built.AnalyzeTime);
        Assert.Equal(offline, TeamCache.Output(third));

        // The local cache is current now: the next build asks the store nothing.
        string again = TeamCache.BuildWithModules(second, server.Address, "--remote-key", team);
        Assert.StartsWith("remote: module not asked; 1002 local hits, 0 remote hits, 0 compiled, 0 uploaded, 0 refused; 0.0 KiB in, 0.0 KiB out, 0 round trips",
            TeamCache.RemoteSummary(again));

        // An edit is built on the first machine, which uploads the new program's module; the second machine's edit build
        // stays incremental (the local cache comes first).
        string edited = Nib.Generated(1000, edit: 17);
        File.WriteAllText(TeamCache.SourceOf(first), edited);
        File.WriteAllText(TeamCache.SourceOf(second), edited);
        Assert.Contains("module uploaded", TeamCache.RemoteSummary(TeamCache.BuildWithModules(first, server.Address, "--remote-key", team)),
            StringComparison.Ordinal);
        string editErr = TeamCache.BuildWithModules(second, server.Address, "--remote-key", team);
        Assert.Contains("(incremental: ", editErr, StringComparison.Ordinal);
        Assert.StartsWith("remote: module not asked", TeamCache.RemoteSummary(editErr));
        Assert.Equal(_team.Offline(edited), TeamCache.Output(second));
        using (RespClient admin = server.Client()) Assert.Equal(2, ModuleKeys(admin).Count);
    }

    public static TheoryData<string, string> Planted => new()
    {
        { "tampered", "Malformed" },
        { "unsigned", "Unsigned" },
        { "foreign-target", "ForeignTarget" },
        { "truncated", "Malformed" },
        { "other-program", "DoesNotFit" },
    };

    [Theory]
    [MemberData(nameof(Planted))]
    [Requirement("RMT-26")]
    [Requirement("RMT-27")]
    [Requirement("RMT-30")]
    public void A_planted_module_entry_is_refused_with_its_reason_left_in_place_and_the_build_falls_back_to_function_entries(string planted, string reason)
    {
        using RedisServer server = RedisServer.Start();
        string team = _team.KeyFile("team.key", TeamCache.HmacLine("hmac", "team", 1));
        SigningKey signer = RemoteKeyFile.Load(team).SigningKey!;
        string text = Nib.Generated(200);
        byte[] offline = _team.Offline(text);
        string first = _team.Machine("first", text);
        // Function entries only: the planted entry is the only module entry.
        TeamCache.Build(first, server.Address, "--remote-key", team);
        RemoteModuleKey key = ModuleKeyOf(first, server.Address, team);
        var format = new RemoteModuleFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(CodegenSettings.Default), CpuFeatures.None, signer);
        byte[] good = format.Seal(offline, key);
        byte[] entry = planted switch
        {
            "tampered" => Flip(good, offline.Length / 3),
            "unsigned" => new RemoteModuleFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(CodegenSettings.Default)).Seal(offline, key),
            "foreign-target" => new RemoteModuleFormat(new TargetDescription(Architecture.X86_64, Abi.Win64, TargetOs.Windows),
                BuildEngine.FingerprintOf(CodegenSettings.Default), CpuFeatures.None, signer).Seal(offline, key),
            "truncated" => good[..(good.Length / 2)],
            // Signed by the team, sealed under this program's key, but the file is another program's build.
            _ => format.Seal(_team.Offline(Nib.Generated(200, edit: 3)), key),
        };
        using RespClient admin = server.Client();
        Assert.Equal("OK", admin.CallText("SET", key.Text, entry));

        string second = _team.Machine("second", text);
        string err = TeamCache.BuildWithModules(second, server.Address, "--remote-key", team);
        string line = TeamCache.RemoteSummary(err);
        output.WriteLine(line);
        Assert.StartsWith($"remote: module entry refused ({reason}: ", line);
        Assert.Contains("0 local hits, 202 remote hits, 0 compiled", line, StringComparison.Ordinal);
        Assert.Contains($"1 refused (module {reason} 1)", line, StringComparison.Ordinal);
        // The build uploads its own module entry, but the first writer wins: the planted one stays.
        Assert.Contains("module already there", line, StringComparison.Ordinal);
        Assert.Equal(entry, admin.CallBytes("GET", key.Text));
        Assert.Equal(offline, TeamCache.Output(second));
        Assert.Empty(TeamCache.RemoteWarnings(err));
    }

    [Fact]
    [Requirement("RMT-29")]
    public void A_read_only_machine_or_one_without_a_signing_key_uploads_no_module_entry()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(100);
        string readOnly = TeamCache.BuildWithModules(_team.Machine("ro", text), server.Address, "--remote-read-only");
        Assert.StartsWith("remote: module miss; 0 local hits, 0 remote hits, 102 compiled, 0 uploaded (read-only)", TeamCache.RemoteSummary(readOnly));
        string trustOnly = _team.KeyFile("trust.key", TeamCache.HmacLine("hmac-trust", "team", 1));
        string developer = TeamCache.BuildWithModules(_team.Machine("dev", text), server.Address, "--remote-key", trustOnly);
        Assert.StartsWith("remote: module miss; ", TeamCache.RemoteSummary(developer));
        using RespClient admin = server.Client();
        Assert.Equal(0, admin.CallInteger("DBSIZE"));

        // --no-remote-modules: function entries only, no module lookup at all.
        string functionsOnly = TeamCache.Build(_team.Machine("functions", text), server.Address);
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 102 compiled, 102 uploaded", TeamCache.RemoteSummary(functionsOnly));
        Assert.Empty(ModuleKeys(admin));
    }

    [Fact]
    [Requirement("RMT-28")]
    public void The_store_receives_at_most_the_module_bound_plus_one_byte_and_refuses_larger_entries()
    {
        using RedisServer server = RedisServer.Start();
        RemoteModuleKey key = new RemoteModuleFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(CodegenSettings.Default))
            .KeyOf([ModuleInput.OfText("source", "big")]);
        using (RespClient admin = server.Client()) Assert.Equal("OK", admin.CallText("SET", key.Text, new byte[100_000]));
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient with { MaxModuleBytes = 4096 });
        bool validated = false;
        ModuleFetchResult fetched = store.FetchModule(key, _ => { validated = true; return null; });
        Assert.Equal(FetchOutcome.Refused, fetched.Outcome);
        Assert.Equal(RefusalReason.TooLarge, fetched.Refusal);
        Assert.False(validated);
        Assert.Equal(4097, store.Statistics.BytesIn);
        Assert.Equal(1, store.Statistics.RoundTrips);

        ModuleStoreResult stored = store.StoreModule(key, new byte[5000]);
        Assert.Equal((StoreOutcome.Refused, RefusalReason.TooLarge), (stored.Outcome, stored.Refusal));
        Assert.Equal(0, store.Statistics.BytesOut);
        Assert.Equal(StoreOutcome.AlreadyPresent, store.StoreModule(key, new byte[10]).Outcome);
    }

    /// <summary>A module store that kills the server once its module fetch has been answered: the build is connected and
    /// under way when the server dies.</summary>
    private sealed class KillAfterModuleFetch(RedisRemoteStore inner, RedisServer server) : IRemoteModuleStore
    {
        public RemoteStoreHealth Health => inner.Health;
        public RemoteFault? Fault => inner.Fault;
        public string? Warning => inner.Warning;
        public RemoteStatistics Statistics => inner.Statistics;

        public ModuleFetchResult FetchModule(RemoteModuleKey key, Func<ReadOnlyMemory<byte>, string?> validate)
        {
            ModuleFetchResult result = inner.FetchModule(key, validate);
            server.Kill();
            return result;
        }

        public ModuleStoreResult StoreModule(RemoteModuleKey key, ReadOnlyMemory<byte> entry) => inner.StoreModule(key, entry);
        public IReadOnlyList<FetchResult> FetchMany(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate) => inner.FetchMany(keys, validate);
        public Task<IReadOnlyList<FetchResult>> FetchManyAsync(IReadOnlyList<RemoteKey> keys, Func<string, ReadOnlyMemory<byte>, string?> validate,
            CancellationToken cancellationToken = default) => inner.FetchManyAsync(keys, validate, cancellationToken);
        public IReadOnlyList<StoreResult> StoreMany(IReadOnlyList<RemoteEntry> entries) => inner.StoreMany(entries);
        public Task<IReadOnlyList<StoreResult>> StoreManyAsync(IReadOnlyList<RemoteEntry> entries, CancellationToken cancellationToken = default) =>
            inner.StoreManyAsync(entries, cancellationToken);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    [Requirement("RMT-30")]
    public void A_server_killed_after_the_module_lookup_leaves_the_build_to_finish_offline_with_the_same_bytes()
    {
        string text = Nib.Generated(300);
        byte[] offline = _team.Offline(text);
        using RedisServer server = RedisServer.Start();
        TeamCache.Build(_team.Machine("first", text), server.Address);
        string second = _team.Machine("second", text);
        using RemoteFunctionCache remote = TeamCache.RemoteWithModules(new KillAfterModuleFetch(new RedisRemoteStore(server.Address, RemoteData.Patient), server));
        BuildResult built = TeamCache.Engine(second, remote);
        Assert.True(server.HasExited);
        Assert.Equal(ModuleOutcome.Miss, remote.Modules!.Outcome);
        Assert.Null(built.RemoteModule);
        Assert.Equal(302, built.Compiled);
        Assert.NotNull(remote.Warning);
        output.WriteLine(remote.Warning);
        Assert.Null(remote.Modules.Uploaded);
        Assert.Equal(offline, TeamCache.Output(second));
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[at] ^= 0x01;
        return copy;
    }
}
