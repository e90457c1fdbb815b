using AotCache.ConformanceTests.Model;
using AotCache.Format;
using AotCache.Reader;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AotCache.ConformanceTests.Malformed;

/// <summary>Whatever the bytes, the reader either accepts them or throws <see cref="AotCacheException"/>.</summary>
public class HostileInputProperties
{
    /// <summary>Random overwrites of header, directory and table bytes, resealed so that every structural
    /// check is reached (an unsealed mutation would stop at the checksum).</summary>
    [Property(MaxTest = 3000, Arbitrary = [typeof(ModuleArbitraries)])]
    public Property Resealed_mutations_raise_only_the_typed_exception(ModuleModel module)
    {
        byte[] file = module.Write();
        using CacheImage original = CacheImage.Read(file);
        int tablesEnd = original.HasSection(SectionKind.Code) ? original.SectionOffset(SectionKind.Code) : file.Length;
        Gen<(int At, byte Value)[]> edits =
            from n in Gen.Choose(1, 4)
            from list in Gen.ArrayOf(from at in Gen.Choose(0, tablesEnd - 1)
                                     from value in Gen.Elements<byte>(0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0xFE, 8, 16, 0x40)
                                     select (at, value), n)
            select list;
        return Prop.ForAll(edits.ToArbitrary(), list =>
        {
            var vandal = new Vandal(file);
            foreach (var (at, value) in list) vandal.U8(at, value);
            byte[] bytes = vandal.Reseal(fixFileSize: list.All(e => e.At is < 16 or >= 24));
            try
            {
                using CacheImage image = CacheImage.Read(bytes, ReadOptions.Full);
                // Accepted: then every view the reader offers must be usable without throwing.
                return Touch(image) >= 0;
            }
            catch (AotCacheException e)
            {
                return e.Offset >= 0 && e.Offset <= bytes.Length && e.Requirement != "?";
            }
        });
    }

    /// <summary>Reads every table and string of an accepted image, as tools do.</summary>
    public static long Touch(CacheImage image)
    {
        long sum = image.Producer.Length + image.ModuleName.Length;
        for (int i = 0; i < image.Symbols.Length; i++) sum += image.SymbolName(i).Length;
        for (int i = 0; i < image.Declarations.Length; i++) sum += image.GetSignature(i).Parameters.Length;
        foreach (FunctionRecord f in image.Functions) sum += image.FunctionCode(f).Length + image.RelocationsOf(f).Length;
        foreach (DataObjectRecord d in image.DataObjects) sum += image.DataBytes(d).Length + image.RelocationsOf(d).Length;
        foreach (FingerprintComponent c in image.Fingerprint) sum += image.GetString(c.Key).Length;
        return sum;
    }

    [Fact]
    public void HDR_4_truncation_at_every_byte_is_refused()
    {
        byte[] file = Vandal.RichModule();
        for (int length = 0; length < file.Length; length++)
        {
            var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(file.AsMemory(0, length)));
            Assert.Contains(e.Code, new[] { ErrorCode.Truncated, ErrorCode.BadMagic });
        }
    }

    [Fact]
    public void Every_single_bit_flip_of_a_small_file_is_refused()
    {
        byte[] file = Vandal.RichModule();
        var damaged = (byte[])file.Clone();
        for (int bit = 0; bit < file.Length * 8; bit++)
        {
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<AotCacheException>(() => CacheImage.Read(damaged));
            damaged[bit / 8] = file[bit / 8];
        }
    }

    [Fact]
    public void Random_bytes_are_refused_with_the_typed_exception()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[rng.Next(0, 600)];
            rng.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length >= 8) FormatConstants.Magic.CopyTo(bytes);
            Assert.Throws<AotCacheException>(() => CacheImage.Read(bytes));
        }
    }
}
