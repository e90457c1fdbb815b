using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using AotCache.Codegen;
using AotCache.Demo.Language;
using AotCache.Format;

namespace AotCache.Demo.Build;

/// <summary>The inputs a function's cache key covers. All of them, always, except in tests that prove
/// <c>--verify-cache</c> catches a key with a missing input.</summary>
[Flags]
public enum KeyInputs
{
    None = 0,
    /// <summary>The function's own tokens (not its whitespace or comments).</summary>
    SourceTokens = 1,
    /// <summary>The signature of every function and extern it calls: how arguments and results travel.</summary>
    CalleeSignatures = 2,
    /// <summary>The type and mutability of every global it reads or writes: how the access is encoded.</summary>
    GlobalTypes = 4,
    /// <summary>The compiler's version.</summary>
    CompilerVersion = 8,
    /// <summary>Code generation options (how imports are called, how globals are addressed).</summary>
    CodegenOptions = 16,
    All = SourceTokens | CalleeSignatures | GlobalTypes | CompilerVersion | CodegenOptions,
}

/// <summary>Code generation options of a build; part of every cache key.</summary>
public sealed record CodegenSettings(ImportCallStyle ImportCalls = ImportCallStyle.Thunk, GlobalAccessStyle GlobalAccess = GlobalAccessStyle.RipRelative)
{
    public static readonly CodegenSettings Default = new();

    public IrCompileOptions ToCompileOptions(string producer) => new() { Producer = producer, ImportCalls = ImportCalls, GlobalAccess = GlobalAccess };

    public override string ToString() => $"imports={ImportCalls};globals={GlobalAccess}";
}

/// <summary>
/// A function's cache key (the content hash stored in its function record): XxHash128 over its normalized
/// source — the kind and text of each of its tokens — the declarations of the top-level names it refers to,
/// the compiler version and the codegen options. Those are everything its machine code depends on: the
/// bodies of its callees are not (calls go through relocations), so editing a callee's body never
/// invalidates its callers, while changing a callee's signature does.
/// </summary>
public static class CacheKey
{
    /// <summary>Changes whenever the front end or the code generator would emit different code for the same source.
    /// Codegen 2 describes every function's frame (unwind information, FORMAT.md §19).</summary>
    public const string CompilerVersion = "nib 1.0 (AotCache.Codegen 2)";

    /// <summary>XxHash128 of the function's tokens alone: kind bytes, and for names and numbers their text.</summary>
    public static UInt128 TokenHash(ProgramSyntax program, ItemSyntax item)
    {
        var hash = new XxHash128();
        IReadOnlyList<Token> tokens = program.Tokens;
        var (offset, length) = item.Tokens.GetOffsetAndLength(tokens.Count);
        Span<byte> header = stackalloc byte[5];
        for (int i = offset; i < offset + length; i++)
        {
            Token t = tokens[i];
            header[0] = (byte)t.Kind;
            if (!t.HasText)
            {
                hash.Append(header[..1]);
                continue;
            }
            BinaryPrimitives.WriteInt32LittleEndian(header[1..], t.Length);
            hash.Append(header);
            hash.Append(MemoryMarshal.AsBytes(program.Source[t.Span]));
        }
        return hash.GetCurrentHashAsUInt128();
    }

    /// <summary>The cache key of a function, from its token hash and the current declarations of its references.</summary>
    public static ContentHash Of(UInt128 tokenHash, IReadOnlyList<string> references, IDeclarations declarations,
        CodegenSettings settings, KeyInputs inputs = KeyInputs.All)
    {
        var hash = new XxHash128();
        Span<byte> scratch = stackalloc byte[16];
        Text(hash, "nib-key-1");
        if (inputs.HasFlag(KeyInputs.CompilerVersion)) Text(hash, CompilerVersion);
        if (inputs.HasFlag(KeyInputs.CodegenOptions)) Text(hash, settings.ToString());
        if (inputs.HasFlag(KeyInputs.SourceTokens))
        {
            BinaryPrimitives.WriteUInt128LittleEndian(scratch, tokenHash);
            hash.Append(scratch);
        }
        foreach (string name in references)
        {
            if (!declarations.TryGet(name, out Declaration? d)) throw new InvalidOperationException($"internal: '{name}' has no declaration");
            bool include = d.IsFunction ? inputs.HasFlag(KeyInputs.CalleeSignatures) : inputs.HasFlag(KeyInputs.GlobalTypes);
            if (!include) continue;
            Text(hash, name);
            scratch[0] = (byte)d.Kind;
            hash.Append(scratch[..1]);
            if (d.IsFunction) hash.Append(d.Signature.Encoding.AsSpan());
            else
            {
                scratch[0] = (byte)d.GlobalType;
                scratch[1] = d.Writable ? (byte)1 : (byte)0;
                hash.Append(scratch[..2]);
            }
        }
        UInt128 h = hash.GetCurrentHashAsUInt128();
        return new ContentHash((ulong)h, (ulong)(h >> 64));
    }

    /// <summary>The content hash of a global's data object: its type and initial bits.</summary>
    public static ContentHash OfGlobal(Codegen.Ir.IrGlobal g)
    {
        Span<byte> bytes = stackalloc byte[10];
        bytes[0] = (byte)g.Type;
        bytes[1] = g.Writable ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes[2..], g.InitialBits);
        return ContentHash.Of(bytes);
    }

    private static void Text(XxHash128 hash, string text)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, text.Length);
        hash.Append(length);
        hash.Append(MemoryMarshal.AsBytes(text.AsSpan()));
    }
}
