using System.Text.RegularExpressions;
using AotCache.ConformanceTests.Native;

namespace AotCache.ConformanceTests.Packaging;

/// <summary>README's "Use it as a library" example cannot rot: it is taken from README.md, compiled as a net8.0
/// program against the packed packages (restored offline from the local feed), run on the installed runtime (rolled
/// forward when no .NET 8 runtime is installed), and must print exactly the output README shows.</summary>
[Collection(PackageCollection.Name)]
public sealed partial class LibraryGuideTests(PackageFeed feed)
{
    [GeneratedRegex(@"<!-- library-example:.*?-->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Example();

    [GeneratedRegex(@"<!-- library-example-output -->\s*```text\n(?<output>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ExampleOutput();

    [Fact]
    public void The_README_example_runs_as_a_net8_program_on_the_packages_and_prints_what_README_shows()
    {
        string readme = File.ReadAllText(Path.Combine(PackageFeed.Root, "README.md")).ReplaceLineEndings("\n");
        Match code = Example().Match(readme);
        Match output = ExampleOutput().Match(readme);
        Assert.True(code.Success, "README.md has no library-example block");
        Assert.True(output.Success, "README.md has no library-example-output block");

        string directory = feed.NewDirectory("consumer");
        File.WriteAllText(Path.Combine(directory, "Program.cs"), code.Groups["code"].Value);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net8.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- The SDK's apphost for net8.0 would be one more package to fetch; `dotnet Consumer.dll` needs none. -->
                <UseAppHost>false</UseAppHost>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AotCache.Writer" Version="{feed.Version}" />
                <PackageReference Include="AotCache.Loader" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        // Stop MSBuild's upward search for these files at the consumer's own directory.
        File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(directory, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(directory, "Directory.Packages.props"), "<Project />");
        feed.WriteOfflineNuGetConfig(directory);

        // A packages folder of its own: the global one may hold an older pack of the same version.
        Dotnet.Run(["build", directory, "-c", "Release", "--packages", Path.Combine(directory, "packages"), "--disable-build-servers"],
            "dotnet build (the net8.0 consumer)", directory);
        string assets = File.ReadAllText(Path.Combine(directory, "obj", "project.assets.json"));
        Assert.Contains("lib/net8.0/AotCache.Loader.dll", assets);
        Assert.Contains("lib/net8.0/AotCache.Writer.dll", assets);
        string binary = Path.Combine(directory, "bin", "Release", "net8.0", "Consumer.dll");
        Assert.Contains("\"version\": \"8.0.", File.ReadAllText(Path.ChangeExtension(binary, ".runtimeconfig.json")));

        ChildProcess.Result run = Dotnet.Start("dotnet", [binary], directory, new Dictionary<string, string> { ["DOTNET_ROLL_FORWARD"] = "Major" });
        Assert.True(run.ExitCode == 0, $"the example exited {run.ExitCode}:\n{run.Stdout}\n{run.Stderr}");
        string expected = output.Groups["output"].Value, actual = run.Stdout.ReplaceLineEndings("\n");
        Assert.True(expected == actual, $"README shows:\n{expected}\nthe example printed:\n{actual}");
    }
}
