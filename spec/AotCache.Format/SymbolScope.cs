using System.Diagnostics.CodeAnalysis;

namespace AotCache.Format;

/// <summary>What a symbol is, seen from code that refers to it: its kind, and for functions and imported
/// functions its signature.</summary>
public readonly record struct SymbolInfo(SymbolKind Kind, Signature? Signature);

/// <summary>
/// Answers "what is the symbol named N here". Codegen compiles against a scope (it chooses a call's relocation
/// kind and records the signature it compiled against), and every place a body is defined checks its relocations
/// against one (<see cref="RelocationRules.CheckTargets"/>). A <c>CacheBuilder</c>, a <c>CacheImage</c> and a
/// <c>LoadedModule</c> are scopes; <see cref="SymbolScope"/> makes one from a list.
/// </summary>
public interface ISymbolScope
{
    /// <summary>The symbol named <paramref name="name"/>, or false when there is none.</summary>
    bool TryGetSymbol(string name, out SymbolInfo symbol);
}

/// <summary>
/// A scope of symbols added by name, optionally laid over another scope: e.g. a file's symbols with the new
/// signatures of the functions an edit re-declares.
/// </summary>
public sealed class SymbolScope(ISymbolScope? fallback = null) : ISymbolScope
{
    private readonly Dictionary<string, SymbolInfo> _symbols = new(StringComparer.Ordinal);

    /// <summary>Adds (or replaces) a symbol. Functions and imported functions need a signature; data must have none.</summary>
    public SymbolScope Add(string name, SymbolKind kind, Signature? signature = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!RelocationRules.IsKnown(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown symbol kind");
        if (RelocationRules.IsCallable(kind) != signature is not null)
            throw new ArgumentException(signature is null ? $"function {Names.Quote(name)} needs a signature" : $"data {Names.Quote(name)} has no signature", nameof(signature));
        _symbols[name] = new SymbolInfo(kind, signature);
        return this;
    }

    /// <inheritdoc/>
    public bool TryGetSymbol(string name, out SymbolInfo symbol) =>
        _symbols.TryGetValue(name, out symbol) || (fallback is not null && fallback.TryGetSymbol(name, out symbol));
}

/// <summary>Lookups over any scope.</summary>
public static class SymbolScopes
{
    /// <summary>The symbol named <paramref name="name"/>; a <see cref="KeyNotFoundException"/> naming it when absent.</summary>
    public static SymbolInfo Get(this ISymbolScope scope, string name)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return scope.TryGetSymbol(name, out SymbolInfo symbol) ? symbol : throw new KeyNotFoundException($"no symbol named {Names.Quote(name)} in this scope");
    }

    /// <summary>The signature hash a reference to <paramref name="target"/> records when compiled against
    /// <paramref name="scope"/>: the callable target's declaration; null for data.</summary>
    public static bool TryGetSignature(this ISymbolScope scope, string target, [NotNullWhen(true)] out Signature? signature)
    {
        signature = scope.TryGetSymbol(target, out SymbolInfo s) ? s.Signature : null;
        return signature is not null;
    }
}
