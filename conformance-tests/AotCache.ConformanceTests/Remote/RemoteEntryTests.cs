using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;
using ValueType = AotCache.Format.ValueType;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Real entries through a real server: one-function AotCache files written and HMAC-signed by the writer, fetched
/// with a validation callback that reads them with full validation and the signature policy, and checks that each
/// belongs to its key (REMOTE.md §6). Planted entries that are unsigned, tampered with, or valid but for another key
/// are refused and reported as misses. The callback here is a sketch of what a front end passes.
/// </summary>
public sealed class RemoteEntryTests
{
    private static readonly byte[] TeamSecret = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    /// <summary>The codegen fingerprint hash of this compiler's settings, as every entry's header holds it.</summary>
    private static readonly ulong Fingerprint = FingerprintOf();

    private static readonly ReadOptions TeamPolicy = ReadOptions.Full with
    {
        Signatures = new SignaturePolicy { TrustedKeys = [VerificationKey.Hmac("team", TeamSecret)] },
    };

    private static RemoteKeyInputs Inputs(int function, CpuFeatures features = CpuFeatures.None) =>
        RemoteKeyInputs.Current(ContentHash.Of([.. BitConverter.GetBytes(function), 0x5a]), Fingerprint, Architecture.X86_64, Abi.SysVAmd64,
            TargetOs.Linux, features);

    /// <summary>An entry: one function returning <paramref name="value"/>, compiled for <paramref name="inputs"/>.</summary>
    private static byte[] Entry(RemoteKeyInputs inputs, int value, SigningKey? signingKey)
    {
        CacheBuilder builder = Builder(inputs, signingKey);
        byte[] code = [0xB8, .. BitConverter.GetBytes(value), 0xC3]; // mov eax, value; ret
        builder.AddFunction("f", new FunctionBody(code, Signature.SysV([], [ValueType.I32]))
        {
            ContentHash = inputs.ContentHash,
            RequiredCpuFeatures = inputs.RequiredCpuFeatures,
        });
        return builder.ToArray();
    }

    private static CacheBuilder Builder(RemoteKeyInputs inputs, SigningKey? signingKey)
    {
        var builder = new CacheBuilder(new TargetDescription(inputs.Architecture, inputs.Abi, inputs.Os))
        {
            SigningKey = signingKey,
            RequiredCpuFeatures = inputs.RequiredCpuFeatures,
        };
        builder.AddFingerprint("compiler", 2);
        return builder;
    }

    /// <summary>The header's fingerprint hash covers the Fingerprint section, whose string references depend on the
    /// string table's layout (the reference writer interns symbol names first), so it is taken from an entry with the
    /// same strings as the test's entries. REMOTE.md §4 needs it to be the same in every entry of one compiler.</summary>
    private static ulong FingerprintOf()
    {
        byte[] entry = Entry(RemoteKeyInputs.Current(new ContentHash(1, 1), 0, Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux,
            CpuFeatures.None), 0, null);
        using CacheImage image = CacheImage.Read(entry);
        Assert.NotEqual(0UL, image.Header.CodegenFingerprint);
        return image.Header.CodegenFingerprint;
    }

    /// <summary>What a front end checks (REMOTE.md [RMT-8] [RMT-9]): the whole file under the team's signature policy,
    /// then that its one function and its header are the key's inputs.</summary>
    private static string? Validate(RemoteKeyInputs expected, ReadOnlyMemory<byte> entry)
    {
        if (!CacheImage.TryRead(entry, out CacheImage? image, out AotCacheException? error, TeamPolicy))
            return $"{error!.Code}: {error.Message}";
        using (image)
        {
            ref readonly FileHeader header = ref image!.Header;
            if (image.Functions.Length != 1) return $"{image.Functions.Length} functions, not one";
            FunctionRecord function = image.Functions[0];
            var actual = new RemoteKeyInputs(header.MajorVersion, function.ContentHash, header.CodegenFingerprint, image.Architecture, image.Abi,
                image.Os, function.RequiredCpuFeatures);
            if (actual != expected) return $"the entry was compiled for {actual}, not for its key's {expected}";
            if (image.RequiredCpuFeatures != function.RequiredCpuFeatures) return "the header's CPU features differ from the function's";
            return null;
        }
    }

