using System.Text.RegularExpressions;
using AotCache.ConformanceTests.Spec;

namespace AotCache.ConformanceTests.Remote;

/// <summary>REMOTE.md's requirement IDs are tested as FORMAT.md's are (<see cref="RequirementCoverageTests"/>): every MUST
/// has an RMT ID, every SHOULD an RMTS ID, every RMT ID is named by a test, and no test names one that does not exist.</summary>
public sealed partial class RemoteSpecTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [GeneratedRegex(@"\[(?<id>RMTS?-\d+)\]")]
    private static partial Regex RemoteId();

    private static string Spec() => File.ReadAllText(Path.Combine(GoldenFile.RepositoryRoot(), "spec", "REMOTE.md"));

    private static List<string> SpecIds() => [.. RemoteId().Matches(Spec()).Select(m => m.Groups["id"].Value).Distinct()];

    [Fact]
    public void Every_requirement_in_REMOTE_md_is_named_by_a_test()
    {
        List<string> ids = SpecIds();
        Assert.True(ids.Count(id => id.StartsWith("RMT-", StringComparison.Ordinal)) >= 22, $"only {ids.Count} IDs found");
        Dictionary<string, SortedSet<string>> named = RequirementCoverageTests.NamingTests();
        var missing = new List<string>();
        foreach (string id in ids.OrderBy(id => id.Length).ThenBy(id => id, StringComparer.Ordinal))
        {
            named.TryGetValue(id, out var tests);
            output.WriteLine($"{id,-7} {tests?.Count ?? 0,3} {string.Join(", ", tests ?? [])}");
            if (tests is null && id.StartsWith("RMT-", StringComparison.Ordinal)) missing.Add(id);
        }
        Assert.True(missing.Count == 0, $"requirements of REMOTE.md no test names: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Tests_name_no_RMT_ID_that_REMOTE_md_does_not_define()
    {
        var defined = SpecIds().ToHashSet(StringComparer.Ordinal);
        var stray = RequirementCoverageTests.NamingTests()
            .Where(kv => (kv.Key.StartsWith("RMT-", StringComparison.Ordinal) || kv.Key.StartsWith("RMTS-", StringComparison.Ordinal)) && !defined.Contains(kv.Key))
            .Select(kv => $"{kv.Key} ({kv.Value.First()})").ToList();
        Assert.True(stray.Count == 0, $"tests name IDs REMOTE.md does not define: {string.Join(", ", stray)}");
    }

    [Fact]
    public void Every_MUST_carries_an_RMT_ID_and_every_SHOULD_an_RMTS_ID()
    {
        foreach (string sentence in SpecDocumentTests.Sentences(Spec()))
        {
            if (sentence.Contains("RFC 2119", StringComparison.Ordinal)) continue;
            if (Regex.IsMatch(sentence, @"\bMUST\b")) Assert.True(Regex.IsMatch(sentence, @"\[RMT-\d+\]"), $"a MUST without an [RMT-n] ID: {sentence}");
            if (Regex.IsMatch(sentence, @"\bSHOULD\b")) Assert.True(Regex.IsMatch(sentence, @"\[RMTS-\d+\]"), $"a SHOULD without an [RMTS-n] ID: {sentence}");
        }
    }
}
