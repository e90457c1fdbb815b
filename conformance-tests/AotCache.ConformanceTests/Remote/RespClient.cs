using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AotCache.ConformanceTests.Remote;

/// <summary>An error reply of a Redis server.</summary>
public sealed record RespError(string Message);

/// <summary>
/// A minimal RESP2 client for the tests' own administration of servers (INFO, CONFIG SET, DEBUG SLEEP, CLUSTER INFO,
/// planting values), independent of the client library under test. Replies: a simple string or bulk string as
/// <see cref="string"/> (or <see cref="byte"/>[] through <see cref="CallBytes"/>), an integer as <see cref="long"/>, an
/// array as <c>object?[]</c>, nil as null, an error as <see cref="RespError"/>.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly BufferedStream _stream;

    public RespClient(int port, TimeSpan? replyTimeout = null)
    {
        _tcp = new TcpClient(AddressFamily.InterNetwork);
        _tcp.Connect(IPAddress.Loopback, port);
        _tcp.ReceiveTimeout = (int)(replyTimeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        _stream = new BufferedStream(_tcp.GetStream());
    }

    /// <summary>Sends a command (each argument a string or bytes) and reads its reply.</summary>
    public object? Call(params object[] args)
    {
        Send(args);
        return Read(asBytes: false);
    }

    /// <summary>Sends a command and reads a bulk reply as bytes.</summary>
    public byte[]? CallBytes(params object[] args)
    {
        Send(args);
        return (byte[]?)Read(asBytes: true);
    }

    /// <summary>Sends a command whose reply must be a simple string or bulk string; fails on anything else.</summary>
    public string CallText(params object[] args) => Call(args) switch
    {
        string s => s,
        var other => throw new Xunit.Sdk.XunitException($"{string.Join(' ', args)} answered {Describe(other)}"),
    };

    /// <summary>Sends a command whose reply must be an integer.</summary>
    public long CallInteger(params object[] args) => Call(args) switch
    {
        long n => n,
        var other => throw new Xunit.Sdk.XunitException($"{string.Join(' ', args)} answered {Describe(other)}"),
    };

    /// <summary>Sends a command without reading its reply (for <c>DEBUG SLEEP</c>, which answers only when it ends).</summary>
    public void Send(params object[] args)
    {
        var message = new MemoryStream();
        void Write(string s) => message.Write(Encoding.UTF8.GetBytes(s));
        Write($"*{args.Length}\r\n");
        foreach (object arg in args)
        {
            byte[] bytes = arg as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(arg, CultureInfo.InvariantCulture)!);
            Write($"${bytes.Length}\r\n");
            message.Write(bytes);
            Write("\r\n");
        }
        _stream.Write(message.ToArray());
        _stream.Flush();
    }

    /// <summary>One field of <c>INFO</c>, e.g. <c>total_connections_received</c>.</summary>
    public string InfoField(string section, string field)
    {
        string info = CallText("INFO", section);
        foreach (string line in info.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line[(field.Length + 1)..];
        throw new Xunit.Sdk.XunitException($"INFO {section} has no field {field}:\n{info}");
    }

    private object? Read(bool asBytes)
    {
        string line = ReadLine();
        string rest = line[1..];
        switch (line[0])
        {
            case '+': return rest;
            case '-': return new RespError(rest);
            case ':': return long.Parse(rest, CultureInfo.InvariantCulture);
            case '$':
                int length = int.Parse(rest, CultureInfo.InvariantCulture);
                if (length < 0) return null;
                byte[] bytes = new byte[length + 2];
                _stream.ReadExactly(bytes);
                return asBytes ? bytes[..length] : Encoding.UTF8.GetString(bytes, 0, length);
            case '*':
                int count = int.Parse(rest, CultureInfo.InvariantCulture);
                if (count < 0) return null;
                var items = new object?[count];
                for (int i = 0; i < count; i++) items[i] = Read(asBytes);
                return items;
            default:
                throw new Xunit.Sdk.XunitException($"not a RESP2 reply: {line}");
        }
    }

    private string ReadLine()
    {
        var line = new StringBuilder();
        while (true)
        {
            int b = _stream.ReadByte();
            if (b < 0) throw new EndOfStreamException("the server closed the connection");
            if (b == '\n' && line.Length > 0 && line[^1] == '\r') return line.ToString(0, line.Length - 1);
            line.Append((char)b);
        }
    }

    public static string Describe(object? reply) => reply switch
    {
        null => "nil",
        RespError e => $"error '{e.Message}'",
        object?[] a => $"[{string.Join(", ", a.Select(Describe))}]",
        _ => $"'{reply}'",
    };

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}
