using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Tools.CacheDump;

/// <summary>A relocation with its owner: the unit both dumps print, grouped by owner.</summary>
internal readonly record struct OwnedRelocation(int Index, string Owner, bool OwnerIsFunction, int OwnerIndex, RelocationRecord Record);

/// <summary>
/// What both dumps say about an image beyond its raw fields: names, staleness, feature names, the
/// signature record. Staleness comes from the loader's <see cref="StaleAnalysis"/>, so the dump marks exactly
/// what a loader would refuse.
/// </summary>
internal sealed class ImageFacts
{
    /// <summary>How many initial bytes of a data object the dumps show.</summary>
    public const int DataPreviewLength = 16;

    private readonly CacheImage _image;
    private readonly Dictionary<int, StaleReference> _staleRelocations = [];
    private readonly Dictionary<int, StaleReference> _staleDependencies = [];

    public ImageFacts(CacheImage image)
    {
        _image = image;
        Stale = StaleAnalysis.Find(image);
        foreach (StaleReference s in Stale)
        {
            if (s.Kind == StaleKind.Signature) _staleRelocations[s.Relocation] = s;
            else _staleDependencies.TryAdd(s.Record, s);
        }
    }

    public string FunctionName(int function) => _image.SymbolName((int)_image.Functions[function].Symbol);

    public string DataName(int data) => _image.SymbolName((int)_image.DataObjects[data].Symbol);

    /// <summary>Every relocation, functions' first and then data objects', each owner's in offset order: the
    /// order of the table itself, whose owner ranges tile it [REL-2].</summary>
    public IEnumerable<OwnedRelocation> RelocationsByOwner(DumpFilter? filter = null)
    {
        filter ??= DumpFilter.All;
        foreach (int f in filter.Functions(_image))
        {
            FunctionRecord record = _image.Functions[f];
            string name = FunctionName(f);
            for (int k = 0; k < record.RelocationCount; k++)
            {
                int index = (int)record.FirstRelocation + k;
                yield return new OwnedRelocation(index, name, true, f, _image.Relocations[index]);
            }
        }
        foreach (int d in filter.DataObjects(_image))
        {
            DataObjectRecord record = _image.DataObjects[d];
            string name = DataName(d);
            for (int k = 0; k < record.RelocationCount; k++)
            {
                int index = (int)record.FirstRelocation + k;
                yield return new OwnedRelocation(index, name, false, d, _image.Relocations[index]);
            }
        }
    }

    /// <summary>The dependencies (indexes) of the functions the filter keeps, in table order.</summary>
    public IEnumerable<int> DependenciesOf(DumpFilter filter)
    {
        ReadOnlySpan<DependencyRecord> dependencies = _image.Dependencies;
        HashSet<int>? kept = filter.IsAll ? null : [.. filter.Functions(_image)];
        var result = new List<int>();
        for (int i = 0; i < dependencies.Length; i++)
            if (kept is null || kept.Contains((int)dependencies[i].Function)) result.Add(i);
        return result;
    }

    /// <summary>Every stale reference of the image, as the loader's <see cref="StaleAnalysis"/> finds them (in its order).</summary>
    public IReadOnlyList<StaleReference> Stale { get; }

    /// <summary>Whether relocation <paramref name="relocation"/> expects another signature than its target's
    /// declaration has; if so, both signatures as text.</summary>
    public bool IsStale(int relocation, out string expected, out string actual)
    {
        if (!_staleRelocations.TryGetValue(relocation, out StaleReference s))
        {
            expected = actual = "";
            return false;
        }
        expected = SignatureText(s.ExpectedHash);
        actual = SignatureText(s.ActualHash);
        return true;
    }

