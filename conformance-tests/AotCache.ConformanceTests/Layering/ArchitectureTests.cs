using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace AotCache.ConformanceTests.Layering;

/// <summary>
/// The invariants ARCHITECTURE.md states, checked on the sources: the project graph has exactly the arrows it
/// names, the loader's folders depend on each other in one direction only, and only the Memory/ folders use
/// <c>unsafe</c>. Each fails with the offending arrow or file.
/// </summary>
public partial class ArchitectureTests
{
    private static readonly string Root = GoldenFile.RepositoryRoot();

    /// <summary>Every library's references, exactly: Format ← Reader ← {Writer, Loader}; Codegen → Format and, for its
    /// compile-and-write convenience, Writer.</summary>
    private static readonly Dictionary<string, string[]> LibraryReferences = new()
    {
        ["AotCache.Format"] = [],
        ["AotCache.Reader"] = ["AotCache.Format"],
        ["AotCache.Writer"] = ["AotCache.Format", "AotCache.Reader"],
        ["AotCache.Loader"] = ["AotCache.Format", "AotCache.Reader"],
        ["AotCache.Codegen"] = ["AotCache.Format", "AotCache.Writer"],
    };

    private static Dictionary<string, string[]> ProjectGraph()
    {
        var graph = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string csproj in Directory.EnumerateFiles(Root, "*.csproj", SearchOption.AllDirectories))
        {
            if (csproj.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            graph[Path.GetFileNameWithoutExtension(csproj)] = [.. XDocument.Load(csproj).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
                .Order(StringComparer.Ordinal)];
        }
        return graph;
    }

    [Fact]
    public void The_libraries_reference_each_other_exactly_as_the_architecture_says()
    {
        Dictionary<string, string[]> graph = ProjectGraph();
        var wrong = new List<string>();
        foreach (var (library, expected) in LibraryReferences)
        {
            Assert.True(graph.ContainsKey(library), $"project {library} not found under {Root}");
            foreach (string reference in graph[library].Except(expected)) wrong.Add($"{library} -> {reference} is not an allowed arrow");
            foreach (string reference in expected.Except(graph[library])) wrong.Add($"{library} -> {reference} is missing");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void No_library_reaches_a_tool_or_test_and_the_loader_never_reaches_the_writer()
    {
        Dictionary<string, string[]> graph = ProjectGraph();
        HashSet<string> Closure(string project)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var stack = new Stack<string>([project]);
            while (stack.TryPop(out string? p))
                foreach (string r in graph.GetValueOrDefault(p, []))
                    if (seen.Add(r)) stack.Push(r);
            return seen;
        }
        foreach (string library in LibraryReferences.Keys)
            Assert.True(Closure(library).All(LibraryReferences.ContainsKey), $"{library} reaches a project that is not a library: {string.Join(", ", Closure(library))}");
        Assert.DoesNotContain("AotCache.Writer", Closure("AotCache.Loader"));
        Assert.DoesNotContain("AotCache.Loader", Closure("AotCache.Writer"));
        Assert.DoesNotContain("AotCache.Loader", Closure("AotCache.Reader"));
        // A program that only reads caches needs no executable memory: cachedump reads through the reader alone.
        Assert.DoesNotContain("AotCache.Loader", Closure("cachedump"));
        Assert.DoesNotContain("AotCache.Writer", Closure("cachedump"));
        // libaotcache, the C ABI, loads caches: the reader and the loader, never the writer or the code generator.
        Assert.Equal(["AotCache.Format", "AotCache.Loader", "AotCache.Reader"], Closure("AotCache.Native").Order(StringComparer.Ordinal));
        // Team-cache entries are read and written, never loaded: the remote library needs no executable memory either.
        Assert.DoesNotContain("AotCache.Loader", Closure("AotCache.Remote"));
        foreach (string project in graph.Keys) Assert.DoesNotContain(project, Closure(project)); // no project cycle
    }

    /// <summary>The loader's folders, highest first: a file may use types of its own folder and of lower ones only.</summary>
    private static readonly string[] LoaderLayers = ["(root)", "HotSwap", "Linking", "Memory"];

    [Fact]
    public void The_loaders_folders_depend_downwards_only_root_HotSwap_Linking_Memory()
    {
        string loader = Path.Combine(Root, "loader", "AotCache.Loader");
        var files = Directory.EnumerateFiles(loader, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path: f, Layer: LayerOf(Path.GetRelativePath(loader, f)), Code: CodeOnly(File.ReadAllText(f))))
            .ToList();
        // Top-level types only (declared at column 0): nested names are reached through their outer type.
        var declaredIn = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in files)
            foreach (Match m in TopLevelType().Matches(f.Code))
                declaredIn[m.Groups["name"].Value] = f.Layer;
        Assert.Contains("UpdateTransaction", declaredIn.Keys);
        Assert.Contains("ModuleLayout", declaredIn.Keys);

        var arrows = new List<string>();
        foreach (var f in files)
            foreach (var (type, layer) in declaredIn)
            {
                if (layer == f.Layer || !Regex.IsMatch(f.Code, $@"(?<![.\w]){type}\b")) continue; // not a member access such as x.Value
                if (Array.IndexOf(LoaderLayers, layer) < Array.IndexOf(LoaderLayers, f.Layer))
                    arrows.Add($"{Path.GetRelativePath(loader, f.Path)} ({f.Layer}) uses {type} ({layer}): an upward arrow");
            }
        Assert.True(arrows.Count == 0, string.Join("\n", arrows));
    }

    [Fact]
    public void Only_the_Memory_folders_of_the_reader_and_loader_use_unsafe_code()
    {
        string[] productFolders = ["spec", "writer", "loader", "tools"];
        var offenders = new List<string>();
        foreach (string folder in productFolders)
            foreach (string file in Directory.EnumerateFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(Root, file).Replace('\\', '/');
                if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)) continue;
                bool allowed = relative.StartsWith("loader/AotCache.Loader/Memory/", StringComparison.Ordinal)
                    || relative.StartsWith("loader/AotCache.Reader/Memory/", StringComparison.Ordinal);
                if (!allowed && Regex.IsMatch(CodeOnly(File.ReadAllText(file)), @"\bunsafe\b")) offenders.Add(relative);
            }
        Assert.True(offenders.Count == 0, "unsafe outside Memory/: " + string.Join(", ", offenders));
        foreach (string csproj in Directory.EnumerateFiles(Root, "*.csproj", SearchOption.AllDirectories))
        {
            string name = Path.GetFileNameWithoutExtension(csproj);
            bool unsafeAllowed = XDocument.Load(csproj).Descendants("AllowUnsafeBlocks").Any(e => e.Value.Trim() == "true");
            if (LibraryReferences.ContainsKey(name))
                Assert.True(!unsafeAllowed || name is "AotCache.Loader" or "AotCache.Reader", $"{name} allows unsafe blocks");
        }
    }

    private static string LayerOf(string relative)
    {
        string first = relative.Split(Path.DirectorySeparatorChar)[0];
        return Array.IndexOf(LoaderLayers, first) > 0 ? first : "(root)";
    }

    /// <summary>The source without comments and string literals: what the compiler binds names in.</summary>
    private static string CodeOnly(string source) => CommentsAndStrings().Replace(source, " ");

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@""(?:[^""]|"""")*""|\$?""(?:[^""\\\n]|\\.)*""", RegexOptions.Singleline)]
    private static partial Regex CommentsAndStrings();

    [GeneratedRegex(@"^(?:public |internal )?(?:sealed |static |abstract |readonly |partial |ref |unsafe )*(?:class|struct|record struct|record|interface|enum) (?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();
}
