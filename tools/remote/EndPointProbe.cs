using System.Net.Sockets;

namespace AotCache.Remote;

/// <summary>A plain TCP connect to every endpoint of an address, in parallel, before the client library's handshake:
/// it tells "refused", "unknown host" and "no answer" apart at once, where the library may wait out its timeout.</summary>
internal static class EndPointProbe
{
    /// <summary>Null when at least one endpoint accepts a connection; otherwise what went wrong with each.</summary>
    public static async Task<string?> UnreachableAsync(RemoteAddress address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string?[] failures = await Task.WhenAll(address.EndPoints.Select(e => ProbeAsync(e, timeout, cancellationToken))).ConfigureAwait(false);
        return failures.Any(f => f is null) ? null : string.Join("; ", failures);
    }

    private static async Task<string?> ProbeAsync(RemoteEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        // A dual-mode socket reaches IPv4 and IPv6 addresses, and host names of either family.
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint.Host, endPoint.Port, deadline.Token).ConfigureAwait(false);
            return null;
        }
        catch (SocketException e)
        {
            return $"{endPoint}: {e.Message}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{endPoint}: no answer within {timeout.TotalMilliseconds:0} ms";
        }
    }
}
