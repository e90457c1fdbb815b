using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Loader;
using L = AotCache.Native.CLayout;

namespace AotCache.Native;

/// <summary>
/// Reads what a C caller passed (strings, byte buffers, the structs of aotcache.h) and writes through its
/// out-pointers. Pointers arrive as <see cref="nint"/> and are only ever read or written through <see cref="Marshal"/>,
/// at the offsets of <see cref="CLayout"/>: the library needs no unsafe code. A NULL where something is required is an
/// <see cref="ArgumentNullException"/> naming the parameter as aotcache.h does.
/// </summary>
internal static class CArgs
{
    public static string String(nint p, string what) =>
        p == 0 ? throw Null(what) : Marshal.PtrToStringUTF8(p)!;

    public static byte[] Bytes(nint p, nuint size, string what)
    {
        if (size == 0) return [];
        if (p == 0) throw Null(what);
        if (size > int.MaxValue) throw new ArgumentOutOfRangeException(null, $"{what}: {size} bytes is more than this library takes in one buffer");
        var bytes = new byte[(int)size];
        Marshal.Copy(p, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>A canonical signature encoding (FORMAT.md §6.2).</summary>
    public static Signature Signature(nint p, nuint size, string what)
    {
        if (p == 0 && size == 0) throw Null(what);
        byte[] encoding = Bytes(p, size, what);
        return Format.Signature.TryDecode(encoding, out string? error, out int at) ??
            throw new ArgumentException($"{what} is not a canonical signature encoding [SIG-1]: {error} (at byte {at} of {Convert.ToHexStringLower(encoding)})");
    }

    /// <summary>A signature, or null for (NULL, 0).</summary>
    public static Signature? OptionalSignature(nint p, nuint size, string what) => p == 0 && size == 0 ? null : Signature(p, size, what);

    public static void WritePointer(nint destination, nint value, string what)
    {
        if (destination == 0) throw Null(what);
        Marshal.WriteIntPtr(destination, value);
    }

    public static void WriteUInt64(nint destination, ulong value, string what)
    {
        if (destination == 0) throw Null(what);
        Marshal.WriteInt64(destination, (long)value);
    }

    public static void WriteUInt32(nint destination, uint value, string what)
    {
        if (destination == 0) throw Null(what);
        Marshal.WriteInt32(destination, (int)value);
    }

    public static void CheckOut(nint destination, string what)
    {
        if (destination == 0) throw Null(what);
    }

    /// <summary>An <c>aotcache_function_body</c>: copied, so the caller may reuse its buffers at once.</summary>
    public static FunctionBody FunctionBody(nint p, string what)
    {
        if (p == 0) throw Null(what);
        byte[] code = Bytes(Marshal.ReadIntPtr(p, L.FunctionBody.Code), Size(p, L.FunctionBody.CodeSize), $"{what}->code");
        if (code.Length == 0) throw new ArgumentException($"{what}->code is empty: a function has at least one byte of code [FUN-5]");
        Signature signature = Signature(Marshal.ReadIntPtr(p, L.FunctionBody.Signature), Size(p, L.FunctionBody.SignatureSize), $"{what}->signature");
        Relocation[] relocations = Relocations(Marshal.ReadIntPtr(p, L.FunctionBody.Relocations), Size(p, L.FunctionBody.RelocationCount), $"{what}->relocations");
        Dependency[] dependencies = Dependencies(Marshal.ReadIntPtr(p, L.FunctionBody.Dependencies), Size(p, L.FunctionBody.DependencyCount), $"{what}->dependencies");
        uint alignment = (uint)Marshal.ReadInt32(p, L.FunctionBody.Alignment);
        if (Marshal.ReadInt32(p, L.FunctionBody.Reserved) != 0) throw new ArgumentException($"{what}->reserved must be zero");
        if (alignment > FormatConstants.MaxAlignment)
            throw new ArgumentOutOfRangeException(null, $"{what}->alignment {alignment} is not a power of two from 1 to {FormatConstants.MaxAlignment} [FUN-3]");
        return new FunctionBody(code, signature, relocations, dependencies)
        {
            Alignment = alignment == 0 ? Format.FunctionBody.DefaultAlignment : (int)alignment,
            RequiredCpuFeatures = (CpuFeatures)(ulong)Marshal.ReadInt64(p, L.FunctionBody.RequiredCpuFeatures),
            ContentHash = ContentHash(p + L.FunctionBody.ContentHash),
        };
    }

    private static Relocation[] Relocations(nint p, nuint count, string what)
    {
        if (count == 0) return [];
        if (p == 0) throw Null(what);
        if (count > int.MaxValue / L.Relocation.Size) throw new ArgumentOutOfRangeException(null, $"{what}: {count} relocations is too many");
        var relocations = new Relocation[(int)count];
        for (int i = 0; i < relocations.Length; i++)
        {
            nint r = p + i * L.Relocation.Size;
            string field = $"{what}[{i}]";
            uint offset = (uint)Marshal.ReadInt32(r, L.Relocation.Offset);
            ushort kind = (ushort)Marshal.ReadInt16(r, L.Relocation.Kind);
            if (Marshal.ReadInt16(r, L.Relocation.Reserved) != 0) throw new ArgumentException($"{field}.reserved must be zero");
            if (!Enum.IsDefined((RelocationKind)kind)) throw new ArgumentException($"{field}.kind {kind} is not a relocation kind [REL-1]");
            if (offset > int.MaxValue) throw new ArgumentException($"{field}.offset {offset} lies outside the code [REL-3]");
            string target = String(Marshal.ReadIntPtr(r, L.Relocation.Target), $"{field}.target");
            relocations[i] = new Relocation((int)offset, (RelocationKind)kind, target, Marshal.ReadInt64(r, L.Relocation.Addend),
                (ulong)Marshal.ReadInt64(r, L.Relocation.ExpectedSignatureHash));
        }
        return relocations;
    }

    private static Dependency[] Dependencies(nint p, nuint count, string what)
    {
        if (count == 0) return [];
        if (p == 0) throw Null(what);
        if (count > int.MaxValue / L.Dependency.Size) throw new ArgumentOutOfRangeException(null, $"{what}: {count} dependencies is too many");
        var dependencies = new Dependency[(int)count];
        for (int i = 0; i < dependencies.Length; i++)
        {
            nint d = p + i * L.Dependency.Size;
            dependencies[i] = new Dependency(String(Marshal.ReadIntPtr(d, L.Dependency.Target), $"{what}[{i}].target"),
                ContentHash(d + L.Dependency.ExpectedContentHash));
        }
        return dependencies;
    }

    /// <summary>The arguments of <c>aotcache_module_call</c>: <c>aotcache_value</c>s, each typed. Only the bytes of
    /// the type are read (the low 4 of the union for i32 and f32), so a caller that set only a narrow member of the
    /// union passes exactly that.</summary>
    public static Value[] Values(nint p, nuint count, string what)
    {
        if (count == 0) return [];
        if (p == 0) throw Null(what);
        if (count > MaxArguments) throw new ArgumentException($"{what}: {count} arguments; a call takes at most {MaxArguments} (6 integer, 8 floating-point)");
        var values = new Value[(int)count];
        for (int i = 0; i < values.Length; i++)
        {
            nint v = p + i * L.Value.Size;
            var type = (Format.ScalarType)Marshal.ReadInt32(v, L.Value.Type);
            if (Marshal.ReadInt32(v, L.Value.Reserved) != 0) throw new ArgumentException($"{what}[{i}].reserved must be zero");
            values[i] = type switch
            {
                Format.ScalarType.I32 or Format.ScalarType.F32 => new Value(type, Marshal.ReadInt32(v, L.Value.Bits)),
                Format.ScalarType.I64 or Format.ScalarType.F64 or Format.ScalarType.Ptr => new Value(type, Marshal.ReadInt64(v, L.Value.Bits)),
                _ => throw new ArgumentException($"{what}[{i}].type {(int)type} is not an aotcache_type"),
            };
        }
        return values;
    }

    private const int MaxArguments = 14;

    /// <summary>Writes a call's result as an <c>aotcache_value</c>; type 0 (AOTCACHE_TYPE_NONE) for a function without one.</summary>
    public static void WriteValue(nint destination, Value value, string what)
    {
        if (destination == 0) throw Null(what);
        Marshal.WriteInt32(destination, L.Value.Type, (int)value.Type);
        Marshal.WriteInt32(destination, L.Value.Reserved, 0);
        Marshal.WriteInt64(destination, L.Value.Bits, value.Type is Format.ScalarType.I32 or Format.ScalarType.F32 ? (uint)(int)value.Bits : value.Bits);
    }

    /// <summary>16 bytes as FORMAT.md stores a content hash: the low 64 bits, then the high, little-endian.</summary>
    private static ContentHash ContentHash(nint p) => new((ulong)Marshal.ReadInt64(p, 0), (ulong)Marshal.ReadInt64(p, 8));

    private static nuint Size(nint p, int offset) => (nuint)Marshal.ReadIntPtr(p, offset);

    private static ArgumentNullException Null(string what) => new(null, $"{what} is NULL");
}
