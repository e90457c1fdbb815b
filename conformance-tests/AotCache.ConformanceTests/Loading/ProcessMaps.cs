using System.Globalization;

namespace AotCache.ConformanceTests.Loading;

/// <summary>The mappings of this process as <c>/proc/self/maps</c> lists them.</summary>
public static class ProcessMaps
{
    public readonly record struct Mapping(ulong Start, ulong End, string Permissions)
    {
        public bool Writable => Permissions[1] == 'w';
        public bool Executable => Permissions[2] == 'x';
    }

    public static List<Mapping> Read()
    {
        var list = new List<Mapping>();
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            string[] parts = line.Split(' ', 3);
            string[] range = parts[0].Split('-');
            list.Add(new Mapping(ulong.Parse(range[0], NumberStyles.HexNumber), ulong.Parse(range[1], NumberStyles.HexNumber), parts[1]));
        }
        return list;
    }

    /// <summary>The mappings overlapping [start, start + length).</summary>
    public static List<Mapping> Overlapping(nint start, long length)
    {
        ulong s = (ulong)start, e = (ulong)start + (ulong)length;
        return Read().Where(m => m.Start < e && m.End > s).ToList();
    }
}
