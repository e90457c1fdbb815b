using System.Diagnostics;
using System.Globalization;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// A Redis Cluster of three masters and no replicas on loopback: three <see cref="RedisServer"/>s with
/// <c>cluster-enabled yes</c> (each with its own free bus port), joined by <c>redis-cli --cluster create</c>, and
/// returned once every node's <c>CLUSTER INFO</c> says <c>cluster_state:ok</c> (polled, with a deadline).
/// </summary>
public sealed class RedisCluster : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private RedisCluster(IReadOnlyList<RedisServer> nodes)
    {
        Nodes = nodes;
    }

    public IReadOnlyList<RedisServer> Nodes { get; }

    /// <summary>The address a store is given: every node as a seed.</summary>
    public string Address => "redis://" + string.Join(",", Nodes.Select(n => $"127.0.0.1:{n.Port}"));

    public static RedisCluster Start()
    {
        var nodes = new List<RedisServer>();
        try
        {
            for (int i = 0; i < 3; i++)
                nodes.Add(RedisServer.Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", RedisServer.FreePort().ToString(CultureInfo.InvariantCulture), "--cluster-node-timeout", "5000"));
            Create(nodes);
            WaitUntilOk(nodes);
            return new RedisCluster(nodes);
        }
        catch
        {
            foreach (RedisServer node in nodes) node.Dispose();
            throw;
        }
    }

    private static void Create(List<RedisServer> nodes)
    {
        var info = new ProcessStartInfo(RedisServer.CliPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--cluster");
        info.ArgumentList.Add("create");
        foreach (RedisServer node in nodes) info.ArgumentList.Add($"127.0.0.1:{node.Port}");
        foreach (string a in new[] { "--cluster-replicas", "0", "--cluster-yes" }) info.ArgumentList.Add(a);
        using Process cli = Process.Start(info)!;
        Task<string> output = cli.StandardOutput.ReadToEndAsync();
        Task<string> errors = cli.StandardError.ReadToEndAsync();
        if (!cli.WaitForExit(Deadline))
        {
            cli.Kill();
            throw new Xunit.Sdk.XunitException($"redis-cli --cluster create did not finish within {Deadline.TotalSeconds} s: {output.Result}{errors.Result}");
        }
        Assert.True(cli.ExitCode == 0, $"redis-cli --cluster create failed ({cli.ExitCode}): {output.Result}{errors.Result}");
    }

    private static void WaitUntilOk(List<RedisServer> nodes)
    {
        var clock = Stopwatch.StartNew();
        var clients = nodes.Select(n => n.Client()).ToList();
        try
        {
            string last = "";
            while (clock.Elapsed < Deadline)
            {
                var states = clients.Select(c => c.CallText("CLUSTER", "INFO")).ToList();
                if (states.All(s => s.Contains("cluster_state:ok", StringComparison.Ordinal))) return;
                last = string.Join("\n---\n", states);
                Thread.Sleep(50);
            }
            throw new Xunit.Sdk.XunitException($"the cluster was not ok within {Deadline.TotalSeconds} s:\n{last}");
        }
        finally
        {
            foreach (RespClient c in clients) c.Dispose();
        }
    }

    /// <summary>How many keys each node holds.</summary>
    public IReadOnlyList<long> KeysPerNode()
    {
        var counts = new List<long>();
        foreach (RedisServer node in Nodes)
        {
            using RespClient client = node.Client();
            counts.Add(client.CallInteger("DBSIZE"));
        }
        return counts;
    }

    public void Dispose()
    {
        foreach (RedisServer node in Nodes) node.Dispose();
    }
}
