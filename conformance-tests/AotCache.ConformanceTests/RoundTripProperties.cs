using AotCache.ConformanceTests.Model;
using AotCache.Format;
using AotCache.Reader;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AotCache.ConformanceTests;

/// <summary>Properties over arbitrary well-formed modules, 1000 cases each.</summary>
[Properties(MaxTest = 1000, Arbitrary = [typeof(ModuleArbitraries)])]
public class RoundTripProperties
{
    [Property]
    public bool Reading_what_was_written_gives_back_the_module(ModuleModel module)
    {
        byte[] file = module.Write();
        using CacheImage image = CacheImage.Read(file, ReadOptions.Full);
        return ModuleModel.Read(image).Describe() == module.Describe();
    }

    /// <summary>The reader counts stale signature references while it validates [LOAD-5]; the count is what the
    /// model says: relocations whose expected hash is set and differs from their function target's declaration.</summary>
    [Property]
    public bool The_reader_counts_stale_signature_references_LOAD_5(ModuleModel module)
    {
        var hashOf = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (FunctionModel f in module.Functions) hashOf[f.Name] = module.Declarations[f.Declaration].Hash;
        foreach (ImportModel i in module.Imports)
            if (i.Declaration is int d) hashOf[i.Name] = module.Declarations[d].Hash;
        int expected = module.Functions.SelectMany(f => f.Relocations).Concat(module.Data.SelectMany(d => d.Relocations))
            .Count(r => r.ExpectedSignatureHash != 0 && hashOf.TryGetValue(r.Target, out ulong h) && h != r.ExpectedSignatureHash);
        using CacheImage image = CacheImage.Read(module.Write());
        return image.StaleSignatureReferences == expected;
    }

    [Fact]
    public void The_stale_count_of_a_stale_file_matches_the_loaders_analysis_LOAD_5()
    {
        using CacheImage stale = CacheImage.Read(GoldenModules.Stale());
        int signatureStale = StaleAnalysis.Find(stale).Count(s => s.Kind == StaleKind.Signature);
        Assert.True(signatureStale > 0);
        Assert.Equal(signatureStale, stale.StaleSignatureReferences);
        using CacheImage current = CacheImage.Read(GoldenModules.Example());
        Assert.Equal(0, current.StaleSignatureReferences);
        Assert.Empty(StaleAnalysis.Find(current));
    }

    /// <summary>The binary search over the function table (sorted by code offset [FUN-2]) gives, at every offset of the
    /// code section and one byte either side, the last function starting at or before it: what a linear scan gives.</summary>
    [Property(MaxTest = 200)]
    public bool The_function_at_or_before_an_offset_is_the_last_one_starting_there_or_earlier(ModuleModel module)
    {
        using CacheImage image = CacheImage.Read(module.Write());
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        for (long offset = -1; offset <= image.Code.Length; offset++)
        {
            int expected = -1;
            for (int f = 0; f < functions.Length; f++)
                if ((long)functions[f].CodeOffset <= offset) expected = f;
            if (image.FunctionAtOrBefore(offset) != expected) return false;
        }
        return true;
    }

    [Property]
    public bool Writing_is_deterministic(ModuleModel module) => module.Write().AsSpan().SequenceEqual(module.Write());

    [Property]
    public Property Flipping_any_single_bit_is_detected_INT_1(ModuleModel module)
    {
        byte[] file = module.Write();
        return Prop.ForAll(Gen.Choose(0, file.Length * 8 - 1).ToArbitrary(), bit =>
        {
            byte[] damaged = (byte[])file.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                CacheImage.Read(damaged);
                return false;
            }
            catch (AotCacheException)
            {
                return true;
            }
        });
    }

    [Property]
    public bool Symbols_are_found_by_name_through_the_sorted_table_SYM_2(ModuleModel module)
    {
        using CacheImage image = CacheImage.Read(module.Write());
        var names = module.Functions.Select(f => f.Name).Concat(module.Data.Select(d => d.Name)).Concat(module.Imports.Select(i => i.Name));
        return names.All(n => image.SymbolName(image.FindSymbol(n)) == n) && image.FindSymbol("no such symbol \u2603") == -1;
    }
}
