using System.Diagnostics;
using System.Text;

namespace AotCache.Bench.Remote;

/// <summary>
/// A redis-server for the bench, started as the Remote tests start theirs: Debian's binary on a free loopback port, in a
/// temporary directory, without persistence, and used once it printed "Ready to accept connections". Killed and its
/// directory deleted on dispose.
/// </summary>
public sealed class BenchRedis : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _directory;

    private BenchRedis(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"redis://127.0.0.1:{Port}";

    /// <summary>A started server, or null with the reason it could not be (not installed, did not start).</summary>
    public static BenchRedis? TryStart(out string? reason)
    {
        if (!File.Exists(RedisProcess.ServerPath))
        {
            reason = $"{RedisProcess.ServerPath} is not installed (apt-get install redis-server; .ci/run installs it)";
            return null;
        }
        string directory = Directory.CreateTempSubdirectory("aotcache-bench-redis-").FullName;
        int port = RedisProcess.FreePort();
        var log = new StringBuilder();
        Process? process = RedisProcess.TryLaunch(port, directory, ["--maxmemory-policy", "allkeys-lru"], ReadyTimeout, log, out string failure);
        if (process is not null)
        {
            reason = null;
            return new BenchRedis(process, directory, port);
        }
        Directory.Delete(directory, recursive: true);
        reason = $"redis-server did not start: {failure}";
        return null;
    }

    public void Dispose()
    {
        RedisProcess.Stop(_process);
        _process.Dispose();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
