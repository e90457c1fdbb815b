using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;
using static AotCache.ConformanceTests.HotSwap.SwapCode;

namespace AotCache.ConformanceTests.HotSwap;

/// <summary>Writing the next version of a cache: unchanged bodies carried byte-for-byte by content hash, the
/// file replaced atomically.</summary>
public sealed class IncrementalWriteTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aotc-incremental-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed record Source(string Name, int Constant, IReadOnlyList<string> Calls)
    {
        public ContentHash Hash => ContentHash.Of(System.Text.Encoding.UTF8.GetBytes($"{Name}|{Constant}|{string.Join(",", Calls)}"));
    }

    /// <summary>Writes a module, compiling only functions whose content hash is not in <paramref name="previous"/>.</summary>
    private static (byte[] File, List<string> Compiled) Build(IReadOnlyList<Source> sources, CacheImage? previous)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var handles = sources.ToDictionary(s => s.Name, s => b.DeclareFunction(s.Name, b.AddDeclaration(NoParams)));
        var compiled = new List<string>();
        foreach (Source s in sources)
        {
            int old = previous?.FindFunction(s.Name) ?? -1;
            if (old >= 0 && previous!.Functions[old].ContentHash == s.Hash)
            {
                b.DefineFunction(handles[s.Name], previous.GetFunctionBody(old));
                continue;
            }
            compiled.Add(s.Name);
            var (code, sites) = Assemble(s.Constant, [.. s.Calls.Select(c => new Call(c, NoParams))]);
            b.DefineFunction(handles[s.Name], new FunctionBody(code, NoParams, sites.Select(x => new Relocation(x.Offset, RelocationKind.FunctionPcRel32, x.Call.Callee, -4))) { ContentHash = s.Hash });
        }
        return (b.ToArray(), compiled);
    }

    private static readonly Source[] Version1 = [new("a", 1, []), new("b", 20, ["a"]), new("c", 300, ["b", "a"])];

    [Fact]
    public void Unchanged_bodies_are_reused_byte_for_byte_and_only_the_edit_is_recompiled()
    {
        var (v1, compiled1) = Build(Version1, null);
        Assert.Equal(["a", "b", "c"], compiled1);
        using var image1 = CacheImage.Read(v1);
        Source[] version2 = [Version1[0], Version1[1] with { Constant = 40 }, Version1[2]];
        var (v2, compiled2) = Build(version2, image1);
        Assert.Equal(["b"], compiled2);
        using var image2 = CacheImage.Read(v2, ReadOptions.Full);
        foreach (string name in new[] { "a", "c" })
            Assert.Equal(image1.FunctionCode(image1.Functions[image1.FindFunction(name)]).ToArray(), image2.FunctionCode(image2.Functions[image2.FindFunction(name)]).ToArray());
        using var module = LoadedModule.Load(image2);
        Assert.Equal(300 + 40 + 1 + 1, module.Invoke("c").AsI64);
        // Building the same version again reuses everything.
        Assert.Empty(Build(version2, image2).Compiled);
    }

    [Fact]
    public void A_mapped_cache_is_never_overwritten_in_place()
    {
        string path = Path.Combine(_directory, "cache.aotc");
        AtomicFile.Write(path, Build(Version1, null).File);
        using var running = LoadedModule.LoadFile(path);           // maps the file
        Assert.Equal(322, running.Invoke("c").AsI64);
        Source[] version2 = [Version1[0] with { Constant = 5 }, Version1[1], Version1[2]];
        AtomicFile.Write(path, Build(version2, null).File);
        // The running process still sees its version; a new load sees the new one.
        Assert.Equal(322, running.Invoke("c").AsI64);
        Assert.Equal(3, CacheImage.Read(running.Image.FileMemory, ReadOptions.Full).Functions.Length); // the old mapping still validates
        using var fresh = LoadedModule.LoadFile(path);
        Assert.Equal(300 + 20 + 5 + 5, fresh.Invoke("c").AsI64);
    }

    [Fact]
    public void A_write_that_fails_midway_leaves_the_previous_cache_intact_and_no_temporary_file()
    {
        string path = Path.Combine(_directory, "cache.aotc");
        byte[] v1 = Build(Version1, null).File;
        AtomicFile.Write(path, v1);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(v1.AsSpan(0, v1.Length / 2));
            throw new IOException("disk full (simulated)");
        }));
        Assert.Contains("simulated", e.Message);
        Assert.Equal(v1, File.ReadAllBytes(path));
        Assert.Equal(["cache.aotc"], Directory.GetFiles(_directory).Select(Path.GetFileName));
        using var module = LoadedModule.LoadFile(path);
        Assert.Equal(322, module.Invoke("c").AsI64);
    }

    [Fact]
    public void An_invalid_module_writes_nothing()
    {
        string path = Path.Combine(_directory, "cache.aotc");
        byte[] v1 = Build(Version1, null).File;
        AtomicFile.Write(path, v1);
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        b.DeclareFunction("declared_only", b.AddDeclaration(NoParams));
        var e = Assert.Throws<CacheBuildException>(() => b.WriteToFile(path));
        Assert.Contains("'declared_only' is declared but never defined", e.Message);
        Assert.Equal(v1, File.ReadAllBytes(path));
    }
}
