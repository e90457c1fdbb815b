using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Writer;

namespace AotCache.Demo.Build;

/// <summary>A reused function whose cached body differs from what the compiler produces now.</summary>
public sealed record CacheMismatch(string Function, string Difference)
{
    public override string ToString() =>
        $"'{Function}': the cached body differs from a fresh compile ({Difference}); its cache key missed an input its code depends on";
}

/// <summary>How many reused functions were recompiled and compared, and which differed.</summary>
public sealed record VerifyReport(int Checked, int Reused, int Seed, IReadOnlyList<CacheMismatch> Mismatches)
{
    public bool Passed => Mismatches.Count == 0;
}

/// <summary>
/// <c>--verify-cache</c>: recompiles reused functions and compares them, byte for byte and relocation for
/// relocation, with their cached bodies. A difference means the cache key (the content hash) left out an
/// input the code depends on — the classic bug of code caches: the cache then serves stale code that no
/// checksum or signature check can notice. Compilation is deterministic, so any difference is real.
/// </summary>
public static class CacheVerifier
{
    /// <param name="sample">How many reused functions to check; null checks all of them.</param>
    /// <param name="seed">Chooses the sample; printed so a run can be repeated.</param>
    public static VerifyReport Verify(ProgramAnalysis analysis, BuildResult build, int? sample, int seed)
    {
        var changed = new HashSet<string>(build.Changed.Select(f => f.Name), StringComparer.Ordinal);
        var reused = analysis.Functions.Select(f => f.Name).Where(n => !changed.Contains(n)).ToList();
        List<string> chosen = sample is { } n && n < reused.Count
            ? [.. reused.Select((name, i) => (name, i)).OrderBy(x => Shuffle(seed, x.i)).Take(n).OrderBy(x => x.i).Select(x => x.name)]
            : reused;
        if (chosen.Count == 0) return new VerifyReport(0, reused.Count, seed, []);

        using CacheImage image = CacheImage.OpenFile(build.CachePath);
        var (builder, handles) = BuildEngine.DeclareSymbols(analysis);
        var checker = new IrChecker(analysis.Module, checkBodies: false);
        IrCompileOptions options = analysis.Codegen.ToCompileOptions(BuildEngine.Producer);
        var byName = analysis.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var mismatches = new List<CacheMismatch>();
        foreach (string name in chosen)
        {
            IrFunction ir = byName[name].Bound.Ir;
            checker.CheckFunction(ir);
            CompiledFunction fresh = IrCompiler.CompileFunction(builder, checker, ir, n => handles[n], options);
            FunctionRecord record = image.Functions[image.FindFunction(name)];
            if (Compare(image, record, builder, fresh) is { } difference) mismatches.Add(new CacheMismatch(name, difference));
        }
        return new VerifyReport(chosen.Count, reused.Count, seed, mismatches);
    }

    /// <summary>The first difference between a cached function and a fresh compile, or null.</summary>
    private static string? Compare(CacheImage image, in FunctionRecord record, CacheBuilder builder, CompiledFunction fresh)
    {
        ReadOnlySpan<byte> cached = image.FunctionCode(record);
        int common = cached.CommonPrefixLength(fresh.Code);
        if (common < cached.Length || common < fresh.Code.Length)
            return common < cached.Length && common < fresh.Code.Length
                ? $"code byte +{common}: cached {cached[common]:X2}, fresh {fresh.Code[common]:X2}"
                : $"code length: cached {cached.Length} bytes, fresh {fresh.Code.Length}";
        ReadOnlySpan<RelocationRecord> stored = image.RelocationsOf(record);
        if (stored.Length != fresh.Relocations.Count)
            return $"relocation count: cached {stored.Length}, fresh {fresh.Relocations.Count}";
        for (int i = 0; i < stored.Length; i++)
        {
            RelocationRecord c = stored[i];
            Relocation f = fresh.Relocations[i];
            string target = builder.GetSymbolName(f.Target);
            ulong expected = f.ExpectedSignatureHash ?? builder.GetSymbolSignature(f.Target)?.Hash ?? 0;
            if (c.Offset != (uint)f.Offset || c.Kind != f.Kind || c.Addend != f.Addend || image.SymbolName((int)c.Target) != target
                || c.ExpectedSignatureHash != expected)
                return $"relocation {i}: cached {c.Kind} at +{c.Offset} to '{image.SymbolName((int)c.Target)}' expecting signature 0x{c.ExpectedSignatureHash:x16}, " +
                    $"fresh {f.Kind} at +{f.Offset} to '{target}' expecting 0x{expected:x16}";
        }
        return null;
    }

    private static ulong Shuffle(int seed, int index) => System.IO.Hashing.XxHash3.HashToUInt64(BitConverter.GetBytes(index), seed);
}
