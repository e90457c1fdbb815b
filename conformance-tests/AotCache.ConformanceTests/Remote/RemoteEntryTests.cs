using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Real entries through a real server: one-function entries written and HMAC-signed by <see cref="RemoteEntryFormat"/>,
/// fetched with a validation callback that reads them back (REMOTE.md §6). Planted entries that are unsigned, signed by
/// a stranger, tampered with, valid but another key's, or not AotCache files at all are refused and reported as misses.
/// </summary>
public sealed class RemoteEntryTests
{
    private static readonly byte[] TeamSecret = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    private static readonly RemoteFingerprint Fingerprint = RemoteFingerprint.Of([FingerprintSetting.OfInteger("compiler", 2)]);
    private static readonly Signature Returns32 = Signature.SysV([], [ScalarType.I32]);
    private static readonly ISymbolScope Scope = new SymbolScope().Add("f", SymbolKind.Function, Returns32);

    private static RemoteEntryFormat Team => new(TargetDescription.LinuxX64, Fingerprint, "tests", SigningKey.Hmac("team", TeamSecret),
        new SignaturePolicy { TrustedKeys = [VerificationKey.Hmac("team", TeamSecret)] });

    /// <summary>Function number <paramref name="function"/>: returns <paramref name="value"/>.</summary>
    private static FunctionBody Body(int function, int value, CpuFeatures features = CpuFeatures.None) =>
        new([0xB8, .. BitConverter.GetBytes(value), 0xC3], Returns32) // mov eax, value; ret
        {
            ContentHash = ContentHash.Of([.. BitConverter.GetBytes(function), 0x5a]),
            RequiredCpuFeatures = features,
        };

    private static byte[] Entry(FunctionBody body, SigningKey? key) =>
        new RemoteEntryFormat(TargetDescription.LinuxX64, Fingerprint, "tests", key).Write("f", body, Scope);

    [Fact]
    [Requirement("RMT-8")]
    [Requirement("RMT-9")]
    [Requirement("RMT-10")]
    public void Signed_entries_for_their_keys_are_hits_and_planted_entries_are_refused_as_misses()
    {
        RemoteEntryFormat team = Team;
        var teamKey = SigningKey.Hmac("team", TeamSecret);
        var stranger = SigningKey.Hmac("stranger", [.. Enumerable.Range(0, 32).Select(i => (byte)i)]);
        FunctionBody good = Body(1, 11), avx = Body(2, 22, CpuFeatures.Avx2), unsigned = Body(3, 33), foreign = Body(4, 44), tampered = Body(5, 55),
            swapped = Body(6, 66), garbage = Body(7, 77), absent = Body(8, 88);
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        Assert.All(store.StoreMany([
            new RemoteEntry(team.KeyOf(good), team.Write("f", good, Scope)),
            new RemoteEntry(team.KeyOf(avx), team.Write("f", avx, Scope)),
        ]), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));

        // Someone with write access to the server, without the team key, plants entries.
        byte[] tamperedBytes = Entry(tampered, teamKey);
        tamperedBytes[^200] ^= 1;
        using (RespClient attacker = server.Client())
        {
            attacker.CallText("SET", team.KeyOf(unsigned).Text, Entry(unsigned, null));
            attacker.CallText("SET", team.KeyOf(foreign).Text, Entry(foreign, stranger));
            attacker.CallText("SET", team.KeyOf(tampered).Text, tamperedBytes);
            attacker.CallText("SET", team.KeyOf(swapped).Text, Entry(good, teamKey)); // valid and signed, but another key's
            attacker.CallText("SET", team.KeyOf(garbage).Text, "not an AotCache file");
        }

        FunctionBody[] wanted = [good, avx, unsigned, foreign, tampered, swapped, garbage, absent];
        var byKey = wanted.ToDictionary(b => team.KeyOf(b).Text);
        var read = new System.Collections.Concurrent.ConcurrentDictionary<string, FunctionBody>();
        IReadOnlyList<FetchResult> results = store.FetchMany([.. wanted.Select(team.KeyOf)], (key, entry) =>
        {
            if (!team.TryRead(entry, team.KeyOf(byKey[key]), "f", Scope, out FunctionBody? body, out EntryRefusal? refusal)) return refusal.ToString();
            read[key] = body;
            return null;
        });

        FetchOutcome[] expected = [FetchOutcome.Hit, FetchOutcome.Hit, FetchOutcome.Refused, FetchOutcome.Refused, FetchOutcome.Refused,
            FetchOutcome.Refused, FetchOutcome.Refused, FetchOutcome.Miss];
        Assert.True(expected.SequenceEqual(results.Select(r => r.Outcome)), string.Join("\n", results));
        Assert.StartsWith("Unsigned:", results[2].Detail, StringComparison.Ordinal);
        Assert.StartsWith("BadSignature:", results[3].Detail, StringComparison.Ordinal);
        Assert.StartsWith("Malformed:", results[4].Detail, StringComparison.Ordinal);
        Assert.StartsWith("OtherKey:", results[5].Detail, StringComparison.Ordinal);
        Assert.StartsWith("Malformed:", results[6].Detail, StringComparison.Ordinal);
        Assert.All(results.Where(r => !r.IsHit), r => Assert.True(r.Entry.IsEmpty));
        Assert.Equal(5, store.Statistics.RefusedFor(RefusalReason.Invalid));

        // The hits read back into the bodies that were compiled.
        Assert.Equal([good, avx], [read[team.KeyOf(good).Text], read[team.KeyOf(avx).Text]]);
        Assert.Equal(2, read.Count);
    }
}
