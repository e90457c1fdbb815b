using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace AotCache.Format;

/// <summary>
/// A relocation of a function body or data object, with its target named: the one shape in which every part
/// of the toolkit passes relocations (codegen output, the builder, the rewriter, hot-swap updates, the reader's
/// <c>GetFunctionBody</c>). Inside a file a relocation names its target by symbol index; names are resolved
/// once, where a body enters a builder, a file or a module.
/// </summary>
/// <param name="Offset">Offset of the patch field from the start of its owner [REL-3].</param>
/// <param name="Kind">How the field's value is computed (FORMAT.md §10).</param>
/// <param name="Target">Name of the target symbol [REL-5].</param>
/// <param name="Addend">A, in S + A − P or S + A [REL-7].</param>
/// <param name="ExpectedSignatureHash">For function targets, the signature hash the owner was compiled against;
/// 0 records none. Null: "the target's declaration where this body is defined" (the builder, the rewriter or the
/// update resolves it then). Must be null or 0 for data targets [REL-8].</param>
public readonly record struct Relocation(int Offset, RelocationKind Kind, string Target, long Addend, ulong? ExpectedSignatureHash = null);

/// <summary>A content dependency [DEP-1]: the owner inlined <paramref name="Target"/> (or folded its data) as it
/// was when its content hash was <paramref name="ExpectedContentHash"/>.</summary>
public readonly record struct Dependency(string Target, ContentHash ExpectedContentHash);

/// <summary>
/// One compiled function: machine code, relocations, signature, alignment, cache key, CPU features, content
/// dependencies and unwind information. What codegen produces, what <c>CacheBuilder.DefineFunction</c>, <c>CacheRewriter.ReplaceFunction</c>
/// and a hot-swap update take, and what <c>CacheImage.GetFunctionBody</c> returns, so a body moves between them
/// unchanged: carrying an unchanged function into the next version is
/// <c>builder.DefineFunction(handle, image.GetFunctionBody(k))</c>.
/// </summary>
/// <remarks>
/// Construction checks what a body can check alone: code present [FUN-5], alignment [FUN-3], known CPU features
/// [FUN-6] and the relocation list's shape (<see cref="RelocationRules.CheckShape"/>); a violation is an
/// <see cref="ArgumentException"/> naming the requirement. What the targets are is checked where the body is
/// defined, against that scope (<see cref="RelocationRules.CheckTargets"/>). The code is copied: a body is immutable.
/// </remarks>
public sealed record FunctionBody
{
    private readonly int _alignment = DefaultAlignment;
    private readonly CpuFeatures _requiredCpuFeatures;
    private readonly UnwindInfo? _unwind;

    /// <summary>Alignment when none is given: 16, as System V compilers align functions.</summary>
    public const int DefaultAlignment = 16;

