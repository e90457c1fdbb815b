using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using AotCache.ConformanceTests.Vectors;

namespace AotCache.ConformanceTests.Spec;

/// <summary>
/// Every requirement ID in FORMAT.md is named by a test: by a test method's name (<c>REL_4_...</c>), by a
/// <see cref="RequirementAttribute"/> on it, by the name of one of its theory cases (<c>"REL-4 fields overlap"</c>),
/// or by the <c>@requirement</c> directive of a spec vector (each vector is a case of <see cref="VectorTests"/>).
/// A mention elsewhere (a comment, a message, a helper) does not count. Prints the table ID → tests; fails
/// listing every MUST (requirement) no test names. Recommendations ([REC-n], SHOULD level) are listed but not
/// required: breaking one leaves a file valid.
/// </summary>
public partial class RequirementCoverageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [GeneratedRegex(@"\[(?<id>[A-Z]+-\d+)\]")]
    private static partial Regex SpecId();

    /// <summary>An ID as a test names it: <c>REL_4</c> in identifiers, <c>REL-4</c> in case names.</summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?<prefix>[A-Z]+)[-_](?<number>\d+)(?![0-9])")]
    private static partial Regex NamedId();

    public const string RecommendationPrefix = "REC";

    public static bool IsRecommendation(string id) => id.StartsWith(RecommendationPrefix + "-", StringComparison.Ordinal);

    /// <summary>The IDs of FORMAT.md, in document order of first appearance.</summary>
    public static List<string> SpecIds() =>
        [.. SpecId().Matches(File.ReadAllText(Path.Combine(GoldenFile.RepositoryRoot(), "spec", "FORMAT.md")))
            .Select(m => m.Groups["id"].Value).Distinct()];

    private static IEnumerable<string> IdsIn(string text) =>
        NamedId().Matches(text).Select(m => $"{m.Groups["prefix"].Value}-{m.Groups["number"].Value}");

    /// <summary>ID → the tests that name it: <c>Class.Method</c>, <c>Class.Method("case")</c> or <c>vector NAME</c>.</summary>
    public static Dictionary<string, SortedSet<string>> NamingTests()
    {
        var named = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Add(string id, string test)
        {
            if (!named.TryGetValue(id, out var tests)) named[id] = tests = new SortedSet<string>(StringComparer.Ordinal);
            tests.Add(test);
        }
        foreach (Type type in typeof(RequirementCoverageTests).Assembly.GetTypes())
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FactAttribute>(inherit: true) is null) continue;
                string test = $"{type.Name}.{method.Name}";
                foreach (string id in IdsIn(method.Name)) Add(id, test);
                foreach (RequirementAttribute r in method.GetCustomAttributes<RequirementAttribute>()) Add(r.Id, test);
                foreach (string caseName in CaseNames(type, method))
                    foreach (string id in IdsIn(caseName)) Add(id, $"{test}(\"{caseName}\")");
            }
        foreach (string name in VectorFile.All())
        {
            VectorFile vector = VectorFile.Load(name);
            foreach (string id in vector.Requirements.Concat(vector.Findings ?? [])) Add(id, $"vector {name}");
        }
        return named;
    }

    /// <summary>The string arguments of a theory's cases: inline data, and member data of the declaring type.</summary>
    private static IEnumerable<string> CaseNames(Type type, MethodInfo method)
    {
        foreach (InlineDataAttribute inline in method.GetCustomAttributes<InlineDataAttribute>())
            foreach (object?[] row in inline.GetData(method))
                foreach (string s in row.OfType<string>()) yield return s;
        foreach (MemberDataAttribute member in method.GetCustomAttributes<MemberDataAttribute>())
        {
            Type source = member.MemberType ?? type;
            const BindingFlags Static = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.FlattenHierarchy;
            object? data = source.GetProperty(member.MemberName, Static)?.GetValue(null)
                ?? source.GetField(member.MemberName, Static)?.GetValue(null)
                ?? source.GetMethod(member.MemberName, Static, Type.EmptyTypes)?.Invoke(null, null);
            if (data is not IEnumerable rows) continue;
            foreach (object? row in rows)
                if (row is object?[] args)
                    foreach (string s in args.OfType<string>()) yield return s;
        }
    }

    [Fact]
    public void Every_requirement_in_FORMAT_md_is_named_by_a_test()
    {
        List<string> ids = SpecIds();
        Assert.True(ids.Count(id => !IsRecommendation(id)) > 50, $"only {ids.Count} requirement IDs found");
        Dictionary<string, SortedSet<string>> named = NamingTests();
        var missing = new List<string>();
        foreach (string id in ids.OrderBy(IsRecommendation).ThenBy(id => id[..id.IndexOf('-', StringComparison.Ordinal)], StringComparer.Ordinal)
                     .ThenBy(id => int.Parse(id[(id.IndexOf('-', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture)))
        {
            named.TryGetValue(id, out var tests);
            int count = tests?.Count ?? 0;
            string kind = IsRecommendation(id) ? "SHOULD" : "MUST";
            output.WriteLine($"{id,-7} {kind,-6} {count,3} {(count == 0 ? (IsRecommendation(id) ? "no test (recommendation: reported, not required)" : "NOT TESTED") : string.Join(", ", tests!.Take(6)) + (count > 6 ? ", ..." : ""))}");
            if (count == 0 && !IsRecommendation(id)) missing.Add(id);
        }
        Assert.True(missing.Count == 0, $"requirements no test names: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Tests_name_no_ID_that_FORMAT_md_does_not_define()
    {
        var defined = SpecIds().ToHashSet(StringComparer.Ordinal);
        // Prefixes of FORMAT.md's IDs: an unknown number under a known prefix is a typo or a removed requirement.
        var prefixes = defined.Select(id => id[..id.IndexOf('-', StringComparison.Ordinal)]).ToHashSet(StringComparer.Ordinal);
        var stray = NamingTests().Where(kv => prefixes.Contains(kv.Key[..kv.Key.IndexOf('-', StringComparison.Ordinal)]) && !defined.Contains(kv.Key))
            .Select(kv => $"{kv.Key} ({kv.Value.First()})").ToList();
        Assert.True(stray.Count == 0, $"tests name IDs FORMAT.md does not define: {string.Join(", ", stray)}");
    }

    /// <summary>Counting is by name only: an ID in a comment or a message does not make a test. This file's own
    /// comments mention [REL-4] and HDR_1, and neither counts for this class.</summary>
    [Fact]
    public void An_ID_in_a_comment_or_a_message_does_not_count()
    {
        Dictionary<string, SortedSet<string>> named = NamingTests();
        Assert.DoesNotContain(named.Values.SelectMany(t => t), t => t.StartsWith(nameof(RequirementCoverageTests) + ".", StringComparison.Ordinal));
        Assert.Equal(["REL-4", "HDR-1", "REL-44"], IdsIn("REL_4_and_case HDR-1 then REL_44 (not REL-4)x").Take(3));
        Assert.DoesNotContain("REL-4", IdsIn("REL_44 REL-41"));
    }

    [Fact]
    public void Every_SHOULD_in_FORMAT_md_carries_a_recommendation_ID()
    {
        string text = File.ReadAllText(Path.Combine(GoldenFile.RepositoryRoot(), "spec", "FORMAT.md"));
        foreach (string sentence in SpecDocumentTests.Sentences(text))
        {
            if (!sentence.Contains("SHOULD", StringComparison.Ordinal) || sentence.Contains("RFC 2119", StringComparison.Ordinal)) continue;
            Assert.True(Regex.IsMatch(sentence, @"\[REC-\d+\]"), $"a SHOULD without a [REC-n] ID: {sentence}");
        }
        Assert.Contains(SpecIds(), IsRecommendation);
    }
}
