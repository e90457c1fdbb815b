using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace AotCache.ConformanceTests;

/// <summary>
/// Verify-style golden files: <c>Golden/{name}.verified.txt</c> in the source tree holds the approved text.
/// A mismatch or a missing file fails and writes <c>{name}.received.txt</c> beside it;
/// <c>AOTCACHE_ACCEPT=1</c> overwrites the verified file instead.
/// </summary>
public static class GoldenFile
{
    private const int ContextLines = 2;

    /// <summary>The source directory of the golden files (not the build output, so accepted files land in git).</summary>
    internal static string SourceDirectory { get; } = Path.Combine(FindRepoRoot(), "conformance-tests", "AotCache.ConformanceTests", "Golden");

    /// <summary>The repository root (the directory holding Format.sln).</summary>
    public static string RepositoryRoot() => FindRepoRoot();

    public static void Verify(string name, string actual) =>
        Verify(name, actual, accept: Environment.GetEnvironmentVariable("AOTCACHE_ACCEPT") == "1");

    internal static void Verify(string name, string actual, bool accept)
    {
        string verifiedPath = Path.Combine(SourceDirectory, name + ".verified.txt");
        string receivedPath = Path.Combine(SourceDirectory, name + ".received.txt");
        actual = actual.ReplaceLineEndings("\n");
        Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);
        if (accept)
        {
            File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }
        string? verified = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath).ReplaceLineEndings("\n") : null;
        if (verified == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        string hint = $"Received text written to {receivedPath}; rerun with AOTCACHE_ACCEPT=1 to accept it.";
        Assert.Fail(verified is null
            ? $"Golden file {verifiedPath} does not exist.\n{hint}"
            : $"Golden file {name}.verified.txt differs (- verified, + received):\n{Diff(verified, actual)}{hint}");
    }

    /// <summary>Changed lines with <see cref="ContextLines"/> unchanged lines around them; "..." marks skipped lines.</summary>
    private static string Diff(string verified, string actual)
    {
        var lines = InlineDiffBuilder.Diff(verified, actual, ignoreWhiteSpace: false).Lines;
        var changed = Enumerable.Range(0, lines.Count).Where(i => lines[i].Type != ChangeType.Unchanged).ToList();
        if (changed.Count == 0)
            return "(the texts differ only in a trailing newline)\n";
        var text = new StringBuilder();
        int printedUpTo = -1;
        foreach (int i in Enumerable.Range(0, lines.Count).Where(i => changed.Any(c => Math.Abs(c - i) <= ContextLines)))
        {
            if (i > printedUpTo + 1)
                text.Append("...\n");
            text.Append(lines[i].Type switch { ChangeType.Inserted => "+ ", ChangeType.Deleted => "- ", _ => "  " }).Append(lines[i].Text).Append('\n');
            printedUpTo = i;
        }
        if (printedUpTo < lines.Count - 1)
            text.Append("...\n");
        return text.ToString();
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Format.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"No Format.sln above {AppContext.BaseDirectory}: golden files live in the source tree.");
    }
}
