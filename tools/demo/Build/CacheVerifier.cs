using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Reader;

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
/// <c>--verify-cache</c>: recompiles reused functions (and those fetched from a team cache) and compares them, byte for byte and relocation for
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
        // Fetched functions were compiled elsewhere: they are checked like reused ones (a team cache's keys can miss an input too).
        var changed = new HashSet<string>(build.Changed.Where(f => f.Outcome != FunctionOutcome.Fetched).Select(f => f.Name), StringComparer.Ordinal);
        var reused = analysis.Functions.Select(f => f.Name).Where(n => !changed.Contains(n)).ToList();
        List<string> chosen = sample is { } n && n < reused.Count
            ? [.. reused.Select((name, i) => (name, i)).OrderBy(x => Shuffle(seed, x.i)).Take(n).OrderBy(x => x.i).Select(x => x.name)]
            : reused;
        if (chosen.Count == 0) return new VerifyReport(0, reused.Count, seed, []);

        using CacheImage image = CacheImage.OpenFile(build.CachePath);
        var checker = new IrChecker(analysis.Module, checkBodies: false);
        var byName = analysis.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var mismatches = new List<CacheMismatch>();
        foreach (string name in chosen)
        {
            FunctionBody fresh = analysis.Compile(byName[name], checker);
            if (Compare(image.GetFunctionBody(name), fresh) is { } difference) mismatches.Add(new CacheMismatch(name, difference));
        }
        return new VerifyReport(chosen.Count, reused.Count, seed, mismatches);
    }

    /// <summary>The first difference between a cached function and a fresh compile, or null.</summary>
    private static string? Compare(FunctionBody cachedBody, FunctionBody fresh)
    {
        ReadOnlySpan<byte> cached = cachedBody.Code.AsSpan();
        int common = cached.CommonPrefixLength(fresh.Code.AsSpan());
        if (common < cached.Length || common < fresh.Code.Length)
            return common < cached.Length && common < fresh.Code.Length
                ? $"code byte +{common}: cached {cached[common]:X2}, fresh {fresh.Code[common]:X2}"
                : $"code length: cached {cached.Length} bytes, fresh {fresh.Code.Length}";
        if (cachedBody.Relocations.Length != fresh.Relocations.Length)
            return $"relocation count: cached {cachedBody.Relocations.Length}, fresh {fresh.Relocations.Length}";
        for (int i = 0; i < fresh.Relocations.Length; i++)
        {
            Relocation c = cachedBody.Relocations[i], f = fresh.Relocations[i];
            if (c != f)
                return $"relocation {i}: cached {c.Kind} at +{c.Offset} to '{c.Target}' expecting signature 0x{c.ExpectedSignatureHash ?? 0:x16}, " +
                    $"fresh {f.Kind} at +{f.Offset} to '{f.Target}' expecting 0x{f.ExpectedSignatureHash ?? 0:x16}";
        }
        return null;
    }

    private static ulong Shuffle(int seed, int index) => System.IO.Hashing.XxHash3.HashToUInt64(BitConverter.GetBytes(index), seed);
}
