using AotCache.ConformanceTests.FrontEnd;
using AotCache.ConformanceTests.Spec;
using AotCache.Demo.Build;
using AotCache.Demo.Generator;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// The Nib front end with a team cache on a real redis-server (REMOTE.md §8): machines that share a store compile each
/// function once between them and write the offline build's bytes; entries of other settings or signatures never hit;
/// signatures are required and made as the key file says; planted entries are refused, compiled instead and left in
/// place; a cluster works through the front end; the command line and the environment configure it.
/// </summary>
public sealed class RemoteFrontEndTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TeamCache _team = new();

    public void Dispose() => _team.Dispose();

    [Fact]
    [Requirement("RMT-21")]
    [Requirement("RMT-22")]
    public void A_second_machine_builds_1000_functions_from_the_store_without_compiling_and_writes_the_offline_bytes()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(1000);
        byte[] offline = _team.Offline(text);
        string first = _team.Machine("first", text), second = _team.Machine("second", text);

        string firstErr = TeamCache.Build(first, server.Address);
        output.WriteLine(TeamCache.RemoteSummary(firstErr));
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 1002 compiled, 1002 uploaded, 0 refused;", TeamCache.RemoteSummary(firstErr));
        using (RespClient admin = server.Client()) Assert.Equal(1002, admin.CallInteger("DBSIZE"));

        string secondErr = TeamCache.Build(second, server.Address);
        output.WriteLine(TeamCache.RemoteSummary(secondErr));
        Assert.Contains("build: 0 compiled, 0 stale-recompiled, 0 reused, 1002 fetched", secondErr, StringComparison.Ordinal);
        Assert.StartsWith("remote: 0 local hits, 1002 remote hits, 0 compiled, 0 uploaded, 0 refused;", TeamCache.RemoteSummary(secondErr));
        Assert.Empty(TeamCache.RemoteWarnings(firstErr + secondErr));
        Assert.Equal(offline, TeamCache.Output(first));
        Assert.Equal(offline, TeamCache.Output(second));
        Assert.Equal(Nib.Run(TeamCache.CacheFileOf(first)), Nib.Run(TeamCache.CacheFileOf(second)));

        // Its local cache is now current: the next build asks the store nothing.
        string again = TeamCache.Build(second, server.Address);
        Assert.StartsWith("remote: 1002 local hits, 0 remote hits, 0 compiled, 0 uploaded, 0 refused; 0.0 KiB in, 0.0 KiB out, 0 round trips",
            TeamCache.RemoteSummary(again));
    }

    [Fact]
    [Requirement("RMT-21")]
    public void An_edit_built_on_one_machine_is_fetched_by_the_incremental_build_of_another()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(300);
        string first = _team.Machine("first", text), second = _team.Machine("second", text);
        TeamCache.Build(first, server.Address);
        TeamCache.Build(second, server.Address);

        // One body edited: the first machine compiles and uploads it; the second edits its cache in place with the fetched body.
        string edited = Nib.Generated(300, edit: 137);
        File.WriteAllText(TeamCache.SourceOf(first), edited);
        File.WriteAllText(TeamCache.SourceOf(second), edited);
        Assert.StartsWith("remote: 301 local hits, 0 remote hits, 1 compiled, 1 uploaded", TeamCache.RemoteSummary(TeamCache.Build(first, server.Address)));
        BuildResult fetched = TeamCache.Engine(second, TeamCache.Remote(new RedisRemoteStore(server.Address, RemoteData.Patient)));
        Assert.True(fetched.Incremental);
        Assert.Equal(["f_137"], fetched.Named(FunctionOutcome.Fetched));
        Assert.Equal(0, fetched.Compiled + fetched.StaleRecompiled);
        Assert.Equal(_team.Offline(edited), TeamCache.Output(second));

        // A signature change: the callee and its stale callers come from the store too.
        string probe = Nib.Generated(300, edit: 137, probeReturnsF64: true);
        File.WriteAllText(TeamCache.SourceOf(first), probe);
        File.WriteAllText(TeamCache.SourceOf(second), probe);
        TeamCache.Build(first, server.Address);
        string err = TeamCache.Build(second, server.Address);
        string[] callers = [.. Enumerable.Range(0, 300).Where(ProgramGenerator.CallsProbe).Select(i => $"f_{i}")];
        Assert.StartsWith($"remote: {302 - 1 - callers.Length} local hits, {1 + callers.Length} remote hits, 0 compiled", TeamCache.RemoteSummary(err));
        Assert.Equal(_team.Offline(probe), TeamCache.Output(second));
    }

    [Fact]
    [Requirement("RMT-22")]
    public void Entries_compiled_with_other_settings_or_against_another_signature_are_never_hits()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(200);
        TeamCache.Build(_team.Machine("first", text), server.Address);

        // Other codegen options: every key differs, so every function is compiled, to the bytes of that configuration.
        string slots = _team.Machine("slots", text);
        string err = TeamCache.Build(slots, server.Address, "--import-calls", "Slot");
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 202 compiled, 202 uploaded, 0 refused", TeamCache.RemoteSummary(err));
        Assert.Equal(_team.Offline(text, "--import-calls", "Slot"), TeamCache.Output(slots));

        // probe returns f64 now: its callers' code differs, so their keys do; everything else is a hit.
        string probe = Nib.Generated(200, probeReturnsF64: true);
        string changed = _team.Machine("probe", probe);
        BuildResult build = TeamCache.Engine(changed, TeamCache.Remote(new RedisRemoteStore(server.Address, RemoteData.Patient)));
        Assert.Equal(["probe", "f_0", "f_100"], build.Named(FunctionOutcome.Compiled));
        Assert.Equal(199, build.Fetched);
        Assert.Equal(_team.Offline(probe), TeamCache.Output(changed));
    }

    [Fact]
    [Requirement("RMT-20")]
    [Requirement("RMT-10")]
    public void With_a_key_file_uploads_are_signed_and_entries_not_signed_by_a_trusted_key_are_refused_and_compiled()
    {
        string team = _team.KeyFile("team.key", "# the team's secret\n" + TeamCache.HmacLine("hmac", "team", 1));
        string other = _team.KeyFile("other.key", TeamCache.HmacLine("hmac", "team", 2));
        string trustOnly = _team.KeyFile("trust.key", TeamCache.HmacLine("hmac-trust", "team", 1));
        using RedisServer server = RedisServer.Start();
        using RedisServer unsignedServer = RedisServer.Start();
        string text = Nib.Generated(150);
        byte[] offline = _team.Offline(text);

        string ci = _team.Machine("ci", text);
        TeamCache.Build(ci, server.Address, "--remote-key", team);
        using (CacheImage built = CacheImage.OpenFile(TeamCache.CacheFileOf(ci)))
        using (RespClient admin = server.Client())
        {
            RemoteKey anyKey = TeamCache.Remote(new RedisRemoteStore(server.Address)).Format.KeyOf(built.GetFunctionBody(0));
            using CacheImage entry = CacheImage.Read(admin.CallBytes("GET", anyKey.Text)!);
            Assert.True(entry.HasSection(SectionKind.Signature));
        }

        // The same key: every entry a hit. Another secret under the same name: every entry refused, compiled, and the
        // store's entries stay (first writer wins).
        Assert.StartsWith("remote: 0 local hits, 152 remote hits, 0 compiled",
            TeamCache.RemoteSummary(TeamCache.Build(_team.Machine("dev", text), server.Address, "--remote-key", team)));
        string stranger = _team.Machine("other", text);
        string otherErr = TeamCache.Build(stranger, server.Address, "--remote-key", other);
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 152 compiled, 0 uploaded (152 already there), 152 refused (BadSignature 152);",
            TeamCache.RemoteSummary(otherErr));
        Assert.Equal(offline, TeamCache.Output(stranger));

        // A key file that only trusts fetches and uploads nothing.
        string reader = _team.Machine("reader", Nib.Generated(150, edit: 3));
        string readerErr = TeamCache.Build(reader, server.Address, "--remote-key", trustOnly);
        Assert.StartsWith("remote: 0 local hits, 151 remote hits, 1 compiled, 0 uploaded (the key file holds no signing key), 0 refused",
            TeamCache.RemoteSummary(readerErr));

        // Unsigned entries, for a client that requires signatures.
        TeamCache.Build(_team.Machine("unsigned-ci", text), unsignedServer.Address);
        string strict = _team.Machine("strict", text);
        string unsignedErr = TeamCache.Build(strict, unsignedServer.Address, "--remote-key", team);
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 152 compiled, 0 uploaded (152 already there), 152 refused (Unsigned 152);",
            TeamCache.RemoteSummary(unsignedErr));
        Assert.Equal(offline, TeamCache.Output(strict));
    }

    [Fact]
    [Requirement("RMT-8")]
    [Requirement("RMT-9")]
    [Requirement("RMT-10")]
    [Requirement("RMT-21")]
    public void Tampered_unsigned_truncated_foreign_and_misplaced_entries_are_refused_compiled_instead_and_left_in_place()
    {
        string keyFile = _team.KeyFile("team.key", TeamCache.HmacLine("hmac", "team", 1));
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(200);
        string ci = _team.Machine("ci", text);
        TeamCache.Build(ci, server.Address, "--remote-key", keyFile);

        // An attacker with write access overwrites five entries with bytes of their own making.
        RemoteEntryFormat team = TeamCache.Remote(new RedisRemoteStore(server.Address), keyFile).Format;
        var planted = new Dictionary<string, byte[]>();
        using (CacheImage image = CacheImage.OpenFile(TeamCache.CacheFileOf(ci)))
        {
            FunctionBody Body(string name) => image.GetFunctionBody(name);
            byte[] tampered = team.Write("f_1", Body("f_1"), image);
            Resign(tampered);
            planted["f_1"] = tampered;
            planted["f_2"] = new RemoteEntryFormat(team.Target, team.Fingerprint, BuildEngine.Producer).Write("f_2", Body("f_2"), image);
            planted["f_3"] = team.Write("f_3", Body("f_3"), image)[..300];
            planted["f_4"] = new RemoteEntryFormat(new TargetDescription(Architecture.X86_64, Abi.Win64, TargetOs.Windows), team.Fingerprint,
                BuildEngine.Producer, team.SigningKey).Write("f_4", Body("f_4"), image);
            planted["f_5"] = team.Write("f_6", Body("f_6"), image); // f_6's entry under f_5's key
            using RespClient attacker = server.Client();
            foreach (var (name, bytes) in planted)
                Assert.Equal("OK", attacker.CallText("SET", team.KeyOf(Body(name)).Text, bytes));
        }

        string dev = _team.Machine("dev", text);
        string err = TeamCache.Build(dev, server.Address, "--remote-key", keyFile);
        Assert.StartsWith("remote: 0 local hits, 197 remote hits, 5 compiled, 0 uploaded (5 already there), " +
            "5 refused (BadSignature 1, ForeignTarget 1, Malformed 1, OtherKey 1, Unsigned 1);", TeamCache.RemoteSummary(err));
        Assert.Contains("build: 5 compiled, 0 stale-recompiled, 0 reused, 197 fetched", err, StringComparison.Ordinal);
        foreach (string name in planted.Keys) Assert.Contains($"  compiled {name}: no usable cache", err, StringComparison.Ordinal);
        Assert.Equal(_team.Offline(text), TeamCache.Output(dev));

        // Nobody replaced them: a client that refuses an entry does not overwrite it (first writer wins).
        using (CacheImage image = CacheImage.OpenFile(TeamCache.CacheFileOf(dev)))
        using (RespClient admin = server.Client())
            foreach (var (name, bytes) in planted)
                Assert.Equal(bytes, admin.CallBytes("GET", team.KeyOf(image.GetFunctionBody(name)).Text));
    }

    /// <summary>Changes g's last code byte and makes every checksum right again, so only a signature can tell.</summary>
    private static void Resign(byte[] entry)
    {
        using CacheImage read = CacheImage.Read(entry.ToArray());
        int code = read.SectionOffset(SectionKind.Code);
        var directory = read.Directory.ToArray();
        int index = Array.FindIndex(directory, s => s.Kind == (uint)SectionKind.Code);
        int size = (int)directory[index].Size;
        entry[code + (int)read.Functions[0].CodeSize - 1] ^= 0x01;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(FormatConstants.DirectoryOffset + index * SectionEntry.RecordSize + 32),
            Checksums.SectionChecksum(entry.AsSpan(code, size)));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(FormatConstants.FileChecksumOffset), Checksums.FileChecksum(entry));
    }

    [Fact]
    [Requirement("RMT-22")]
    public void Verify_cache_recompiles_fetched_functions_and_names_an_entry_whose_key_missed_an_input()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(100);
        string ci = _team.Machine("ci", text);
        TeamCache.Build(ci, server.Address);

        // A compiler whose key missed an input would store different code under the right key: simulate one entry so,
        // a valid entry of f_7 whose code returns another constant. Every check of the entry passes.
        RemoteEntryFormat format = TeamCache.Remote(new RedisRemoteStore(server.Address)).Format;
        using (CacheImage image = CacheImage.OpenFile(TeamCache.CacheFileOf(ci)))
        {
            FunctionBody right = image.GetFunctionBody("f_7");
            byte[] code = [.. right.Code];
            int at = code.AsSpan().IndexOf((byte)0xC3) - 1; // a byte of the function's code before its first ret
            code[at] ^= 0x01;
            var wrong = new FunctionBody(code, right.Signature, right.Relocations, right.Dependencies)
            { Alignment = right.Alignment, ContentHash = right.ContentHash };
            using RespClient admin = server.Client();
            Assert.Equal("OK", admin.CallText("SET", format.KeyOf(right).Text, format.Write("f_7", wrong, image)));
        }

        string dev = _team.Machine("dev", text);
        var (exit, _, err) = TeamCache.Cli(dev, server.Address, "--verify-cache", "all");
        Assert.Equal(Demo.Program.ExitVerifyFailed, exit);
        Assert.Contains("remote: 0 local hits, 102 remote hits, 0 compiled", err, StringComparison.Ordinal);
        Assert.Contains("error: --verify-cache: 'f_7': the cached body differs from a fresh compile (code byte", err, StringComparison.Ordinal);
        Assert.Contains("verify-cache: 102 of 102 reused and fetched functions recompiled and compared", err, StringComparison.Ordinal);
    }

    [Fact]
    [Requirement("RMT-4")]
    [Requirement("RMT-21")]
    public void Through_a_three_master_cluster_a_second_machine_compiles_nothing()
    {
        using RedisCluster cluster = RedisCluster.Start();
        string text = Nib.Generated(300);
        TeamCache.Build(_team.Machine("first", text), cluster.Address);
        IReadOnlyList<long> perNode = cluster.KeysPerNode();
        Assert.Equal(302, perNode.Sum());
        Assert.All(perNode, n => Assert.True(n > 50, $"keys per node: {string.Join(", ", perNode)}"));

        string second = _team.Machine("second", text);
        string err = TeamCache.Build(second, cluster.Address);
        Assert.StartsWith("remote: 0 local hits, 302 remote hits, 0 compiled, 0 uploaded, 0 refused;", TeamCache.RemoteSummary(err));
        Assert.Equal(_team.Offline(text), TeamCache.Output(second));
    }

    [Fact]
    public void The_environment_configures_the_cache_and_the_command_line_overrides_it()
    {
        using RedisServer server = RedisServer.Start();
        string text = Nib.Generated(50);
        string machine = _team.Machine("ci", text);
        var environment = new Dictionary<string, string>
        {
            ["AOTCACHE_REMOTE_CACHE"] = server.Address,
            ["AOTCACHE_REMOTE_READ_ONLY"] = "1",
            ["AOTCACHE_REMOTE_CONNECT_TIMEOUT_MS"] = TeamCache.Patient,
            ["AOTCACHE_REMOTE_COMMAND_TIMEOUT_MS"] = TeamCache.Patient,
            // Function entries only, so that DBSIZE counts them (module entries: ModuleEntryTests).
            ["AOTCACHE_REMOTE_MODULES"] = "0",
        };
        (int Exit, string Err) Run(Dictionary<string, string> env, params string[] args)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int exit = Demo.Program.Run(["build", TeamCache.SourceOf(machine), "--cache-dir", Path.Combine(machine, "cache"), .. args], stdout, stderr,
                environment: name => env.GetValueOrDefault(name));
            return (exit, stderr.ToString());
        }

        var (exit, err) = Run(environment);
        Assert.True(exit == 0, err);
        Assert.StartsWith("remote: 0 local hits, 0 remote hits, 52 compiled, 0 uploaded (read-only), 0 refused", TeamCache.RemoteSummary(err));
        using RespClient admin = server.Client();
        Assert.Equal(0, admin.CallInteger("DBSIZE"));

        // --no-remote-cache: offline; a fresh cache directory and no remote line.
        Directory.Delete(Path.Combine(machine, "cache"), recursive: true);
        (exit, err) = Run(environment, "--no-remote-cache");
        Assert.True(exit == 0 && !err.Contains("remote:", StringComparison.Ordinal), err);

        // The command line's address wins over a malformed one in the environment; read-only still comes from it.
        Directory.Delete(Path.Combine(machine, "cache"), recursive: true);
        environment["AOTCACHE_REMOTE_CACHE"] = "http://nowhere";
        (exit, err) = Run(environment, "--remote-cache", server.Address);
        Assert.True(exit == 0, err);
        Assert.Contains("0 uploaded (read-only)", err, StringComparison.Ordinal);

        // Without the read-only flag, the same build uploads.
        Directory.Delete(Path.Combine(machine, "cache"), recursive: true);
        environment.Remove("AOTCACHE_REMOTE_READ_ONLY");
        (exit, err) = Run(environment, "--remote-cache", server.Address);
        Assert.True(exit == 0, err);
        Assert.Equal(52, admin.CallInteger("DBSIZE"));

        (exit, err) = Run(environment);
        Assert.Equal(Demo.Program.ExitUsage, exit);
        Assert.Contains("AOTCACHE_REMOTE_CACHE: 'http://nowhere' is not a remote cache address: the scheme must be redis://", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Misconfiguration_is_a_usage_error_that_says_what_is_wrong()
    {
        string machine = _team.Machine("m", Nib.Generated(10));
        (int Exit, string Err) Cli(params string[] args)
        {
            var (exit, _, err) = Nib.Cli(["build", TeamCache.SourceOf(machine), "--cache-dir", Path.Combine(machine, "cache"), .. args]);
            return (exit, err);
        }
        string short_ = _team.KeyFile("short.key", $"hmac team {Convert.ToBase64String(new byte[16])}\n");
        (string[] Args, string Says)[] cases =
        [
            (["--remote-cache", "redis://host"], "'host' has no port"),
            (["--remote-cache", "redis://user:secret@host:6379"], "credentials do not belong in the address"),
            (["--remote-key", short_], "--remote-key and --remote-read-only need --remote-cache"),
            (["--remote-cache", "redis://127.0.0.1:1", "--remote-key", Path.Combine(machine, "missing.key")], "--remote-key: cannot read"),
            (["--remote-cache", "redis://127.0.0.1:1", "--remote-key", short_], "has 16 bytes; HMAC-SHA256 needs at least 32"),
            (["--remote-cache", "redis://127.0.0.1:1", "--remote-command-timeout", "0"], "--remote-command-timeout: 0 ms is not from 1 ms to 10 minutes"),
        ];
        foreach (var (args, says) in cases)
        {
            var (exit, err) = Cli(args);
            Assert.True(exit == Demo.Program.ExitUsage && err.Contains(says, StringComparison.Ordinal), $"{string.Join(' ', args)}: exit {exit}, {err}");
            Assert.False(File.Exists(TeamCache.CacheFileOf(machine)));
        }
    }

    [Fact]
    public void With_key_inputs_left_out_the_store_is_not_used_at_all()
    {
        using RedisServer server = RedisServer.Start();
        string machine = _team.Machine("m", Nib.Generated(20));
        string err = TeamCache.Build(machine, server.Address, "--key-omit", "callee-signatures");
        Assert.Contains("warning: the remote cache is not used: --key-omit", err, StringComparison.Ordinal);
        Assert.DoesNotContain("remote:", err, StringComparison.Ordinal);
        using RespClient admin = server.Client();
        Assert.Equal("1", admin.InfoField("stats", "total_connections_received")); // this admin connection only
    }
}
