using System.IO.Compression;
using System.Xml.Linq;
using AotCache.ConformanceTests.Native;

namespace AotCache.ConformanceTests.Packaging;

/// <summary>What <c>dotnet pack</c> makes (issue 18): the five libraries and the two tools, one version, the shared
/// metadata, symbol packages, both target frameworks, and tools that install from a local feed and run.</summary>
[Collection(PackageCollection.Name)]
public sealed class PackageTests(PackageFeed feed)
{
    private static readonly string[] Libraries = ["AotCache.Format", "AotCache.Reader", "AotCache.Writer", "AotCache.Codegen", "AotCache.Loader"];
    // Each tool with a word its --help must print.
    private static readonly (string Id, string Command, string HelpMentions)[] Tools =
        [("AotCache.CacheDump", "cachedump", "--verify"), ("AotCache.Nib", "nib", "Nib")];

    [Fact]
    public void Only_the_libraries_and_the_two_tools_are_packed_each_with_a_symbol_package()
    {
        string[] files = Directory.GetFiles(feed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        string[] expected = Libraries.Concat(Tools.Select(t => t.Id))
            .SelectMany(id => new[] { $"{id}.{feed.Version}.nupkg", $"{id}.{feed.Version}.snupkg" })
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, files);
    }

    [Fact]
    public void Every_package_carries_the_shared_metadata_and_its_own_description()
    {
        var descriptions = new HashSet<string>(StringComparer.Ordinal);
        foreach (string id in Libraries.Concat(Tools.Select(t => t.Id)))
        {
            using ZipArchive package = Open(id);
            XElement metadata = Nuspec(package, id);
            string Get(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
            XElement Element(string name) => metadata.Elements().Single(e => e.Name.LocalName == name);

            Assert.Equal(id, Get("id"));
            Assert.Equal(feed.Version, Get("version"));
            Assert.Equal("The AotCache developers", Get("authors"));
            Assert.Equal("MIT", Get("license"));
            Assert.Equal("expression", Element("license").Attribute("type")?.Value);
            Assert.Equal("README.md", Get("readme"));
            Assert.NotNull(package.GetEntry("README.md"));
            Assert.Contains("jit", Get("tags").Split(' '));
            Assert.StartsWith("https://", Element("repository").Attribute("url")?.Value);
            Assert.StartsWith("https://", Get("projectUrl"));
            string description = Get("description");
            Assert.DoesNotContain("Package Description", description);
            Assert.True(descriptions.Add(description), $"{id} repeats another package's description");
        }
    }

    [Fact]
    public void The_libraries_target_net8_and_net10_with_their_xml_docs_and_symbols()
    {
        foreach (string id in Libraries)
        {
            using ZipArchive package = Open(id);
            using ZipArchive symbols = Open(id, ".snupkg");
            foreach (string tfm in new[] { "net8.0", "net10.0" })
            {
                Assert.NotNull(package.GetEntry($"lib/{tfm}/{id}.dll"));
                Assert.NotNull(package.GetEntry($"lib/{tfm}/{id}.xml"));
                Assert.NotNull(symbols.GetEntry($"lib/{tfm}/{id}.pdb"));
            }
            XElement[] groups = Nuspec(package, id).Descendants().Where(e => e.Name.LocalName == "group").ToArray();
            Assert.Equal(["net10.0", "net8.0"], groups.Select(g => g.Attribute("targetFramework")!.Value).Order(StringComparer.Ordinal).ToArray());
        }
    }

    [Fact]
    public void The_tools_install_from_the_local_feed_as_dotnet_tools_and_run()
    {
        string toolPath = feed.NewDirectory("tools");
        // Only the feed: the install cannot come from anywhere else (and needs no network).
        string config = Path.Combine(feed.NewDirectory("tool-config"), "NuGet.Config");
        File.WriteAllText(config, """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /></packageSources></configuration>
            """);
        foreach ((string id, string command, string helpMentions) in Tools)
        {
            using (ZipArchive package = Open(id))
            {
                Assert.Contains(Nuspec(package, id).Descendants().Where(e => e.Name.LocalName == "packageType"),
                    t => t.Attribute("name")?.Value == "DotnetTool");
                string settings = new StreamReader(package.Entries.Single(e => e.Name == "DotnetToolSettings.xml").Open()).ReadToEnd();
                Assert.Contains($"Name=\"{command}\"", settings);
            }
            string installed = Dotnet.Run(["tool", "install", id, "--version", feed.Version, "--tool-path", toolPath,
                "--add-source", feed.Feed, "--configfile", config], $"dotnet tool install {id}");
            Assert.Contains(command, installed);

            ChildProcess.Result help = Dotnet.Start(Path.Combine(toolPath, command), ["--help"]);
            Assert.True(help.ExitCode == 0, $"{command} --help exited {help.ExitCode}:\n{help.Stdout}\n{help.Stderr}");
            Assert.Contains("Usage:", help.Stdout);
            Assert.Contains(helpMentions, help.Stdout);
        }
    }

    private ZipArchive Open(string id, string extension = ".nupkg") =>
        ZipFile.OpenRead(Path.Combine(feed.Feed, $"{id}.{feed.Version}{extension}"));

    private static XElement Nuspec(ZipArchive package, string id)
    {
        using Stream stream = package.GetEntry(id + ".nuspec")!.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }
}
