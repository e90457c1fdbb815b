using AotCache.Format;

namespace AotCache.Writer;

/// <summary>A declaration (function type) added to one <see cref="CacheBuilder"/>.</summary>
public readonly record struct DeclarationHandle(int Index);

/// <summary>A symbol (function, data object or import) added to one <see cref="CacheBuilder"/>.
/// The index is the builder's own; the file's symbol index is decided when the file is laid out.</summary>
public readonly record struct SymbolHandle(int Index);

/// <summary>Architecture, ABI and operating system the code of a file is for.</summary>
public sealed record TargetDescription(Architecture Architecture, Abi Abi, TargetOs Os)
{
    /// <summary>x86-64, System V AMD64 ABI, Linux.</summary>
    public static readonly TargetDescription LinuxX64 = new(Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux);
}

/// <summary>
/// A relocation as a front end states it: patch <paramref name="Offset"/> bytes into the owner
/// (function code or data object) with <paramref name="Kind"/> against <paramref name="Target"/>.
/// </summary>
/// <param name="ExpectedSignatureHash">The signature hash the owner was compiled against when the
/// target is a function. Null means "the target's current declaration"; it must stay null for
/// data targets.</param>
public readonly record struct Relocation(
    int Offset, RelocationKind Kind, SymbolHandle Target, long Addend, ulong? ExpectedSignatureHash = null);

/// <summary>Options of one function definition.</summary>
public sealed record FunctionOptions
{
    public static readonly FunctionOptions Default = new();

    /// <summary>Alignment of the function's first byte in the code section: a power of two up to 4096.</summary>
    public int Alignment { get; init; } = 16;

    /// <summary>The front end's cache key for the function.</summary>
    public ContentHash ContentHash { get; init; }

    /// <summary>Instruction-set extensions the function's code uses.</summary>
    public CpuFeatures RequiredCpuFeatures { get; init; }
}
