using System.Net.Sockets;
using StackExchange.Redis;

namespace AotCache.Remote;

/// <summary>Turns what the client library reports into a <see cref="RemoteFault"/> with a short reason for people.</summary>
internal static class RedisFaults
{
    /// <summary>A failed or timed-out connect; <paramref name="connectLog"/> is what the client library logged meanwhile.</summary>
    public static RemoteFault Connecting(Exception error, RemoteAddress address, TimeSpan timeout, string connectLog)
    {
        string servers = string.Join(", ", address.EndPoints);
        string? cause = Innermost<SocketException>(error)?.Message ?? SocketErrors(connectLog);
        if (cause is not null) return new RemoteFault(RemoteFaultKind.Unreachable, $"cannot connect to {servers}: {cause}");
        return error is TimeoutException
            ? new RemoteFault(RemoteFaultKind.Unreachable, $"no connection to {servers} within {Milliseconds(timeout)}")
            : new RemoteFault(RemoteFaultKind.Unreachable, $"cannot connect to {servers}: {FirstSentence(error.Message)}");
    }

    /// <summary>The connect log names socket errors on lines of their own, "HH:MM:SS.ffff: &gt; Connection refused".</summary>
    private static string? SocketErrors(string connectLog)
    {
        var errors = connectLog.Split('\n')
            .Select(line => line.Trim())
            .Select(line => line.IndexOf(": > ", StringComparison.Ordinal) is var at and >= 0 ? line[(at + 4)..].Trim() : "")
            .Where(error => error.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Take(3)
            .ToList();
        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    /// <summary>A command that failed (<paramref name="error"/>) or was not answered in time (null).</summary>
    public static RemoteFault During(Exception? error, TimeSpan timeout) => error switch
    {
        null or RedisTimeoutException or TimeoutException =>
            new RemoteFault(RemoteFaultKind.Timeout, $"the server did not answer within {Milliseconds(timeout)}"),
        RedisServerException { Kind: RedisErrorKind.OutOfMemory } e =>
            new RemoteFault(RemoteFaultKind.Full, $"the server is full and does not evict ({FirstSentence(e.Message)})"),
        RedisServerException { Kind: RedisErrorKind.ReadOnly or RedisErrorKind.NoPermission or RedisErrorKind.Misconfigured } e =>
            new RemoteFault(RemoteFaultKind.WritesRefused, $"the server refuses writes ({FirstSentence(e.Message)})"),
        RedisServerException e =>
            new RemoteFault(RemoteFaultKind.ServerError, $"the server answered an error ({FirstSentence(e.Message)})"),
        RedisConnectionException { FailureType: ConnectionFailureType.UnableToConnect or ConnectionFailureType.UnableToResolvePhysicalConnection } e =>
            new RemoteFault(RemoteFaultKind.Unreachable, $"no connection to the server ({Describe(e)})"),
        RedisConnectionException e =>
            new RemoteFault(RemoteFaultKind.ConnectionLost, $"the connection was lost ({Describe(e)})"),
        ObjectDisposedException =>
            new RemoteFault(RemoteFaultKind.ConnectionLost, "the connection was closed"),
        _ => new RemoteFault(RemoteFaultKind.ServerError, $"unexpected {error.GetType().Name} ({FirstSentence(error.Message)})"),
    };

    private static string Describe(RedisConnectionException e)
    {
        string? socket = Innermost<SocketException>(e)?.Message;
        return $"{e.FailureType}{(socket is null ? "" : ": " + socket)}";
    }

    private static T? Innermost<T>(Exception error) where T : Exception
    {
        T? found = null;
        for (Exception? e = error; e is not null; e = e.InnerException)
            if (e is T t) found = t;
        if (error is AggregateException aggregate)
            foreach (Exception inner in aggregate.InnerExceptions)
                found = Innermost<T>(inner) ?? found;
        return found;
    }

    /// <summary>The client library's messages carry long diagnostics after the first sentence; a warning needs the first.</summary>
    private static string FirstSentence(string message)
    {
        string line = message.Split('\n')[0].Trim();
        int end = line.IndexOf(". ", StringComparison.Ordinal);
        if (end > 0) line = line[..end];
        return line.Length <= 200 ? line : line[..200] + "...";
    }

    private static string Milliseconds(TimeSpan time) => $"{time.TotalMilliseconds:0} ms";
}
