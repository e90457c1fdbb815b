using System.Diagnostics.CodeAnalysis;
using AotCache.Codegen.Ir;
using AotCache.Demo.Language;
using AotCache.Format;
using AotCache.Reader;

namespace AotCache.Demo.Build;

/// <summary>
/// The declarations of a program as its cache records them — function and extern signatures from the
/// declaration table, global types from the front end's index — with the declarations of re-parsed
/// functions laid over them. Names are looked up in the symbol table in place (binary search): an
/// incremental build binds a few functions without decoding the thousands it does not touch.
/// </summary>
internal sealed class CacheDeclarations(CacheImage image, NibIndex index) : IDeclarations
{
    private readonly Dictionary<string, Declaration> _overrides = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Declaration?> _cached = new(StringComparer.Ordinal);

    public void Override(Declaration declaration) => _overrides[declaration.Name] = declaration;

    public bool TryGet(string name, [NotNullWhen(true)] out Declaration? declaration)
    {
        if (_overrides.TryGetValue(name, out declaration)) return true;
        if (!_cached.TryGetValue(name, out declaration))
            _cached[name] = declaration = FromCache(name);
        return declaration is not null;
    }

    /// <summary>The declaration a name had in the cached build, or null.</summary>
    public Declaration? FromCache(string name)
    {
        int s = image.FindSymbol(name);
        if (s < 0) return null;
        SymbolRecord symbol = image.Symbols[s];
        switch (symbol.Kind)
        {
            case SymbolKind.Function or SymbolKind.ImportFunction:
            {
                Signature signature = image.GetSignature((int)symbol.Declaration);
                if (!TryIr(signature.Parameters, out IrType[] parameters) || !TryIr(signature.Results, out IrType[] results)) return null;
                return new Declaration(name, symbol.Kind == SymbolKind.Function ? DeclarationKind.Function : DeclarationKind.Extern,
                    parameters, results.Length == 0 ? null : results[0], default, false, default);
            }
            case SymbolKind.Data when index.TryGetGlobal(name, out IrType type, out bool writable):
                return new Declaration(name, DeclarationKind.Global, [], null, type, writable, default);
            default:
                return null;
        }
    }

    private static bool TryIr(IReadOnlyList<ScalarType> types, out IrType[] ir)
    {
        ir = new IrType[types.Count];
        for (int i = 0; i < ir.Length; i++)
        {
            if (types[i] is not (ScalarType.I64 or ScalarType.F64)) return false;
            ir[i] = types[i] == ScalarType.I64 ? IrType.I64 : IrType.F64;
        }
        return true;
    }
}
