using System.Text.RegularExpressions;

namespace AotCache.ConformanceTests.Spec;

/// <summary>Every requirement ID in FORMAT.md is named by at least one test (as <c>HDR-1</c> in a case name or
/// <c>HDR_1</c> in a method name). Prints the coverage table; fails listing the IDs no test names.</summary>
public partial class RequirementCoverageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [GeneratedRegex(@"\[(?<id>[A-Z]+-\d+)\]")]
    private static partial Regex RequirementId();

    [Fact]
    public void Every_requirement_in_FORMAT_md_is_named_by_a_test()
    {
        string root = GoldenFile.RepositoryRoot();
        var ids = RequirementId().Matches(File.ReadAllText(Path.Combine(root, "spec", "FORMAT.md")))
            .Select(m => m.Groups["id"].Value).ToHashSet().Order(StringComparer.Ordinal).ToList();
        Assert.True(ids.Count > 50, $"only {ids.Count} requirement IDs found");
        var tests = Directory.EnumerateFiles(Path.Combine(root, "conformance-tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.EndsWith("RequirementCoverageTests.cs", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllText);
        var missing = new List<string>();
        foreach (string id in ids)
        {
            var pattern = new Regex($@"(?<![A-Z0-9]){id.Replace("-", "[-_]")}(?![0-9])");
            var files = tests.Where(t => pattern.IsMatch(t.Value)).Select(t => Path.GetFileName(t.Key)).ToList();
            output.WriteLine($"{id,-7} {(files.Count == 0 ? "NOT TESTED" : string.Join(", ", files))}");
            if (files.Count == 0) missing.Add(id);
        }
        Assert.True(missing.Count == 0, $"requirements no test names: {string.Join(", ", missing)}");
    }
}