    /// <summary>A body of <paramref name="code"/> with its <paramref name="signature"/>, relocations and content dependencies; checks what a body can check alone (see the remarks).</summary>
    public FunctionBody(ReadOnlySpan<byte> code, Signature signature, IEnumerable<Relocation>? relocations = null, IEnumerable<Dependency>? dependencies = null)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (code.IsEmpty) throw new ArgumentException("a function has at least one byte of code [FUN-5]", nameof(code));
        if (code.Length > FormatConstants.MaxFileSize / 2)
            throw new ArgumentException($"{code.Length} bytes of code do not fit one file [LIM-2]", nameof(code));
        Code = ImmutableCollectionsMarshal.AsImmutableArray(code.ToArray());
        Signature = signature;
        Relocations = Sorted(relocations, code.Length);
        Dependencies = dependencies is null ? [] : [.. dependencies];
        foreach (Dependency d in Dependencies) ArgumentException.ThrowIfNullOrEmpty(d.Target, nameof(dependencies));
    }

    /// <summary>The machine code; relocation fields hold whatever the producer left there (zero from the toolkit's codegen).</summary>
    public ImmutableArray<byte> Code { get; }

    /// <summary>The function's type; hot-swap and the rewriter may change a function's signature with a new body.</summary>
    public Signature Signature { get; }

    /// <summary>Relocations sorted by offset.</summary>
    public ImmutableArray<Relocation> Relocations { get; }

    /// <summary>Content dependencies [DEP-1].</summary>
    public ImmutableArray<Dependency> Dependencies { get; init; }

    /// <summary>Alignment of the first byte: a power of two from 1 to 4096 [FUN-3].</summary>
    public int Alignment
    {
        get => _alignment;
        init
        {
            if (value < 1 || value > FormatConstants.MaxAlignment || (value & (value - 1)) != 0)
                throw new ArgumentOutOfRangeException(nameof(Alignment), value, $"alignment must be a power of two from 1 to {FormatConstants.MaxAlignment} [FUN-3]");
            _alignment = value;
        }
    }

    /// <summary>The front end's cache key for the function; zero when none.</summary>
    public ContentHash ContentHash { get; init; }

    /// <summary>Instruction-set extensions the code uses [FUN-6].</summary>
    public CpuFeatures RequiredCpuFeatures
    {
        get => _requiredCpuFeatures;
        init
        {
            if ((value & ~CpuFeatures.AllKnown) != 0)
                throw new ArgumentOutOfRangeException(nameof(RequiredCpuFeatures), value, $"unknown CPU feature bits 0x{(ulong)(value & ~CpuFeatures.AllKnown):x} [FUN-6]");
            _requiredCpuFeatures = value;
        }
    }

    /// <summary>
    /// How the function's frame changes through its code (FORMAT.md §19), for unwinders, debuggers and profilers; null
    /// when the producer gives none (the file then has no unwind entry for the function, and an unwinder stops there).
    /// The toolkit's code generator describes every function it generates. Each location must lie inside the code [UNW-5].
    /// </summary>
    public UnwindInfo? Unwind
    {
        get => _unwind;
        init
        {
            if (value is not null && UnwindRules.CheckProgram(value.Program.AsSpan(), Code.Length) is { } problem)
                throw new ArgumentException($"{problem} [UNW-5]", nameof(Unwind));
            _unwind = value;
        }
    }

    /// <summary>A relocation list sorted by offset and checked against an owner of <paramref name="ownerSize"/>
    /// bytes (<see cref="RelocationRules.CheckShape"/>); what data objects' relocations go through too.</summary>
    public static ImmutableArray<Relocation> Sorted(IEnumerable<Relocation>? relocations, int ownerSize)
    {
        if (relocations is null) return [];
        Relocation[] ordered = [.. relocations];
        foreach (Relocation r in ordered) ArgumentException.ThrowIfNullOrEmpty(r.Target, nameof(relocations));
        // Codegen gives offset order; only other producers pay for a sort (stable, so a duplicate is reported as an overlap).
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i - 1].Offset > ordered[i].Offset)
            {
                ordered = [.. ordered.OrderBy(r => r.Offset)];
                break;
            }
        if (RelocationRules.CheckShape(ordered, ownerSize) is { } problem)
            throw new ArgumentException(problem.ToString(), nameof(relocations));
        return ImmutableCollectionsMarshal.AsImmutableArray(ordered);
    }

    /// <summary>Whether <paramref name="other"/> has the same code, signature, relocations, dependencies, alignment, content hash and CPU features.</summary>
    public bool Equals(FunctionBody? other) =>
        other is not null && Code.AsSpan().SequenceEqual(other.Code.AsSpan()) && Signature.Equals(other.Signature)
        && Relocations.SequenceEqual(other.Relocations) && Dependencies.SequenceEqual(other.Dependencies)
        && Alignment == other.Alignment && ContentHash == other.ContentHash && RequiredCpuFeatures == other.RequiredCpuFeatures
        && Equals(Unwind, other.Unwind);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Code.Length, Signature, ContentHash, Relocations.Length);
}
