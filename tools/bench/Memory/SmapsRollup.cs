using System.Globalization;

namespace AotCache.Bench.Memory;

/// <summary>
/// A process's memory totals from <c>/proc/PID/smaps_rollup</c>, in KiB. Pss divides each page among the processes
/// that map it; Private counts pages only this process maps, clean (unmodified file pages, such as a mapped file's
/// page cache while no one else maps it) or dirty (anonymous memory, relocated or copied pages).
/// </summary>
public readonly record struct SmapsRollup(long RssKb, long PssKb, long PrivateCleanKb, long PrivateDirtyKb, long AnonymousKb)
{
    public long PrivateKb => PrivateCleanKb + PrivateDirtyKb;

    public static SmapsRollup Self() => Read("/proc/self/smaps_rollup");

    public static SmapsRollup Of(int pid) => Read($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/smaps_rollup");

    public static SmapsRollup Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the "Field:   123 kB" lines; the fields used must all be there.</summary>
    public static SmapsRollup Parse(string text, string source = "smaps_rollup")
    {
        long rss = -1, pss = -1, clean = -1, dirty = -1, anonymous = -1;
        foreach (string line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            ref long field = ref rss;
            switch (line.AsSpan(0, colon))
            {
                case "Rss": field = ref rss; break;
                case "Pss": field = ref pss; break;
                case "Private_Clean": field = ref clean; break;
                case "Private_Dirty": field = ref dirty; break;
                case "Anonymous": field = ref anonymous; break;
                default: continue;
            }
            ReadOnlySpan<char> value = line.AsSpan(colon + 1).Trim();
            if (!value.EndsWith(" kB") || !long.TryParse(value[..^3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out field))
                throw new FormatException($"{source}: cannot read '{line}'");
        }
        if (rss < 0 || pss < 0 || clean < 0 || dirty < 0 || anonymous < 0)
            throw new FormatException($"{source}: Rss, Pss, Private_Clean, Private_Dirty or Anonymous is missing");
        return new SmapsRollup(rss, pss, clean, dirty, anonymous);
    }

    public static SmapsRollup operator -(SmapsRollup a, SmapsRollup b) =>
        new(a.RssKb - b.RssKb, a.PssKb - b.PssKb, a.PrivateCleanKb - b.PrivateCleanKb, a.PrivateDirtyKb - b.PrivateDirtyKb, a.AnonymousKb - b.AnonymousKb);
}
