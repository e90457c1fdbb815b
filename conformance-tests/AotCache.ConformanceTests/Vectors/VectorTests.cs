using AotCache.ConformanceTests.SecondWriter;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Tools.CacheDump;

namespace AotCache.ConformanceTests.Vectors;

/// <summary>
/// Every vector of <c>spec/vectors</c>: valid ones must read and dump (<c>cachedump --json --no-disasm</c>)
/// exactly as <c>valid/NAME.json</c> says; malformed ones must fail with the stated code, number, offset and
/// requirement, through the reader and through <c>cachedump --verify</c>. <c>AOTCACHE_ACCEPT=1</c> rewrites the
/// JSON files: review their diff.
/// </summary>
public sealed class VectorTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("vectors-");

    public void Dispose() => _directory.Delete(recursive: true);

    public static TheoryData<string> Vectors => [.. VectorFile.All()];

    private static bool Accepting => Environment.GetEnvironmentVariable("AOTCACHE_ACCEPT") == "1";

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Vector_reads_as_it_states(string name)
    {
        VectorFile vector = VectorFile.Load(name);
        ReadOptions options = Options(vector);
        if (vector.ExpectValid)
        {
            using CacheImage image = CacheImage.Read(vector.Bytes, options);
            if (vector.TrustedHmacKeys.Count > 0) return; // cachedump has no signature policy; the dump is checked without one below
            CheckDump(name, vector);
            return;
        }
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(vector.Bytes, options));
        Assert.True(vector.ErrorCode == e.Code.ToString() && vector.ErrorNumber == (int)e.Code && vector.ErrorOffset == e.Offset,
            $"{name}: expected {vector.ErrorCode} ({vector.ErrorNumber}) at 0x{vector.ErrorOffset:X}, got {e.Code} ({(int)e.Code}) at 0x{e.Offset:X}: {e.Detail}");
        Assert.Equal(vector.Requirements.Single(), e.Requirement);
        foreach (string text in vector.MessageContains) Assert.Contains(text, e.Message);
        if (vector.TrustedHmacKeys.Count > 0 || vector.RequireSignature) return; // a policy cachedump does not have
        string path = Write(name, vector.Bytes);
        (int exit, string output, string errors) = Run(path, "--verify");
        Assert.Equal(CacheDumpCommand.ExitMalformed, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"error: {vector.ErrorCode} ({vector.ErrorNumber}) at offset {vector.ErrorOffset} (0x{vector.ErrorOffset:x}) [{e.Requirement}]", errors);
    }

    private void CheckDump(string name, VectorFile vector)
    {
        string path = Write(name, vector.Bytes);
        (int exit, string output, string errors) = Run(path, "--json", "--no-disasm");
        Assert.Equal("", errors);
        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        string expectedPath = Path.ChangeExtension(Path.Combine(VectorFile.Root, name), ".json");
        if (Accepting) File.WriteAllText(expectedPath, output);
        Assert.True(File.Exists(expectedPath), $"{expectedPath} is missing: run with AOTCACHE_ACCEPT=1 and review it");
        Assert.Equal(File.ReadAllText(expectedPath), output);
    }

    private static ReadOptions Options(VectorFile vector)
    {
        if (vector.TrustedHmacKeys.Count == 0 && !vector.RequireSignature) return ReadOptions.Full;
        return ReadOptions.Full with
        {
            Signatures = new SignaturePolicy
            {
                RequireSignature = vector.RequireSignature,
                TrustedKeys = [.. vector.TrustedHmacKeys.Select(k => VerificationKey.Hmac(k.Name, k.Secret))],
            },
        };
    }

    /// <summary>Writes the vector's bytes as <c>NAME.aotc</c> (the dump prints the file name).</summary>
    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory.FullName, Path.GetFileNameWithoutExtension(name) + ".aotc");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    /// <summary>The Python parser of the text form (conformance-tests/python/aotcache/vectorfile.py) and this one
    /// assemble every vector, fixups applied, to the same bytes.</summary>
    [Fact]
    public void A_second_parser_of_the_text_form_assembles_every_vector_to_the_same_bytes()
    {
        var python = PythonWriter.Run("check_vectors.py", VectorFile.Root).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
        var names = VectorFile.All().ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), python.Keys.Order(StringComparer.Ordinal));
        foreach (string name in names) Assert.True(VectorFile.Load(name).Sha256() == python[name], $"{name}: the two parsers disagree");
    }

    [Fact]
    public void The_vectors_cover_every_part_of_the_format()
    {
        var vectors = VectorFile.All().Select(VectorFile.Load).ToList();
        var malformed = vectors.Where(v => !v.ExpectValid).ToList();
        Assert.True(malformed.Count >= 30, $"{malformed.Count} malformed vectors");
        foreach (string area in new[] { "HDR", "LIM", "INT", "SEC", "STR", "FPR", "SIG", "SYM", "FUN", "DAT", "REL", "DEP", "AUTH" })
            Assert.Contains(malformed, v => v.Requirements.Single().StartsWith(area + "-", StringComparison.Ordinal));

        var images = vectors.Where(v => v.ExpectValid).Select(v => CacheImage.Read(v.Bytes, Options(v))).ToList();
        try
        {
            var kinds = images.SelectMany(i => i.Directory.ToArray().Select(e => e.Kind)).ToHashSet();
            foreach (SectionKind kind in Enum.GetValues<SectionKind>()) Assert.Contains((uint)kind, kinds);
            Assert.Contains(images, i => i.Header.MinorVersion > 1 && i.Directory.ToArray().Any(e => !Enum.IsDefined((SectionKind)e.Kind)));
            // Prelinked files (1.2, [REL-10]) with every PC-relative kind in a function, and a field that breaks it.
            Assert.Contains(malformed, v => v.ErrorCode == nameof(ErrorCode.PrelinkMismatch));
            Assert.Contains(images, i => i.IsPrelinked && new[] { RelocationKind.FunctionPcRel32, RelocationKind.DataPcRel32, RelocationKind.SlotPcRel32, RelocationKind.ThunkPcRel32 }
                .All(k => i.Functions.ToArray().Any(f => i.RelocationsOf(f).ToArray().Any(r => r.Kind == k))));
            var relocationKinds = images.SelectMany(i => i.Relocations.ToArray().Select(r => r.Kind)).ToHashSet();
            foreach (RelocationKind kind in Enum.GetValues<RelocationKind>()) Assert.Contains(kind, relocationKinds);
            var symbolKinds = images.SelectMany(i => i.Symbols.ToArray().Select(s => s.Kind)).ToHashSet();
            foreach (SymbolKind kind in Enum.GetValues<SymbolKind>()) Assert.Contains(kind, symbolKinds);
            var dataKinds = images.SelectMany(i => i.DataObjects.ToArray().Select(d => d.Kind)).ToHashSet();
            foreach (DataKind kind in Enum.GetValues<DataKind>()) Assert.Contains(kind, dataKinds);
            var dependencyKinds = images.SelectMany(i => i.Dependencies.ToArray().Select(d => d.Kind)).ToHashSet();
            foreach (DependencyKind kind in Enum.GetValues<DependencyKind>()) Assert.Contains(kind, dependencyKinds);
            var valueKinds = images.SelectMany(i => i.Fingerprint.ToArray().Select(c => c.ValueKind)).ToHashSet();
            foreach (FingerprintValueKind kind in Enum.GetValues<FingerprintValueKind>()) Assert.Contains(kind, valueKinds);
        }
        finally
        {
            foreach (CacheImage i in images) i.Dispose();
        }
    }
}
