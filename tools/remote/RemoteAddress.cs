using System.Globalization;
using System.Net;

namespace AotCache.Remote;

/// <summary>One server of a remote store: a host name or IP address, and a TCP port.</summary>
public readonly record struct RemoteEndPoint(string Host, int Port)
{
    /// <summary><c>HOST:PORT</c>, with an IPv6 address in brackets.</summary>
    public override string ToString() =>
        (Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Where a remote store is: <c>redis://HOST:PORT[,HOST:PORT…]</c> [RMT-12]. One endpoint names a single server or
/// any node of a Redis Cluster; several name seed nodes of one cluster (or one server and its replicas). The client
/// discovers the cluster's slots from them. Credentials, a database number, paths and query strings are not part of
/// the address.
/// </summary>
public sealed class RemoteAddress
{
    /// <summary>The scheme every address starts with.</summary>
    public const string Scheme = "redis://";

    private RemoteAddress(IReadOnlyList<RemoteEndPoint> endPoints)
    {
        EndPoints = endPoints;
    }

    /// <summary>The servers named, in the order given; at least one.</summary>
    public IReadOnlyList<RemoteEndPoint> EndPoints { get; }

    /// <summary>Parses an address.</summary>
    /// <exception cref="ArgumentException">The text is not <c>redis://HOST:PORT[,HOST:PORT…]</c>; the message says what is wrong.</exception>
    public static RemoteAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out RemoteAddress? address, out string? error)
            ? address
            : throw new ArgumentException($"'{text}' is not a remote cache address: {error} (expected redis://HOST:PORT[,HOST:PORT...])", nameof(text));
    }

    /// <summary>Parses an address; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RemoteAddress? address,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(text)) return Fail("it is empty", out error);
        if (!text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return Fail(text.Contains("://", StringComparison.Ordinal) ? "the scheme must be redis://" : "it does not start with redis://", out error);
        string rest = text[Scheme.Length..];
        if (rest.Length == 0) return Fail("it names no server", out error);
        if (rest.Contains('@', StringComparison.Ordinal))
            return Fail("credentials do not belong in the address", out error);
        if (rest.IndexOfAny(['/', '?', '#']) >= 0)
            return Fail("a path, database number or query is not supported", out error);
        var endPoints = new List<RemoteEndPoint>();
        foreach (string part in rest.Split(','))
        {
            if (!TryParseEndPoint(part, out RemoteEndPoint endPoint, out error)) return false;
            if (endPoints.Contains(endPoint)) return Fail($"{endPoint} is named twice", out error);
            endPoints.Add(endPoint);
        }
        address = new RemoteAddress(endPoints);
        error = null;
        return true;
    }

    private static bool TryParseEndPoint(string part, out RemoteEndPoint endPoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        endPoint = default;
        if (part.Length == 0) return Fail("an empty server between commas", out error);
        string host;
        string port;
        if (part.StartsWith('['))
        {
            int close = part.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) return Fail($"'{part}' opens '[' without closing it", out error);
            host = part[1..close];
            if (!IPAddress.TryParse(host, out IPAddress? ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return Fail($"'{host}' in brackets is not an IPv6 address", out error);
            if (close + 1 >= part.Length || part[close + 1] != ':') return Fail($"'{part}' has no port", out error);
            port = part[(close + 2)..];
        }
        else
        {
            int colon = part.LastIndexOf(':');
            if (colon < 0) return Fail($"'{part}' has no port", out error);
            host = part[..colon];
            port = part[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal)) return Fail($"'{part}': write an IPv6 address in brackets, [ADDRESS]:PORT", out error);
            if (host.Length == 0) return Fail($"'{part}' has no host", out error);
            if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
                return Fail($"'{host}' is not a host name or IPv4 address", out error);
        }
        if (port.Length == 0 || port.Length > 5 || !port.All(char.IsAsciiDigit)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
            return Fail($"port '{port}' is not a number from 1 to 65535", out error);
        endPoint = new RemoteEndPoint(host, number);
        error = null;
        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }

    /// <summary>The canonical text, <c>redis://HOST:PORT[,HOST:PORT…]</c>.</summary>
    public override string ToString() => Scheme + string.Join(",", EndPoints);
}
