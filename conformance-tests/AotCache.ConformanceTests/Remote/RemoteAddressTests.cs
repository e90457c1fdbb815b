using AotCache.ConformanceTests.Spec;
using AotCache.Remote;

namespace AotCache.ConformanceTests.Remote;

/// <summary>The address syntax <c>redis://HOST:PORT[,HOST:PORT…]</c> (REMOTE.md §5).</summary>
public sealed class RemoteAddressTests
{
    [Theory]
    [Requirement("RMT-12")]
    [InlineData("redis://127.0.0.1:6379", "redis://127.0.0.1:6379")]
    [InlineData("redis://cache.example.com:7000", "redis://cache.example.com:7000")]
    [InlineData("REDIS://localhost:1", "redis://localhost:1")]
    [InlineData("redis://[::1]:6380", "redis://[::1]:6380")]
    [InlineData("redis://10.0.0.1:7000,10.0.0.2:7001,cache-3:7002", "redis://10.0.0.1:7000,10.0.0.2:7001,cache-3:7002")]
    public void Well_formed_addresses_parse_to_their_endpoints(string text, string canonical)
    {
        RemoteAddress address = RemoteAddress.Parse(text);
        Assert.Equal(canonical, address.ToString());
        Assert.Equal(canonical.Split(',').Length, address.EndPoints.Count);
        Assert.All(address.EndPoints, e => Assert.InRange(e.Port, 1, 65535));
    }

    [Fact]
    public void Endpoints_keep_their_host_and_port()
    {
        RemoteAddress address = RemoteAddress.Parse("redis://a:1,[fe80::2]:65535");
        Assert.Equal([new RemoteEndPoint("a", 1), new RemoteEndPoint("fe80::2", 65535)], address.EndPoints);
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("127.0.0.1:6379", "does not start with redis://")]
    [InlineData("rediss://h:1", "the scheme must be redis://")]
    [InlineData("http://h:1", "the scheme must be redis://")]
    [InlineData("redis://", "names no server")]
    [InlineData("redis://h", "'h' has no port")]
    [InlineData("redis://h:", "port '' is not a number")]
    [InlineData("redis://h:0", "port '0' is not a number from 1 to 65535")]
    [InlineData("redis://h:65536", "port '65536' is not a number from 1 to 65535")]
    [InlineData("redis://h:12x", "port '12x' is not a number")]
    [InlineData("redis://h:+12", "port '+12' is not a number")]
    [InlineData("redis://:6379", "has no host")]
    [InlineData("redis://user:secret@h:1", "credentials do not belong in the address")]
    [InlineData("redis://h:1/0", "a path, database number or query is not supported")]
    [InlineData("redis://h:1?ssl=true", "a path, database number or query is not supported")]
    [InlineData("redis://h:1,", "an empty server between commas")]
    [InlineData("redis://h:1,,g:2", "an empty server between commas")]
    [InlineData("redis://h:1,h:1", "h:1 is named twice")]
    [InlineData("redis://::1:6379", "write an IPv6 address in brackets")]
    [InlineData("redis://[::1:6379", "opens '[' without closing it")]
    [InlineData("redis://[127.0.0.1]:6379", "is not an IPv6 address")]
    [InlineData("redis://[::1]6379", "has no port")]
    [InlineData("redis://bad host:1", "'bad host' is not a host name or IPv4 address")]
    [InlineData("redis://h*st:1", "'h*st' is not a host name or IPv4 address")]
    public void Malformed_addresses_are_refused_with_what_is_wrong(string text, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => RemoteAddress.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains("redis://HOST:PORT", e.Message, StringComparison.Ordinal);
        Assert.False(RemoteAddress.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        // The store's constructor refuses it the same way, before any connection.
        Assert.Contains(reason, Assert.Throws<ArgumentException>(() => new RedisRemoteStore(text)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_out_of_range_are_refused_with_their_name()
    {
        Assert.Contains(nameof(RedisRemoteStoreOptions.MaxEntryBytes), Assert.Throws<ArgumentOutOfRangeException>(() =>
            new RedisRemoteStore("redis://h:1", new RedisRemoteStoreOptions { MaxEntryBytes = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RedisRemoteStoreOptions.CommandTimeout), Assert.Throws<ArgumentOutOfRangeException>(() =>
            new RedisRemoteStore("redis://h:1", new RedisRemoteStoreOptions { CommandTimeout = TimeSpan.Zero })).Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RedisRemoteStoreOptions.MaxBatchSize), Assert.Throws<ArgumentOutOfRangeException>(() =>
            new RedisRemoteStore("redis://h:1", new RedisRemoteStoreOptions { MaxBatchSize = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RedisRemoteStoreOptions.TimeToLive), Assert.Throws<ArgumentOutOfRangeException>(() =>
            new RedisRemoteStore("redis://h:1", new RedisRemoteStoreOptions { TimeToLive = TimeSpan.Zero })).Message, StringComparison.Ordinal);
    }
}
