using System.Runtime.InteropServices;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Security;

/// <summary>
/// FIFOs, pipes, devices and directories where a cache file is expected: refused before a byte is read, with an
/// <see cref="IOException"/> that says what they are, never a hang, a stack trace or gigabytes read. And the
/// predictable names of <see cref="AtomicFile.Update"/>: a planted symbolic link is not followed, a planted FIFO does
/// not block it.
/// </summary>
/// <remarks>
/// Each call that would block forever if the fix regressed (opening a FIFO that has no writer) runs on a worker
/// thread that the test waits for with a generous bound: a regression fails the test instead of hanging the suite.
/// The bound is not what is tested: the calls return at once when they work.
/// </remarks>
public sealed class NonRegularFileTests : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("non-regular-");
    private readonly List<string> _fifos = [];

    public void Dispose()
    {
        // A call that did block on a FIFO (a regression) is released by opening its other end.
        foreach (string fifo in _fifos) ReleaseBlockedReader(fifo);
        _directory.Delete(recursive: true);
    }

    private string Fifo(string name)
    {
        string path = Path.Combine(_directory.FullName, name);
        Assert.Equal(0, MakeFifo(path, 0x180)); // 0600
        _fifos.Add(path);
        return path;
    }

    private static T Bounded<T>(Func<T> call)
    {
        var task = Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(task.Wait(HangGuard), "the call blocked: a FIFO or pipe was opened or read as a file");
        return task.Result;
    }

    private static Exception BoundedThrows(Action call) => Bounded(() =>
    {
        try
        {
            call();
        }
        catch (Exception e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException("expected an exception");
    });

    [Fact]
    public void A_FIFO_without_a_writer_is_refused_by_the_reader_and_the_loader_without_blocking()
    {
        string fifo = Fifo("cache.aotc");

        var read = BoundedThrows(() => CacheImage.OpenFile(fifo).Dispose());
        var load = BoundedThrows(() => LoadedModule.LoadFile(fifo).Dispose());

        foreach (Exception e in new[] { read, load })
        {
            var refused = Assert.IsType<NotRegularFileException>(e);
            Assert.Equal("a FIFO or pipe", refused.What);
            Assert.Contains("is not a regular file: a FIFO or pipe", e.Message);
        }
    }

    [Fact]
    public void Cachedump_on_a_FIFO_a_pipe_a_device_or_a_directory_exits_2_with_one_line_naming_what_it_is()
    {
        string fifo = Fifo("cache.aotc");
        Assert.Equal(0, Pipe(out int readEnd, out int writeEnd)); // what `cat f | cachedump /dev/stdin` reads
        try
        {
            string pipe = $"/proc/self/fd/{readEnd}";
            foreach ((string path, string what) in new[]
            {
                (fifo, "a FIFO or pipe"), (pipe, "a FIFO or pipe"), ("/dev/zero", "a character device"), (_directory.FullName, "a directory"),
            })
            {
                foreach (string[] args in new[] { new[] { path }, new[] { path, "--verify" } })
                {
                    (int exit, string output, string errors) = Bounded(() => Run(args));
                    Assert.Equal(CacheDumpCommand.ExitUnreadable, exit);
                    Assert.Equal("", output);
                    Assert.Equal($"error: cannot read {path}: '{path}' is not a regular file: {what}\n", errors);
                }
            }
        }
        finally
        {
            _ = Close(readEnd);
            _ = Close(writeEnd);
        }
    }

    /// <summary>The process itself, as a user runs it: <c>cat f | cachedump /dev/stdin</c>.</summary>
    [Fact]
    public async Task Cachedump_reading_a_pipe_as_its_own_process_exits_2_without_a_stack_trace()
    {
        string file = Path.Combine(_directory.FullName, "example.aotc");
        File.WriteAllBytes(file, GoldenModules.Example());
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("cat \"$1\" | dotnet \"$0\" /dev/stdin --verify");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cachedump.dll"));
        start.ArgumentList.Add(file);
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(CacheDumpCommand.ExitUnreadable, process.ExitCode);
        Assert.Equal("", await output);
        Assert.Equal("error: cannot read /dev/stdin: '/dev/stdin' is not a regular file: a FIFO or pipe\n", errors);
    }

    [Fact]
    public void AtomicFile_Update_does_not_follow_a_planted_symbolic_link_as_its_lock_file()
    {
        string path = Path.Combine(_directory.FullName, "state.bin");
        string elsewhere = Path.Combine(_directory.FullName, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        string target = Path.Combine(elsewhere, "created-through-the-link");
        File.CreateSymbolicLink(path + ".lock", target);

        var e = Assert.ThrowsAny<IOException>(() => AtomicFile.Update(path, _ => [1, 2, 3]));

        Assert.Contains("symbolic link", e.Message);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(path)); // nothing written either
    }

    [Fact]
    public void AtomicFile_Update_refuses_a_planted_FIFO_instead_of_blocking_on_it()
    {
        string path = Fifo("state.bin");

        Exception e = BoundedThrows(() => AtomicFile.Update(path, current => current ?? [1]));

        Assert.Equal("a FIFO or pipe", Assert.IsType<NotRegularFileException>(e).What);
        Assert.True(ShellTest("-p", path)); // not replaced
    }

    [Fact]
    public void AtomicFile_Update_refuses_a_FIFO_as_its_lock_file()
    {
        string path = Path.Combine(_directory.FullName, "state.bin");
        Fifo("state.bin.lock");

        Exception e = BoundedThrows(() => AtomicFile.Update(path, _ => [1]));

        Assert.IsType<NotRegularFileException>(e);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AtomicFile_Update_still_reads_updates_and_creates_regular_files()
    {
        string path = Path.Combine(_directory.FullName, "state.bin");
        AtomicFile.Update(path, current => { Assert.Null(current); return [1]; });
        AtomicFile.Update(path, current => [.. current!, 2]);
        Assert.Equal([1, 2], File.ReadAllBytes(path));
        Assert.True(ShellTest("-f", path + ".lock"));
    }

    /// <summary>The shell's <c>test -p</c> (a FIFO) or <c>test -f</c> (a regular file): .NET has no file-type query.</summary>
    private static bool ShellTest(string flag, string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"test {flag} \"$0\"");
        start.ArgumentList.Add(path);
        using var process = System.Diagnostics.Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    private static void ReleaseBlockedReader(string fifo)
    {
        int fd = Open(fifo, 1 | 0x800); // O_WRONLY | O_NONBLOCK: fails (ENXIO) when nobody is blocked reading
        if (fd >= 0) _ = Close(fd);
    }

    private static (int Exit, string Output, string Errors) Run(string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var errors = new StringWriter { NewLine = "\n" };
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int MakeFifo(string path, int mode);

    [DllImport("libc", EntryPoint = "pipe", SetLastError = true)]
    private static extern int Pipe(int[] fds);

    private static int Pipe(out int readEnd, out int writeEnd)
    {
        int[] fds = new int[2];
        int result = Pipe(fds);
        (readEnd, writeEnd) = (fds[0], fds[1]);
        return result;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int Open(string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
