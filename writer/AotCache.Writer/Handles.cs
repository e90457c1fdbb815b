using AotCache.Format;

namespace AotCache.Writer;

/// <summary>A declaration (function type) added to one <see cref="CacheBuilder"/>. A handle knows its builder:
/// passing it to another builder is an <see cref="ArgumentException"/>, never a silent mix-up.</summary>
public readonly record struct DeclarationHandle
{
    internal DeclarationHandle(CacheBuilder builder, int index)
    {
        Builder = builder;
        Index = index;
    }

    internal CacheBuilder? Builder { get; }
    internal int Index { get; }

    /// <summary>The function type this handle stands for.</summary>
    public Signature Signature => Builder?.GetSignature(this) ?? throw new InvalidOperationException("a default DeclarationHandle stands for nothing");

    /// <inheritdoc/>
    public override string ToString() => Builder is null ? "(none)" : Signature.ToString();
}

/// <summary>A symbol (function, data object or import) added to one <see cref="CacheBuilder"/>. The file's symbol
/// index is decided when the file is laid out; inside the builder a symbol is known by this handle or its name.</summary>
public readonly record struct SymbolHandle
{
    internal SymbolHandle(CacheBuilder builder, int index)
    {
        Builder = builder;
        Index = index;
    }

    internal CacheBuilder? Builder { get; }
    internal int Index { get; }

    /// <summary>The name the symbol was added with: what a <see cref="Relocation"/> or <see cref="Dependency"/> names it by.</summary>
    public string Name => Builder?.GetSymbolName(this) ?? throw new InvalidOperationException("a default SymbolHandle stands for nothing");

    /// <inheritdoc/>
    public override string ToString() => Builder is null ? "(none)" : Name;
}

/// <summary>Architecture, ABI and operating system the code of a file is for.</summary>
public sealed record TargetDescription(Architecture Architecture, Abi Abi, TargetOs Os)
{
    /// <summary>x86-64, System V AMD64 ABI, Linux.</summary>
    public static readonly TargetDescription LinuxX64 = new(Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux);
}
