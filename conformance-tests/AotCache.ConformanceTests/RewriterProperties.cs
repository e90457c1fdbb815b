using System.Runtime.InteropServices;
using AotCache.ConformanceTests.Model;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AotCache.ConformanceTests;

/// <summary><see cref="CacheRewriter"/> against the builder: an edited file reads back as the edited module.</summary>
[Properties(MaxTest = 1000, Arbitrary = [typeof(ModuleArbitraries)])]
public class RewriterProperties
{
    [Property]
    public bool Rewriting_without_changes_gives_the_same_bytes(ModuleModel module)
    {
        byte[] file = module.Write();
        using CacheImage image = CacheImage.Read(file);
        return new CacheRewriter(image).Build().ToArray().AsSpan().SequenceEqual(file);
    }

    /// <summary>Some functions get the body of another function of the module (code, relocations, type, alignment,
    /// hash, features): the result must validate fully and read back as the module with those bodies.</summary>
    [Property]
    public Property Replaced_bodies_read_back_and_everything_else_is_unchanged(ModuleModel module) =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            if (module.Functions.Count == 0) return true;
            var rng = new Random(seed);
            byte[] file = module.Write();
            using CacheImage image = CacheImage.Read(file);
            var rewriter = new CacheRewriter(image);
            var functions = module.Functions.ToList();
            var replaced = new HashSet<string>(StringComparer.Ordinal);
            var donors = new Dictionary<string, string>(StringComparer.Ordinal); // replaced function -> donor
            for (int k = 0; k < functions.Count; k++)
            {
                if (rng.Next(3) != 0) continue;
                FunctionModel donor = module.Functions[rng.Next(module.Functions.Count)];
                functions[k] = functions[k] with
                {
                    Declaration = donor.Declaration,
                    Code = donor.Code,
                    Alignment = donor.Alignment,
                    ContentHash = donor.ContentHash,
                    CpuFeatures = donor.CpuFeatures,
                    Relocations = donor.Relocations,
                };
                replaced.Add(functions[k].Name);
                // The replacement is the donor's body as the file stores it, dependencies included.
                FunctionBody body = image.GetFunctionBody(donor.Name);
                rewriter.ReplaceFunction(k, body);
                donors[functions[k].Name] = donor.Name;
            }
            ModuleModel expected = module with
            {
                Functions = functions,
                Dependencies =
                [
                    .. module.Dependencies.Where(d => !replaced.Contains(d.Function)),
                    .. donors.SelectMany(p => module.Dependencies.Where(d => d.Function == p.Value).Select(d => d with { Function = p.Key })),
                ],
            };
            using CacheImage rewritten = CacheImage.Read(rewriter.Build().ToArray(), ReadOptions.Full);
            return ModuleModel.Read(rewritten).Describe() == expected.Describe();
        });

    /// <summary>With declarations ordered by encoding, the rewritten type table is the one a fresh build of the edited
    /// module writes: replaced bodies with other types renumber every symbol, and types no symbol uses are dropped.</summary>
    [Property]
    public Property Declarations_by_encoding_match_a_fresh_build(ModuleModel module) =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            if (module.Functions.Count == 0) return true;
            var rng = new Random(seed);
            using CacheImage image = CacheImage.Read(module.Write(DeclarationOrder.ByEncoding));
            var rewriter = new CacheRewriter(image) { DeclarationOrder = DeclarationOrder.ByEncoding };
            var functions = module.Functions.ToList();
            for (int k = 0; k < functions.Count; k++)
            {
                if (rng.Next(2) != 0) continue;
                int type = rng.Next(module.Declarations.Count);
                functions[k] = functions[k] with { Declaration = type };
                FunctionModel f = module.Functions[k];
                FunctionBody body = image.GetFunctionBody(k);
                rewriter.ReplaceFunction(k, new FunctionBody(body.Code.AsSpan(), module.Declarations[type], body.Relocations, body.Dependencies)
                {
                    Alignment = body.Alignment,
                    ContentHash = body.ContentHash,
                    RequiredCpuFeatures = body.RequiredCpuFeatures,
                });
            }
            using CacheImage rewritten = CacheImage.Read(rewriter.Build().ToArray(), ReadOptions.Full);
            using CacheImage fresh = CacheImage.Read((module with { Functions = functions }).Write(DeclarationOrder.ByEncoding));
            return rewritten.SignatureBytes.SequenceEqual(fresh.SignatureBytes)
                && MemoryMarshal.AsBytes(rewritten.Declarations).SequenceEqual(MemoryMarshal.AsBytes(fresh.Declarations))
                && MemoryMarshal.AsBytes(rewritten.Symbols).SequenceEqual(MemoryMarshal.AsBytes(fresh.Symbols));
        });

    [Fact]
    public void A_replacement_that_breaks_the_format_is_refused_before_anything_is_built()
    {
        ModuleModel module = ModuleGenerator.Generate(new Random(5), 20);
        while (module.Functions.Count == 0) module = ModuleGenerator.Generate(new Random(module.GetHashCode()), 20);
        using CacheImage image = CacheImage.Read(module.Write());
        var rewriter = new CacheRewriter(image);
        Signature signature = module.Declarations[module.Functions[0].Declaration];
        string anySymbol = image.SymbolName(0);
        // What a body can check alone is refused when the body is made; what needs the file, when it is given to the rewriter.
        Assert.Contains("[FUN-5]", Assert.Throws<ArgumentException>(() => new FunctionBody([], signature)).Message);
        Assert.Contains("[REL-3]", Assert.Throws<ArgumentException>(() =>
            new FunctionBody([0xC3], signature, [new Relocation(0, RelocationKind.Absolute64, anySymbol, 0)])).Message);
        Assert.Contains("[FUN-3]", Assert.Throws<ArgumentOutOfRangeException>(() => new FunctionBody([0xC3], signature) { Alignment = 3 }).Message);
        Assert.Contains("[REL-5]", Assert.Throws<ArgumentException>(() => rewriter.ReplaceFunction(0,
            new FunctionBody(new byte[8], signature, [new Relocation(0, RelocationKind.Absolute64, "no such symbol", 0)]))).Message);
        Assert.Contains("[DEP-1]", Assert.Throws<ArgumentException>(() => rewriter.ReplaceFunction(0,
            new FunctionBody([0xC3], signature, dependencies: [new Dependency("no such symbol", default)]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => rewriter.ReplaceFunction(module.Functions.Count, new FunctionBody([0xC3], signature)));
    }
}
