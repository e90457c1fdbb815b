using AotCache.ConformanceTests.Model;
using AotCache.Format;
using AotCache.Loader;
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
