namespace AotCache.Tools.CacheDump;

/// <summary>One run of the tool, as the command line asked for it.</summary>
/// <param name="Paths">The files, as the user wrote them, dumped or verified one after the other.</param>
/// <param name="Verify">Validate only and print one verdict per file.</param>
/// <param name="Json">Print the dump, the verdicts and the errors as JSON instead of text.</param>
/// <param name="Sections">The parts of the dump to print.</param>
/// <param name="Strict">With <paramref name="Verify"/>: also report the SHOULD-level findings ([REC-n]) of a valid file.</param>
/// <param name="Trust">With <paramref name="Verify"/>: the trusted keys, as written after <c>--trust</c> (<see cref="TrustedKeys"/>).</param>
/// <param name="RequireSignature">With <paramref name="Verify"/>: refuse an unsigned file [AUTH-3].</param>
internal sealed record DumpRequest(IReadOnlyList<string> Paths, bool Verify, bool Json, IReadOnlySet<DumpSection> Sections, bool Strict = false,
    IReadOnlyList<string>? Trust = null, bool RequireSignature = false)
{
    /// <summary>Which functions, data objects and symbols the dump shows (<c>--function</c>, <c>--symbol</c>).</summary>
    public DumpFilter Filter { get; init; } = DumpFilter.All;

    /// <summary>Sections to print as hex instead of the dump (<c>--hex</c>), by kind.</summary>
    public IReadOnlyList<uint> HexSections { get; init; } = [];

    /// <summary>Explain why this function or data object is stale instead of dumping (<c>--why-stale</c>).</summary>
    public string? WhyStale { get; init; }
}

/// <summary>The parts of a dump, in the order they are printed.</summary>
internal enum DumpSection
{
    Header,
    Sections,
    Fingerprint,
    Declarations,
    Symbols,
    Functions,
    Data,
    Relocations,
    Dependencies,
    Signature,
    Disassembly,
}

/// <summary>Names of the dump's parts on the command line (<c>--section NAME</c>), matched without regard to case.</summary>
internal static class DumpSections
{
    public static IEnumerable<string> Names => Enum.GetValues<DumpSection>().Select(Name);

    public static string Name(DumpSection section) => section.ToString().ToLowerInvariant();

    /// <summary>The part named <paramref name="name"/> (any case), or null.</summary>
    public static DumpSection? Parse(string name)
    {
        foreach (DumpSection s in Enum.GetValues<DumpSection>())
            if (string.Equals(Name(s), name, StringComparison.OrdinalIgnoreCase)) return s;
        return null;
    }

    /// <summary>The parts named on the command line, or all of them when none is; the disassembly only if wanted.</summary>
    public static IReadOnlySet<DumpSection> Select(string[]? names, bool disassemble)
    {
        var selected = names is { Length: > 0 }
            ? names.Select(n => Parse(n) ?? throw new ArgumentException($"unknown dump part '{n}'", nameof(names))).ToHashSet()
            : Enum.GetValues<DumpSection>().ToHashSet();
        if (!disassemble) selected.Remove(DumpSection.Disassembly);
        return selected;
    }
}

/// <summary>Section kinds on the command line (<c>--hex KIND</c>): a FORMAT.md name in any case (<c>code</c>,
/// <c>Relocations</c>), or a number, decimal or <c>0x</c> hex (private kinds: <c>0x80004e49</c>).</summary>
internal static class SectionKinds
{
    public static uint? Parse(string text)
    {
        foreach (Format.SectionKind k in Enum.GetValues<Format.SectionKind>())
            if (string.Equals(k.ToString(), text, StringComparison.OrdinalIgnoreCase)) return (uint)k;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(text.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out uint hex))
            return hex;
        return uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint n) ? n : null;
    }

    /// <summary>A section kind as the dumps print it: its FORMAT.md name, else (private and unknown kinds) hex,
    /// <c>0x80004e49</c>, the way producers write them.</summary>
    public static string Name(uint kind) =>
        Enum.IsDefined((Format.SectionKind)kind) ? ((Format.SectionKind)kind).ToString() : $"0x{kind:x8}";
}
