using System.Text.Json;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Tools.CacheDump;

/// <summary>One reason a function or data object is stale, as the loader's <see cref="StaleAnalysis"/> found it.</summary>
/// <param name="Requirement">[LOAD-5] for a signature, [DEP-2] for content.</param>
/// <param name="Record">"relocation" or "dependency": the table of <paramref name="Index"/>.</param>
/// <param name="Message">The loader's own words (<see cref="StaleAnalysis.Describe"/>), names escaped.</param>
/// <param name="Depth">In an explanation (<c>--why-stale</c>): 0 for the function asked about, 1 for a function it depends
/// on, and so on.</param>
internal sealed record StaleReason(string Owner, bool OwnerIsFunction, StaleKind Kind, string Requirement, string Record, int Index,
    string Target, string Message, int Depth = 0);

/// <summary>
/// The stale functions and data objects of a valid file, which the default (strict) loader refuses to load
/// [LOAD-5] [DEP-2]: what <c>--verify</c> reports and <c>--why-stale</c> explains. Everything comes from the
/// loader's <see cref="StaleAnalysis"/> (through <see cref="ImageFacts.Stale"/>): the rules are not restated here.
/// </summary>
internal sealed class StaleReport
{
    private readonly CacheImage _image;
    private readonly IReadOnlyList<StaleReference> _stale;

    public StaleReport(CacheImage image, ImageFacts facts)
    {
        _image = image;
        _stale = facts.Stale;
    }

    public bool Any => _stale.Count > 0;

    /// <summary>The stale owners (functions first, then data objects, each in table order), each with its reasons in
    /// the analysis's order.</summary>
    public IReadOnlyList<(string Owner, bool IsFunction, IReadOnlyList<StaleReason> Reasons)> Owners()
    {
        return [.. _stale.GroupBy(s => (s.OwnerIsFunction, s.Owner))
            .OrderBy(g => g.Key.OwnerIsFunction ? 0 : 1).ThenBy(g => g.Key.Owner)
            .Select(g => (OwnerName(g.First()), g.Key.OwnerIsFunction, (IReadOnlyList<StaleReason>)[.. g.Select(s => Reason(s, 0))]))];
    }

    /// <summary>Whether a function or data object of this name exists.</summary>
    public bool Defines(string name)
    {
        int symbol = _image.FindSymbol(name);
        return symbol >= 0 && _image.Symbols[symbol].Kind is SymbolKind.Function or SymbolKind.Data;
    }

    /// <summary>
    /// Why <paramref name="name"/> is stale: its own reasons, and under each reason that is another function being stale
    /// ([DEP-2], transitively), that function's reasons, down to the signature or content change that started it. Each
    /// function is explained once (the analysis's records form a DAG or worse; a cycle stops at a function already shown).
    /// Empty when <paramref name="name"/> is not stale.
    /// </summary>
    public IReadOnlyList<StaleReason> Explain(string name)
    {
        int symbol = _image.FindSymbol(name);
        if (symbol < 0) return [];
        SymbolRecord record = _image.Symbols[symbol];
        bool isFunction = record.Kind == SymbolKind.Function;
        var byOwner = _stale.ToLookup(s => (s.OwnerIsFunction, s.Owner));
        var chain = new List<StaleReason>();
        var shown = new HashSet<(bool, int)>();
        void Walk(bool ownerIsFunction, int owner, int depth)
        {
            if (!shown.Add((ownerIsFunction, owner))) return;
            foreach (StaleReference s in byOwner[(ownerIsFunction, owner)])
            {
                chain.Add(Reason(s, depth));
                if (s.Kind == StaleKind.TransitiveContent && _image.Symbols[s.TargetSymbol].Kind == SymbolKind.Function)
                    Walk(true, (int)_image.Symbols[s.TargetSymbol].Definition, depth + 1);
            }
        }
        if (record.Definition != FormatConstants.NoIndex) Walk(isFunction, (int)record.Definition, 0);
        return chain;
    }

    private StaleReason Reason(in StaleReference s, int depth) => new(
        OwnerName(s), s.OwnerIsFunction, s.Kind,
        s.Kind == StaleKind.Signature ? "LOAD-5" : "DEP-2",
        s.Kind == StaleKind.Signature ? "relocation" : "dependency", s.Record,
        _image.SymbolName(s.TargetSymbol), StaleAnalysis.Describe(_image, s), depth);

    private string OwnerName(in StaleReference s) =>
        _image.SymbolName((int)(s.OwnerIsFunction ? _image.Functions[s.Owner].Symbol : _image.DataObjects[s.Owner].Symbol));

    /// <summary>A reason as a text line: <c>[LOAD-5] caller refers to … (relocation 1)</c>.</summary>
    public static string Line(StaleReason r) => $"[{r.Requirement}] {r.Message} ({r.Record} {r.Index})";

    public static void WriteJson(Utf8JsonWriter json, StaleReason r, bool withDepth)
    {
        json.WriteStartObject();
        json.WriteString("owner", r.Owner);
        json.WriteString("ownerKind", r.OwnerIsFunction ? "function" : "data");
        if (withDepth) json.WriteNumber("depth", r.Depth);
        json.WriteString("kind", r.Kind.ToString());
        json.WriteString("requirement", r.Requirement);
        json.WriteString("record", r.Record);
        json.WriteNumber("index", r.Index);
        json.WriteString("target", r.Target);
        json.WriteString("message", r.Message);
        json.WriteEndObject();
    }
}
