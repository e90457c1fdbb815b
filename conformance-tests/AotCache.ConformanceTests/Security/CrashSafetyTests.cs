using System.Diagnostics;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Security;

/// <summary>Writers killed at random points, and several processes writing and reading one cache path at once.</summary>
public sealed class CrashSafetyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aotc-crash-").FullName;
    private static readonly string Child = Path.Combine(AppContext.BaseDirectory, "AotCache.CrashWriter.dll");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A hang guard for children that finish by themselves: far beyond what they need on a loaded machine, so
    /// that only a child that never finishes fails here.</summary>
    private const int HangGuardMilliseconds = 300_000;

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        info.ArgumentList.Add(Child);
        foreach (string a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    /// <summary>Read-loop children, each started and reading (its "ready" line seen) before this returns, so that the
    /// writers started next certainly overlap them, however long the machine takes to start a process.</summary>
    private static List<Process> StartReaders(string path, int count)
    {
        var readers = Enumerable.Range(0, count).Select(_ => Start("read-loop", path)).ToList();
        foreach (Process r in readers)
        {
            string? ready = r.StandardOutput.ReadLine();
            Assert.True(ready == "ready", $"a reader did not start: '{ready}' {(ready is null ? r.StandardError.ReadToEnd() : "")}");
        }
        return readers;
    }

    /// <summary>Starts a writer in <paramref name="mode"/> 12 times, each writing generations from i × 1000 on; waits
    /// for its "wrote" line (its first version is complete, however long the machine took to start it), lets it write
    /// for 0–300 ms more, kills it at that arbitrary point, and checks that the cache is intact and loadable and holds
    /// a version of this writer.</summary>
    private static void KillAtRandomPoints(string mode, string path, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < 12; i++)
        {
            using Process writer = Start(mode, path, (i * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
            string? first = writer.StandardOutput.ReadLine();
            if (first != $"wrote {i * 1000}")
            {
                writer.Kill(entireProcessTree: true); // its error output ends only when it does
                Assert.Fail($"the writer did not start writing: '{first}' {writer.StandardError.ReadToEnd()}");
            }
            Thread.Sleep(rng.Next(0, 300)); // a random kill point, not a wait for anything
            writer.Kill(entireProcessTree: true);
            writer.WaitForExit();
            using CacheImage image = CacheImage.OpenFile(path, ReadOptions.Full);
            long generation = CrashWriter.Program.GenerationOf(image);
            Assert.True(generation >= i * 1000, $"writer {i} wrote generation {i * 1000}, but the cache holds {generation}");
            using var module = LoadedModule.Load(image);
            Assert.Equal(40, module.FunctionNames.Count);
        }
    }

    /// <summary>Stops the read-loop children (closes their input: each ends after at least one read) and checks each
    /// printed a line matching <paramref name="pattern"/>.</summary>
    private static void AssertReaders(IEnumerable<Process> readers, string pattern)
    {
        foreach (Process r in readers) r.StandardInput.Close();
        foreach (Process r in readers)
        {
            string output = r.StandardOutput.ReadToEnd();
            Assert.True(r.WaitForExit(HangGuardMilliseconds), "a reader hung");
            Assert.True(r.ExitCode == 0, $"{output} {r.StandardError.ReadToEnd()}");
            Assert.Matches(pattern, output);
        }
    }

    [Fact]
    public void A_writer_killed_at_random_points_always_leaves_an_intact_loadable_cache()
    {
        string path = Path.Combine(_directory, "cache.aotc");
        AtomicFile.Write(path, CrashWriter.Program.Version(0, 0));
        KillAtRandomPoints("write-loop", path, seed: 20261124);
    }

    [Fact]
    public void A_writer_reusing_the_spare_killed_at_random_points_always_leaves_an_intact_loadable_cache()
    {
        string path = Path.Combine(_directory, "spare.aotc");
        AtomicFile.WriteReusingSpare(path, [CrashWriter.Program.Version(0, 0)]);
        KillAtRandomPoints("spare-loop", path, seed: 20261202);
        // Whatever a kill left in the spare, the next write through it is exact.
        byte[] last = CrashWriter.Program.Version(99, 99);
        Assert.True(AtomicFile.WriteReusingSpare(path, [last]).ReusedSpare);
        Assert.Equal(last, File.ReadAllBytes(path));
    }

    [Fact]
    public void Writers_reusing_the_spare_and_concurrent_readers_never_show_a_torn_file()
    {
        string path = Path.Combine(_directory, "spare-shared.aotc");
        AtomicFile.WriteReusingSpare(path, [CrashWriter.Program.Version(0, 0)]);
        List<Process> readers = StartReaders(path, 2);
        var writers = Enumerable.Range(0, 2).Select(w => Start("spare-loop", path, (w * 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture), "150")).ToList();
        long throughSpare = 0;
        foreach (Process p in writers)
        {
            string output = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(HangGuardMilliseconds), "a writer hung");
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
            throughSpare += long.Parse(System.Text.RegularExpressions.Regex.Match(output, @"spare (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        // How many writes find the spare free depends on how the two writers and the readers interleave, i.e. on the
        // machine's load: one write through it (with readers running) is what this test needs, not a share of them.
        Assert.True(throughSpare > 0, $"none of 300 writes went through the spare: the test did not exercise it");
        AssertReaders(readers, @"reads [1-9]\d* torn 0");
        using CacheImage image = CacheImage.OpenFile(path, ReadOptions.Full);
        Assert.Equal(149, CrashWriter.Program.GenerationOf(image) % 100_000); // the last version of whichever writer finished last
        foreach (Process p in writers.Concat(readers)) p.Dispose();
    }

    [Fact]
    public void Concurrent_writers_lose_no_update_and_concurrent_readers_never_see_a_torn_file()
    {
        string path = Path.Combine(_directory, "shared.aotc");
        const int writers = 3, updates = 25;
        List<Process> readers = StartReaders(path, 2);
        var updaters = Enumerable.Range(0, writers).Select(_ => Start("update", path, updates.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        foreach (Process p in updaters)
        {
            Assert.True(p.WaitForExit(HangGuardMilliseconds), "an updater hung");
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        }
        // Never torn. A reader that opens the file while an updater renames over it retries; on a loaded machine it may
        // run out of retries and count an IOException (busy), which the protocol allows (spec/SECURITY.md).
        AssertReaders(readers, @"reads [1-9]\d* torn 0 busy \d+");
        using CacheImage image = CacheImage.OpenFile(path, ReadOptions.Full);
        Assert.Equal(writers * updates, CrashWriter.Program.GenerationOf(image));
        foreach (Process p in updaters.Concat(readers)) p.Dispose();
    }
}
