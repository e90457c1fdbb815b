using System.ComponentModel;
using System.Diagnostics;

namespace AotCache.ConformanceTests.SecondWriter;

/// <summary>
/// Runs the second, independent writer (<c>conformance-tests/python</c>, standard-library Python 3 written
/// from FORMAT.md alone). python3 must be on PATH: a missing interpreter fails the test, never skips it.
/// </summary>
public static class PythonWriter
{
    public static string Directory { get; } = Path.Combine(GoldenFile.RepositoryRoot(), "conformance-tests", "python");

    /// <summary>Runs <c>python3 -B SCRIPT ARGS</c> in the writer's directory (-B: no bytecode files in the source tree)
    /// and returns its standard output; a non-zero exit fails with the script's standard error.</summary>
    public static string Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo("python3")
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-B");
        start.ArgumentList.Add(Path.Combine(Directory, script));
        foreach (string a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"python3 is not on PATH ({e.Message}): the second writer's tests need it and are never skipped");
            throw;
        }
        using (process)
        {
            // Read both streams concurrently so that neither pipe can fill and block the child.
            Task<string> error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"python3 {script} exited {process.ExitCode}:\n{error.Result}");
            return output;
        }
    }

    /// <summary>
    /// The programs of <c>aotcache/programs.py</c>, written to a fresh directory once per test class, each twice:
    /// <c>NAME.aotc</c> unprelinked (format 1.0) and <c>NAME.prelinked.aotc</c> prelinked (format 1.2, [REL-10]).
    /// </summary>
    public sealed class Programs : IDisposable
    {
        private readonly DirectoryInfo _directory = System.IO.Directory.CreateTempSubdirectory("python-writer-");

        public Programs() => Run("emit_programs.py", _directory.FullName);

        private static string FileName(string name, bool prelinked) => prelinked ? name + ".prelinked" : name;

        public string PathOf(string name, bool prelinked = false) => Path.Combine(_directory.FullName, FileName(name, prelinked) + ".aotc");

        public byte[] Bytes(string name, bool prelinked = false) => File.ReadAllBytes(PathOf(name, prelinked));

        /// <summary>The writer's field map: (offset, length, key) of every field of the file, in file order.</summary>
        public IReadOnlyList<(int Offset, int Length, string Key)> Fields(string name, bool prelinked = false) =>
            [.. File.ReadAllLines(Path.Combine(_directory.FullName, FileName(name, prelinked) + ".fields.tsv"))
                .Select(line => line.Split('\t'))
                .Select(p => (int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), p[2]))];

        /// <summary>The Python writer's canonical layout (FORMAT.md §16.2) of a program: each defined function's and data
        /// object's offset from the base of the module's region, by name.</summary>
        public IReadOnlyDictionary<string, long> Layout(string name) =>
            File.ReadAllLines(Path.Combine(_directory.FullName, name + ".layout.tsv"))
                .Select(line => line.Split('\t'))
                .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