    /// <summary>Whether dependency <paramref name="dependency"/> is stale, and why in words.</summary>
    public bool IsStaleDependency(int dependency, out string reason)
    {
        if (!_staleDependencies.TryGetValue(dependency, out StaleReference s))
        {
            reason = "";
            return false;
        }
        reason = s.Kind == StaleKind.Content
            ? $"the target's content hash is now {ContentHashText(CurrentContentHash((int)_image.Dependencies[dependency].Target))}"
            : "the target is stale itself";
        return true;
    }

    /// <summary>The content hash a defined symbol has now.</summary>
    public ContentHash CurrentContentHash(int symbol)
    {
        SymbolRecord s = _image.Symbols[symbol];
        return s.Kind == SymbolKind.Function ? _image.Functions[(int)s.Definition].ContentHash : _image.DataObjects[(int)s.Definition].ContentHash;
    }

    /// <summary>A signature known by its hash: its text when a declaration of the file has that hash.</summary>
    public string SignatureText(ulong hash)
    {
        int declaration = _image.FindDeclaration(hash);
        return declaration >= 0 ? _image.GetSignature(declaration).ToString() : $"unknown signature {Hex64(hash)}";
    }

    /// <summary>The declaration of a function or import as <c>sysv (i64) -> i64</c>; null for data.</summary>
    public string? DeclarationText(in SymbolRecord symbol) =>
        symbol.Declaration == FormatConstants.NoIndex ? null : _image.GetSignature((int)symbol.Declaration).ToString();

    /// <summary>The signature section's record, when the file is signed (format 1.1).</summary>
    public SignatureRecord? FileSignature()
    {
        if (!_image.HasSection(SectionKind.Signature)) return null;
        return MemoryMarshal.Read<SignatureRecord>(_image.File.Slice(_image.SectionOffset(SectionKind.Signature), SignatureRecord.RecordSize));
    }

    /// <summary>Names of the set bits of a <see cref="CpuFeatures"/> value; an unknown bit as <c>bit N</c>.</summary>
    public static IEnumerable<string> FeatureNames(CpuFeatures features)
    {
        for (int bit = 0; bit < 64; bit++)
        {
            var flag = (CpuFeatures)(1UL << bit);
            if ((features & flag) == 0) continue;
            yield return Enum.IsDefined(flag) ? flag.ToString() : $"bit {bit}";
        }
    }

    /// <summary>Names of the set bits of a flags enum whose every defined member is one bit.</summary>
    public static IEnumerable<string> FlagNames<T>(uint flags) where T : struct, Enum
    {
        for (int bit = 0; bit < 32; bit++)
        {
            uint value = 1u << bit;
            if ((flags & value) == 0) continue;
            T flag = (T)Enum.ToObject(typeof(T), value);
            yield return Enum.IsDefined(flag) ? flag.ToString() : $"bit {bit}";
        }
    }

    /// <summary>Name of an enum value, or its number when this version does not know it.</summary>
    public static string EnumName<T>(T value) where T : struct, Enum =>
        Enum.IsDefined(value) ? value.ToString() : Convert.ToUInt64(value).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Hex64(ulong value) => $"0x{value:x16}";

    public static string Hex32(uint value) => $"0x{value:x8}";

    /// <summary>A content hash as 32 hex digits, or <c>-</c> when none was recorded.</summary>
    public static string ContentHashText(ContentHash hash) => hash.IsNone ? "-" : hash.ToString();

    /// <summary>An addend as a signed suffix: <c>-4</c>, <c>+8</c>, or nothing for 0.</summary>
    public static string AddendSuffix(long addend) => addend switch
    {
        0 => "",
        > 0 => $"+{addend}",
        _ => addend.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Lower-case hex bytes separated by spaces: <c>48 89 c7</c>.</summary>
    public static string HexBytes(ReadOnlySpan<byte> bytes) =>
        string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Names and strings as printed in text tables: every character that does not print as itself
    /// escaped (<see cref="Names.Escape"/>), so that a hostile name cannot break a line, forge another row or reach
    /// the terminal as an escape sequence.</summary>
    public static string Printable(string text) => Names.Escape(text);
}
