using AotCache.Reader;

namespace AotCache.Tools.CacheDump;

/// <summary>
/// What <c>--function NAME</c> and <c>--symbol PATTERN</c> keep of a dump: the named functions, and the functions,
/// data objects and symbols whose names match a pattern (<c>*</c> any run of characters, <c>?</c> one). Relocations
/// and dependencies follow their owners; the disassembly follows the functions. Without either option everything is
/// kept. Looking functions up by name is a binary search, so one function of a 100k-function cache costs no more
/// than its own lines.
/// </summary>
internal sealed class DumpFilter
{
    public static readonly DumpFilter All = new([], []);

    private readonly HashSet<string> _functions;
    private readonly string[] _patterns;

    public DumpFilter(IReadOnlyCollection<string> functions, IReadOnlyCollection<string> patterns)
    {
        _functions = new HashSet<string>(functions, StringComparer.Ordinal);
        _patterns = [.. patterns];
    }

    public bool IsAll => _functions.Count == 0 && _patterns.Length == 0;

    /// <summary>The names given to <c>--function</c> that the image does not define as functions.</summary>
    public IEnumerable<string> MissingFunctions(CacheImage image) => _functions.Where(n => image.FindFunction(n) < 0).Order(StringComparer.Ordinal);

    /// <summary>The functions kept, in table order.</summary>
    public IEnumerable<int> Functions(CacheImage image)
    {
        int count = image.Functions.Length;
        if (IsAll)
        {
            for (int i = 0; i < count; i++) yield return i;
            yield break;
        }
        if (_patterns.Length == 0)
        {
            // Named functions only: found by binary search, never a walk over the whole table.
            foreach (int f in _functions.Select(image.FindFunction).Where(f => f >= 0).Distinct().Order()) yield return f;
            yield break;
        }
        for (int i = 0; i < count; i++)
            if (KeepsFunction(image.SymbolName((int)image.Functions[i].Symbol))) yield return i;
    }

    /// <summary>The data objects kept (only <c>--symbol</c> patterns select data), in table order.</summary>
    public IEnumerable<int> DataObjects(CacheImage image)
    {
        for (int i = 0; i < image.DataObjects.Length; i++)
            if (IsAll || MatchesPattern(image.SymbolName((int)image.DataObjects[i].Symbol))) yield return i;
    }

    /// <summary>The symbols kept, in table order.</summary>
    public IEnumerable<int> Symbols(CacheImage image)
    {
        if (!IsAll && _patterns.Length == 0)
        {
            foreach (int s in _functions.Select(image.FindSymbol).Where(s => s >= 0).Distinct().Order()) yield return s;
            yield break;
        }
        for (int i = 0; i < image.Symbols.Length; i++)
            if (IsAll || KeepsFunction(image.SymbolName(i))) yield return i;
    }

    private bool KeepsFunction(string name) => _functions.Contains(name) || MatchesPattern(name);

    private bool MatchesPattern(string name)
    {
        foreach (string p in _patterns)
            if (Glob(p, name)) return true;
        return false;
    }

    /// <summary>Shell-style matching of the whole name: <c>*</c> any run of characters (none too), <c>?</c> exactly
    /// one; everything else matches itself, case-sensitively. Linear backtracking over the last <c>*</c>.</summary>
    public static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; resume = t; }
            else if (star >= 0) { p = star + 1; t = ++resume; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