    [Fact]
    [Requirement("RMT-8")]
    [Requirement("RMT-9")]
    [Requirement("RMT-10")]
    public void Signed_entries_for_their_keys_are_hits_and_planted_entries_are_refused_as_misses()
    {
        var team = SigningKey.Hmac("team", TeamSecret);
        var stranger = SigningKey.Hmac("stranger", [.. Enumerable.Range(0, 32).Select(i => (byte)i)]);

        RemoteKeyInputs good = Inputs(1), avx = Inputs(2, CpuFeatures.Avx2), unsigned = Inputs(3), foreign = Inputs(4), tampered = Inputs(5),
            swapped = Inputs(6), garbage = Inputs(7), absent = Inputs(8);
        using RedisServer server = RedisServer.Start();
        using var store = new RedisRemoteStore(server.Address, RemoteData.Patient);
        Assert.All(store.StoreMany([
            new RemoteEntry(RemoteKey.For(good), Entry(good, 11, team)),
            new RemoteEntry(RemoteKey.For(avx), Entry(avx, 22, team)),
        ]), r => Assert.Equal(StoreOutcome.Stored, r.Outcome));

        // Someone with write access to the server, without the team key, plants entries.
        byte[] tamperedBytes = Entry(tampered, 55, team);
        tamperedBytes[^200] ^= 1;
        using (RespClient attacker = server.Client())
        {
            attacker.CallText("SET", RemoteKey.For(unsigned).Text, Entry(unsigned, 33, null));
            attacker.CallText("SET", RemoteKey.For(foreign).Text, Entry(foreign, 44, stranger));
            attacker.CallText("SET", RemoteKey.For(tampered).Text, tamperedBytes);
            attacker.CallText("SET", RemoteKey.For(swapped).Text, Entry(good, 66, team)); // valid and signed, but another key's
            attacker.CallText("SET", RemoteKey.For(garbage).Text, "not an AotCache file");
        }

        RemoteKeyInputs[] wanted = [good, avx, unsigned, foreign, tampered, swapped, garbage, absent];
        var byKey = wanted.ToDictionary(i => RemoteKey.For(i).Text);
        IReadOnlyList<FetchResult> results = store.FetchMany([.. wanted.Select(RemoteKey.For)], (key, entry) => Validate(byKey[key], entry));

        FetchOutcome[] expected = [FetchOutcome.Hit, FetchOutcome.Hit, FetchOutcome.Refused, FetchOutcome.Refused, FetchOutcome.Refused,
            FetchOutcome.Refused, FetchOutcome.Refused, FetchOutcome.Miss];
        Assert.True(expected.SequenceEqual(results.Select(r => r.Outcome)), string.Join("\n", results));
        Assert.Contains("SignatureMissing", results[2].Detail, StringComparison.Ordinal);
        Assert.Contains("SignatureInvalid", results[3].Detail, StringComparison.Ordinal);
        Assert.Contains("not for its key's", results[5].Detail, StringComparison.Ordinal);
        Assert.All(results.Where(r => !r.IsHit), r => Assert.True(r.Entry.IsEmpty));
        Assert.Equal(5, store.Statistics.RefusedFor(RefusalReason.Invalid));

        // A hit is a loadable module whose function returns what was compiled.
        using CacheImage image = CacheImage.Read(results[1].Entry, TeamPolicy);
        Assert.Equal(CpuFeatures.Avx2, image.Functions[0].RequiredCpuFeatures);
        Assert.Equal([0xB8, 22, 0, 0, 0, 0xC3], image.FunctionCode(image.Functions[0]).ToArray());
    }
}
