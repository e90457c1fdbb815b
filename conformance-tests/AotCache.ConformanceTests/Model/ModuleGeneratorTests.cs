using AotCache.Format;

namespace AotCache.ConformanceTests.Model;

/// <summary>The generated modules really exercise every part of the format, so the properties over
/// them are not vacuous.</summary>
public class ModuleGeneratorTests
{
    private static readonly List<ModuleModel> Sample =
        Enumerable.Range(0, 300).Select(i => ModuleGenerator.Generate(new Random(i), 1 + i % 100)).ToList();

    [Fact]
    public void Every_relocation_kind_appears()
    {
        var kinds = Sample.SelectMany(m => m.Functions.SelectMany(f => f.Relocations).Concat(m.Data.SelectMany(d => d.Relocations)))
            .Select(r => r.Kind).ToHashSet();
        Assert.Equal(Enum.GetValues<RelocationKind>().ToHashSet(), kinds);
    }

    [Fact]
    public void Every_data_kind_import_kind_and_fingerprint_kind_appears()
    {
        Assert.Equal(Enum.GetValues<DataKind>().ToHashSet(), Sample.SelectMany(m => m.Data).Select(d => d.Kind).ToHashSet());
        Assert.Contains(Sample.SelectMany(m => m.Imports), i => i.Declaration is null);
        Assert.Contains(Sample.SelectMany(m => m.Imports), i => i.Declaration is not null);
        Assert.Equal(Enum.GetValues<FingerprintValueKind>().ToHashSet(), Sample.SelectMany(m => m.Fingerprint).Select(p => p.Kind).ToHashSet());
        Assert.Contains(Sample, m => m.Dependencies.Count > 0);
        Assert.Contains(Sample.SelectMany(m => m.Data), d => d.Relocations.Count > 0);
    }

    [Fact]
    public void Stale_and_unrecorded_signature_expectations_and_extreme_addends_appear()
    {
        var relocations = Sample.SelectMany(m => m.Functions.SelectMany(f => f.Relocations)).ToList();
        Assert.Contains(relocations, r => r.Addend == int.MinValue);
        Assert.Contains(relocations, r => r.Addend == int.MaxValue);
        Assert.Contains(relocations, r => r.Kind != RelocationKind.DataPcRel32 && r.ExpectedSignatureHash == 0);
        Assert.Contains(Sample, m => m.Declarations.Any(d => d.Parameters.Length == 255));
        Assert.Contains(Sample, m => m.Functions.Any(f => f.Alignment == 4096));
    }
}
