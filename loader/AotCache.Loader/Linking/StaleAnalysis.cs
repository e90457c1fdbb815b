using AotCache.Format;

namespace AotCache.Loader.Linking;

/// <summary>A relocation whose owner was compiled against a signature its target no longer has [LOAD-5].</summary>
/// <param name="OwnerIsFunction">True when the owner is a function, false for a data object.</param>
/// <param name="Owner">Index in the function or data object table.</param>
public readonly record struct StaleReference(bool OwnerIsFunction, int Owner, int Relocation, int TargetSymbol, ulong ExpectedHash, ulong ActualHash);

/// <summary>Finds stale references in a validated image: O(relocations), no allocation unless some are stale.</summary>
public static class StaleAnalysis
{
    public static List<StaleReference> Find(CacheImage image)
    {
        var stale = new List<StaleReference>();
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        ReadOnlySpan<DeclarationRecord> declarations = image.Declarations;
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        for (int f = 0; f < functions.Length; f++)
            Scan(image.RelocationsOf(functions[f]), (int)functions[f].FirstRelocation, true, f, symbols, declarations, stale);
        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        for (int d = 0; d < data.Length; d++)
            Scan(image.RelocationsOf(data[d]), (int)data[d].FirstRelocation, false, d, symbols, declarations, stale);
        return stale;
    }

    private static void Scan(ReadOnlySpan<RelocationRecord> relocations, int first, bool isFunction, int owner,
        ReadOnlySpan<SymbolRecord> symbols, ReadOnlySpan<DeclarationRecord> declarations, List<StaleReference> stale)
    {
        for (int k = 0; k < relocations.Length; k++)
        {
            ref readonly RelocationRecord r = ref relocations[k];
            if (r.ExpectedSignatureHash == 0) continue;
            ref readonly SymbolRecord target = ref symbols[(int)r.Target];
            if (target.Kind is not (SymbolKind.Function or SymbolKind.ImportFunction)) continue;
            ulong actual = declarations[(int)target.Declaration].SignatureHash;
            if (actual != r.ExpectedSignatureHash)
                stale.Add(new StaleReference(isFunction, owner, first + k, (int)r.Target, r.ExpectedSignatureHash, actual));
        }
    }

    /// <summary>"main calls add compiled against sysv (i64) -> i64, but add is now sysv (i64, i64) -> i64".</summary>
    public static string Describe(CacheImage image, in StaleReference s)
    {
        string owner = image.SymbolName((int)(s.OwnerIsFunction ? image.Functions[s.Owner].Symbol : image.DataObjects[s.Owner].Symbol));
        string target = image.SymbolName(s.TargetSymbol);
        return $"{owner} refers to {target} compiled against {SignatureText(image, s.ExpectedHash)}, but {target} is now {SignatureText(image, s.ActualHash)}";
    }

    /// <summary>A signature by hash: its text when some declaration of the file has it, else the hash.</summary>
    public static string SignatureText(CacheImage image, ulong hash)
    {
        ReadOnlySpan<DeclarationRecord> declarations = image.Declarations;
        for (int i = 0; i < declarations.Length; i++)
            if (declarations[i].SignatureHash == hash) return $"{image.GetSignature(i)} (0x{hash:x16})";
        return $"the signature with hash 0x{hash:x16}";
    }
}
