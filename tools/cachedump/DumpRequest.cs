namespace AotCache.Tools.CacheDump;

/// <summary>One run of the tool, as the command line asked for it.</summary>
/// <param name="Path">The file, as the user wrote it.</param>
/// <param name="Verify">Validate only and print one line.</param>
/// <param name="Json">Print the dump as JSON instead of text.</param>
/// <param name="Sections">The parts of the dump to print.</param>
/// <param name="Strict">With <paramref name="Verify"/>: also report the SHOULD-level findings ([REC-n]) of a valid file.</param>
/// <param name="Trust">With <paramref name="Verify"/>: the trusted keys, as written after <c>--trust</c> (<see cref="TrustedKeys"/>).</param>
/// <param name="RequireSignature">With <paramref name="Verify"/>: refuse an unsigned file [AUTH-3].</param>
internal sealed record DumpRequest(string Path, bool Verify, bool Json, IReadOnlySet<DumpSection> Sections, bool Strict = false,
    IReadOnlyList<string>? Trust = null, bool RequireSignature = false);

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
    Unwind,
    Signature,
    Disassembly,
}

/// <summary>Names of the dump's parts on the command line (<c>--section NAME</c>).</summary>
internal static class DumpSections
{
    public static IEnumerable<string> Names => Enum.GetValues<DumpSection>().Select(Name);

    public static string Name(DumpSection section) => section.ToString().ToLowerInvariant();

    /// <summary>The parts named on the command line, or all of them when none is; the disassembly only if wanted.</summary>
    public static IReadOnlySet<DumpSection> Select(string[]? names, bool disassemble)
    {
        var selected = names is { Length: > 0 }
            ? names.Select(n => Enum.GetValues<DumpSection>().First(s => Name(s) == n)).ToHashSet()
            : Enum.GetValues<DumpSection>().ToHashSet();
        if (!disassemble) selected.Remove(DumpSection.Disassembly);
        return selected;
    }
}
