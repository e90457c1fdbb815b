using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Format;

namespace AotCache.Demo.Language;

/// <summary>What a top-level name is.</summary>
public enum DeclarationKind : byte
{
    Function = 1,
    Extern = 2,
    Global = 3,
}

/// <summary>Looks up top-level names: a <see cref="DeclarationTable"/> built from source, or a view over a cache
/// for incremental builds that do not parse what did not change.</summary>
public interface IDeclarations
{
    bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Declaration? declaration);
}

/// <summary>
/// A top-level name as other code sees it: a function's signature, or a global's type and mutability. A
/// function's cache key includes the declaration of every name it refers to, since its machine code
/// depends on them (how arguments are passed, how a global is loaded) but not on their bodies.
/// </summary>
public sealed record Declaration(string Name, DeclarationKind Kind, IReadOnlyList<IrType> Parameters, IrType? Result,
    IrType GlobalType, bool Writable, TextSpan NameSpan)
{
    public bool IsFunction => Kind is DeclarationKind.Function or DeclarationKind.Extern;

    public Signature Signature => IrCompiler.SignatureOf(Parameters, Result);

    public static Declaration ForFunction(FunctionSyntax f) =>
        new(f.Name, f.IsExtern ? DeclarationKind.Extern : DeclarationKind.Function,
            [.. f.Parameters.Select(p => p.Type.Type)], f.Result?.Type, default, false, f.NameSpan);

    public static Declaration ForGlobal(GlobalSyntax g) => new(g.Name, DeclarationKind.Global, [], null, g.Type.Type, g.Writable, g.NameSpan);

    /// <summary>True when code compiled against <paramref name="other"/> is also right for this declaration.</summary>
    public bool SameInterface(Declaration other) =>
        Kind == other.Kind && (IsFunction ? Signature.Equals(other.Signature) : GlobalType == other.GlobalType && Writable == other.Writable);

    /// <summary>As written in Nib, for messages: <c>fn f(i64) -> f64</c>, <c>var g: i64</c>.</summary>
    public string Describe() => Kind switch
    {
        DeclarationKind.Global => $"{(Writable ? "var" : "const")} {Name}: {TypeName(GlobalType)}",
        _ => $"{(Kind == DeclarationKind.Extern ? "extern fn" : "fn")} {Name}({string.Join(", ", Parameters.Select(TypeName))})"
            + (Result is { } r ? $" -> {TypeName(r)}" : ""),
    };

    public static string TypeName(IrType t) => t == IrType.I64 ? "i64" : "f64";
}
