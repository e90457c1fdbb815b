using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace AotCache.Bench.Peer;

/// <summary>
/// Builds the gcc peer (one shared object per N and seed) and its native driver, and caches both outside the repository
/// (<c>$XDG_CACHE_HOME/aotcache-bench/</c>, else <c>~/.cache/aotcache-bench/</c>): gcc takes minutes for 100,000
/// functions. A file's name carries a hash of everything that shaped it (generator version, N, seed, flags, gcc's
/// version; for the driver, its source), so a change of any of them builds a new file; the stale ones are removed.
/// </summary>
public sealed class PeerToolchain
{
    public const string ObjectFlags = "-O1 -fPIC -shared -fvisibility=hidden";
    public const string DriverFlags = "-O2 -Wall -rdynamic";

    private readonly TextWriter _log;

    public string Gcc { get; }
    public string GccVersion { get; }
    public string CacheDirectory { get; }

    private PeerToolchain(string gcc, string version, string cacheDirectory, TextWriter log)
    {
        Gcc = gcc;
        GccVersion = version;
        CacheDirectory = cacheDirectory;
        _log = log;
    }

    /// <summary>The toolchain, or null (with the reason) when gcc cannot be run.</summary>
    public static PeerToolchain? TryCreate(TextWriter log, out string? reason)
    {
        const string gcc = "gcc";
        ProcessResult version;
        try
        {
            version = ProcessResult.Run(gcc, ["-dumpfullversion", "-dumpmachine"], TimeSpan.FromSeconds(30));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            reason = $"'{gcc}' could not be started ({e.Message})";
            return null;
        }
        if (version.ExitCode != 0)
        {
            reason = $"'{gcc} -dumpfullversion' exited with {version.ExitCode}: {version.StderrTail()}";
            return null;
        }
        reason = null;
        string directory = Path.Combine(CacheRoot(), "aotcache-bench");
        Directory.CreateDirectory(directory);
        return new PeerToolchain(gcc, version.Stdout.Trim().ReplaceLineEndings(" "), directory, log);
    }

    private static string CacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return xdg;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
    }

    /// <summary>The peer object for <paramref name="functions"/> and <paramref name="seed"/>, built unless cached.</summary>
    public string SharedObject(int functions, int seed)
    {
        string prefix = $"peer-n{functions}-s{seed}-";
        string key = Key($"{PeerSource.GeneratorVersion}|{functions}|{seed}|{ObjectFlags}|{GccVersion}");
        string path = Path.Combine(CacheDirectory, prefix + key + ".so");
        if (File.Exists(path)) return path;

        string source = TempOf(path) + ".c";
        using (var writer = new StreamWriter(source, append: false, new UTF8Encoding(false)))
            PeerSource.Write(writer, functions, seed);
        _log.WriteLine($"[peer] building the gcc peer of {functions} functions ({ObjectFlags}) into {CacheDirectory}: once per N, seed and generator version; about 5 min for 100,000 functions on 2 cores");
        var sw = Stopwatch.StartNew();
        Compile([.. ObjectFlags.Split(' '), "-o", TempOf(path), source], path, $"the peer of {functions} functions");
        _log.WriteLine($"[peer] built {Path.GetFileName(path)} ({new FileInfo(path).Length / 1024} KB) in {sw.Elapsed.TotalSeconds:F1} s");
        File.Delete(source); // ~17 MB at 100k; PeerSource.Generate(N, seed) recreates it
        RemoveStale(prefix, path);
        return path;
    }

    /// <summary>The native driver (see peer_driver.c), built unless cached.</summary>
    public string Driver()
    {
        string text;
        using (Stream stream = typeof(PeerToolchain).Assembly.GetManifestResourceStream("peer_driver.c")
            ?? throw new InvalidOperationException("peer_driver.c is not embedded in the bench assembly"))
        using (var reader = new StreamReader(stream))
            text = reader.ReadToEnd();
        string path = Path.Combine(CacheDirectory, "peer-driver-" + Key($"{text}|{DriverFlags}|{GccVersion}"));
        if (File.Exists(path)) return path;
        string source = TempOf(path) + ".c";
        File.WriteAllText(source, text);
        // -ldl: glibc before 2.34 keeps dlopen there (a no-op library on newer ones).
        Compile([.. DriverFlags.Split(' '), "-o", TempOf(path), source, "-ldl"], path, "the peer driver");
        File.Delete(source);
        RemoveStale("peer-driver-", path);
        return path;
    }

    /// <summary>Runs gcc into a temporary name and renames it into place, so that an interrupted or concurrent
    /// build never leaves a truncated file under the cached name; prints a line every 15 s while gcc runs.</summary>
    private void Compile(string[] arguments, string output, string what)
    {
        string temp = arguments[Array.IndexOf(arguments, "-o") + 1];
        var sw = Stopwatch.StartNew();
        ProcessResult result = ProcessResult.Run(Gcc, arguments, TimeSpan.FromHours(1), TimeSpan.FromSeconds(15),
            () => _log.WriteLine($"[peer] gcc is still compiling {what}: {sw.Elapsed.TotalSeconds:F0} s"));
        if (result.ExitCode != 0)
        {
            File.Delete(temp);
            throw new InvalidOperationException(
                $"gcc failed to build {what} (exit {result.ExitCode}; {Gcc} {string.Join(' ', arguments)}):\n{result.StderrTail(30)}");
        }
        // Written back before use: page-cache pages still dirty from the linker would show as Private_Dirty in the
        // memory figures of the first run, as if dlopen had copied them.
        using (var file = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
            file.Flush(flushToDisk: true);
        File.Move(temp, output, overwrite: true);
    }

    private static string TempOf(string path) => $"{path}.tmp{Environment.ProcessId}";

    private void RemoveStale(string prefix, string keep)
    {
        foreach (string file in Directory.EnumerateFiles(CacheDirectory, prefix + "*"))
        {
            if (file == keep || file.Contains(".tmp", StringComparison.Ordinal)) continue;
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Another bench may be using it; it is removed next time.
            }
        }
    }

    private static string Key(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
