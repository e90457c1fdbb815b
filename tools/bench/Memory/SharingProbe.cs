namespace AotCache.Bench.Memory;

/// <summary>What loading one module costs a process in memory, and how much of it four processes share.</summary>
/// <param name="Private">The loading process's own smaps_rollup after loading and one call, minus before loading.</param>
/// <param name="OnePssKb">One loader's Pss minus an idle child's, the two running side by side.</param>
/// <param name="FourPssKb">The sum over four loaders of their Pss minus the idle child's, all five running side by side.</param>
public sealed record MemoryFigures(SmapsRollup Private, long OnePssKb, long FourPssKb)
{
    public double FourOverOne => (double)FourPssKb / OnePssKb;
}

/// <summary>
/// Measures <see cref="MemoryFigures"/> with <see cref="HeldChild"/> processes: one that loads the module and one
/// that runs the same program without loading (the baseline), then three more loaders.
/// </summary>
/// <remarks>
/// The baseline runs at the same time as the loaders because Pss depends on who else maps a page: the runtime's and
/// libc's pages are divided among every process mapping them, so an idle child read at another moment would not cancel
/// them. Each reading is taken while every child is blocked on stdin, and is retaken if the baseline's Pss moved while
/// the loaders were read (a process elsewhere on the machine started or ended).
/// </remarks>
public static class SharingProbe
{
    public static MemoryFigures Measure(IReadOnlyList<string> loadCommand, IReadOnlyList<string> idleCommand, string expectedResult)
    {
        var children = new List<HeldChild>();
        try
        {
            HeldChild idle = Started(children, idleCommand);
            HeldChild first = Started(children, loadCommand);
            idle.Expect("idle");
            first.Expect("idle");
            SmapsRollup before = first.Memory();
            idle.Go();
            first.Go();
            idle.Expect("ready");
            Check(first.Expect("ready"), expectedResult);
            SmapsRollup after = first.Memory();
            long one = ExtraPss(idle, [first]);

            HeldChild[] more = [.. Enumerable.Range(0, 3).Select(_ => Started(children, loadCommand))];
            foreach (HeldChild c in more) c.Expect("idle");
            foreach (HeldChild c in more) c.Go();
            foreach (HeldChild c in more) Check(c.Expect("ready"), expectedResult);
            long four = ExtraPss(idle, [first, .. more]);
            return new MemoryFigures(after - before, one, four);
        }
        finally
        {
            foreach (HeldChild c in children) c.Dispose();
        }
    }

    private static HeldChild Started(List<HeldChild> children, IReadOnlyList<string> command)
    {
        HeldChild child = HeldChild.Start(command);
        children.Add(child);
        return child;
    }

    private static void Check(string result, string expected)
    {
        if (result != expected)
            throw new InvalidOperationException($"a loading child's entry returned {result}, not {expected}: the module does not compute what the workload defines");
    }

    /// <summary>Σ over the loaders of Pss − the idle child's Pss (read before and after them, averaged).</summary>
    private static long ExtraPss(HeldChild idle, HeldChild[] loaders)
    {
        for (int attempt = 0; ; attempt++)
        {
            long idleBefore = idle.Memory().PssKb;
            long sum = loaders.Sum(l => l.Memory().PssKb);
            long idleAfter = idle.Memory().PssKb;
            if (Math.Abs(idleAfter - idleBefore) <= Math.Max(8, idleBefore / 200) || attempt == 4)
                return sum - loaders.Length * (idleBefore + idleAfter) / 2;
        }
    }
}
