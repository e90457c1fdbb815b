using System.Text;
using AotCache.Format;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>Keys and opaque entry bytes for the Remote tests. The store never looks inside an entry, so these are
/// deterministic pseudo-random bytes; a test's own <c>seed</c> keeps its keys apart from other tests'.</summary>
public static class RemoteData
{
    public const ulong Fingerprint = 0x5eed_f00d_0000_0001;

    /// <summary>Options for tests that are not about timeouts: a loaded 2-core machine can stall a healthy local
    /// server for over a second, which the defaults (2 s to connect, 1 s a batch) would rightly call a fault.</summary>
    public static readonly RedisRemoteStoreOptions Patient = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(30),
        CommandTimeout = TimeSpan.FromSeconds(30),
    };

    public static RemoteKey Key(int seed, int i) =>
        RemoteKey.For(RemoteKeyInputs.Current(ContentHash.Of(Encoding.UTF8.GetBytes($"test {seed} function {i}")), Fingerprint,
            Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux, CpuFeatures.Sse41 | CpuFeatures.Popcnt));

    public static byte[] Bytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Entries 0..count-1 of <paramref name="seed"/>, of 100 to 2,000 bytes.</summary>
    public static RemoteEntry[] Entries(int seed, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new RemoteEntry(Key(seed, i), Bytes(seed * 100_000 + i, 100 + (i * 37 % 1900))))];

    /// <summary>A validation callback that accepts everything (the tests of validation use their own).</summary>
    public static string? AcceptAll(string key, ReadOnlyMemory<byte> entry) => null;
}
