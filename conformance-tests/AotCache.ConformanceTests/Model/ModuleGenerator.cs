using AotCache.Format;
using FsCheck;
using FsCheck.Fluent;

namespace AotCache.ConformanceTests.Model;

/// <summary>
/// Arbitrary well-formed modules: every kind of symbol, relocation, data object, fingerprint
/// component and dependency, names with non-ASCII characters, stale expectations and extreme addends.
/// FsCheck draws a seed and a size; the module follows from them, so a failure replays exactly.
/// </summary>
public static class ModuleGenerator
{
    private static readonly string[] NameStems = ["main", "f", "callee", "δ", "日本", "x_y", "é", "tbl", "Z", "a.b"];
    private static readonly int[] Alignments = [1, 1, 2, 4, 8, 16, 16, 32, 64, 4096];

    public static Gen<ModuleModel> Modules =>
        from seed in Gen.Choose(0, int.MaxValue)
        from size in Gen.Sized(Gen.Constant)
        select Generate(new Random(seed), Math.Clamp(size, 1, 100));

    public static ModuleModel Generate(Random rng, int size)
    {
        int scale = 1 + size / 20;
        int nameCounter = 0;
        string Name() => NameStems[rng.Next(NameStems.Length)] + "_" + nameCounter++;

        var declarations = new List<Signature>();
        for (int i = rng.Next(1, 2 + scale); i > 0; i--) declarations.Add(RandomSignature(rng));
        declarations = declarations.Distinct().ToList(); // the writer deduplicates; the model does the same

        var imports = new List<ImportModel>();
        for (int i = rng.Next(0, 2 + scale); i > 0; i--)
            imports.Add(new ImportModel(Name(), rng.Next(4) > 0 ? rng.Next(declarations.Count) : null));

        var functionShapes = new List<(string Name, int Decl, int Length)>();
        for (int i = rng.Next(0, 3 + 2 * scale); i > 0; i--)
            functionShapes.Add((Name(), rng.Next(declarations.Count), rng.Next(1, 96)));

        var dataShapes = new List<(string Name, DataKind Kind, int Length)>();
        for (int i = rng.Next(0, 2 + scale); i > 0; i--)
        {
            var kind = (DataKind)rng.Next(1, 4);
            dataShapes.Add((Name(), kind, kind == DataKind.ZeroFilled ? rng.Next(1, 20000) : rng.Next(1, 64)));
        }

        // Targets by kind, for relocations.
        var functionTargets = functionShapes.Select(f => (f.Name, Hash: declarations[f.Decl].Hash)).ToList();
        var dataTargets = dataShapes.Select(d => d.Name).ToList();
        var importFunctions = imports.Where(i => i.Declaration is not null).Select(i => (i.Name, Hash: declarations[i.Declaration!.Value].Hash)).ToList();
        var importData = imports.Where(i => i.Declaration is null).Select(i => i.Name).ToList();

        List<RelocationModel> Relocations(int length)
        {
            var list = new List<RelocationModel>();
            int pos = rng.Next(0, 4);
            while (true)
            {
                var kind = (RelocationKind)rng.Next(1, 6);
                int width = RelocationRules.FieldWidth(kind);
                if (pos + width > length) break;
                if (rng.Next(3) > 0 && PickTarget(kind) is (string target, ulong hash, bool isFunction))
                {
                    long addend = width == 4
                        ? rng.Next(6) switch { 0 => int.MinValue, 1 => int.MaxValue, _ => rng.Next(-16, 16) }
                        : rng.NextInt64(long.MinValue, long.MaxValue);
                    ulong expected = !isFunction ? 0 : rng.Next(10) switch { 0 => 0, 1 => (ulong)rng.NextInt64(), _ => hash };
                    list.Add(new RelocationModel(pos, kind, target, addend, expected));
                    pos += width;
                }
                pos += rng.Next(0, 7);
            }
            return list;
        }

        (string, ulong, bool)? PickTarget(RelocationKind kind)
        {
            var candidates = new List<(string, ulong, bool)>();
            foreach (var (n, h) in functionTargets)
                if (RelocationRules.TargetAllowed(kind, SymbolKind.Function)) candidates.Add((n, h, true));
            foreach (string n in dataTargets)
                if (RelocationRules.TargetAllowed(kind, SymbolKind.Data)) candidates.Add((n, 0, false));
            foreach (var (n, h) in importFunctions)
                if (RelocationRules.TargetAllowed(kind, SymbolKind.ImportFunction)) candidates.Add((n, h, true));
            foreach (string n in importData)
                if (RelocationRules.TargetAllowed(kind, SymbolKind.ImportData)) candidates.Add((n, 0, false));
            return candidates.Count == 0 ? null : candidates[rng.Next(candidates.Count)];
        }

        var functions = functionShapes.Select(f => new FunctionModel(
            f.Name, f.Decl, rng.Next(2) == 0 ? Linkage.Local : Linkage.Export, RandomBytes(rng, f.Length),
            Alignments[rng.Next(Alignments.Length)], RandomHash(rng), RandomFeatures(rng), Relocations(f.Length))).ToList();

        var data = dataShapes.Select(d => new DataModel(
            d.Name, d.Kind, rng.Next(2) == 0 ? Linkage.Local : Linkage.Export, Alignments[rng.Next(Alignments.Length)],
            d.Kind == DataKind.ZeroFilled ? [] : RandomBytes(rng, d.Length), d.Length, RandomHash(rng),
            d.Kind == DataKind.ZeroFilled ? [] : Relocations(d.Length))).ToList();

        var fingerprint = new List<FingerprintModel>();
        for (int i = rng.Next(0, 4); i > 0; i--)
        {
            string key = "fp." + Name();
            var kind = (FingerprintValueKind)rng.Next(1, 4);
            MatchRule match = kind == FingerprintValueKind.FeatureSet ? (MatchRule)rng.Next(1, 4) : rng.Next(2) == 0 ? MatchRule.Equal : MatchRule.Informational;
            fingerprint.Add(kind == FingerprintValueKind.String
                ? new FingerprintModel(key, kind, match, 0, rng.Next(3) == 0 ? "" : "v" + Name())
                : new FingerprintModel(key, kind, match, (ulong)rng.NextInt64(), null));
        }

        var dependencies = new List<DependencyModel>();
        var definedTargets = functionShapes.Select(f => f.Name).Concat(dataShapes.Select(d => d.Name)).ToList();
        if (functions.Count > 0)
            for (int i = rng.Next(0, 4); i > 0; i--)
            {
                string from = functions[rng.Next(functions.Count)].Name;
                string to = definedTargets[rng.Next(definedTargets.Count)];
                if (!dependencies.Any(d => d.Function == from && d.Target == to))
                    dependencies.Add(new DependencyModel(from, to, RandomHash(rng)));
            }

        return new ModuleModel(rng.Next(4) == 0 ? "" : "gen " + Name(), rng.Next(4) == 0 ? "" : "mod " + Name(),
            RandomFeatures(rng), declarations, imports, functions, data, fingerprint, dependencies);
    }

    private static Signature RandomSignature(Random rng)
    {
        int n = rng.Next(20) == 0 ? 255 : rng.Next(0, 7);
        var parameters = new ScalarType[n];
        for (int i = 0; i < n; i++) parameters[i] = (ScalarType)rng.Next(1, 6);
        ScalarType[] results = rng.Next(3) == 0 ? [] : [(ScalarType)rng.Next(1, 6)];
        return new Signature(rng.Next(5) == 0 ? CallingConvention.Win64 : CallingConvention.SysV, parameters, results);
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }

    private static ContentHash RandomHash(Random rng) =>
        rng.Next(5) == 0 ? ContentHash.None : new ContentHash((ulong)rng.NextInt64(), (ulong)rng.NextInt64());

    private static CpuFeatures RandomFeatures(Random rng) =>
        rng.Next(2) == 0 ? CpuFeatures.None : (CpuFeatures)((ulong)rng.NextInt64() & (ulong)CpuFeatures.AllKnown);
}

/// <summary>FsCheck registration of <see cref="ModuleGenerator"/>.</summary>
public static class ModuleArbitraries
{
    public static Arbitrary<ModuleModel> Modules() => ModuleGenerator.Modules.ToArbitrary();
}
