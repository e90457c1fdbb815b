using System.Globalization;
using AotCache.Format;

namespace AotCache.Loader;

/// <summary>An argument or result of a call into loaded code: a value type and its raw 64 bits.</summary>
public readonly record struct Value(ScalarType Type, long Bits)
{
    /// <summary>A 64-bit integer argument.</summary>
    public static Value I64(long v) => new(ScalarType.I64, v);
    /// <summary>A 32-bit integer argument.</summary>
    public static Value I32(int v) => new(ScalarType.I32, v);
    /// <summary>A pointer-sized argument.</summary>
    public static Value Ptr(nint v) => new(ScalarType.Ptr, v);
    /// <summary>A double argument.</summary>
    public static Value F64(double v) => new(ScalarType.F64, BitConverter.DoubleToInt64Bits(v));
    /// <summary>A float argument.</summary>
    public static Value F32(float v) => new(ScalarType.F32, BitConverter.SingleToInt32Bits(v));

    /// <summary>The value as a 64-bit integer (an i32 sign-extended); an <see cref="InvalidOperationException"/> for a float.</summary>
    public long AsI64 => Type is ScalarType.I64 or ScalarType.Ptr ? Bits : Type == ScalarType.I32 ? (int)Bits : throw Mismatch("an integer");
    /// <summary>The value of an f64; an <see cref="InvalidOperationException"/> for any other type.</summary>
    public double AsF64 => Type == ScalarType.F64 ? BitConverter.Int64BitsToDouble(Bits) : throw Mismatch("f64");
    /// <summary>The value of an f32; an <see cref="InvalidOperationException"/> for any other type.</summary>
    public float AsF32 => Type == ScalarType.F32 ? BitConverter.Int32BitsToSingle((int)Bits) : throw Mismatch("f32");

    /// <summary>Whether the value is passed in an XMM register (f32 or f64).</summary>
    public bool IsFloat => Type is ScalarType.F32 or ScalarType.F64;

    private InvalidOperationException Mismatch(string wanted) => new($"the value is {Signature.TypeName(Type)}, not {wanted}");

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        ScalarType.F64 => AsF64.ToString("R", CultureInfo.InvariantCulture),
        ScalarType.F32 => AsF32.ToString("R", CultureInfo.InvariantCulture),
        _ => AsI64.ToString(CultureInfo.InvariantCulture),
    };
}
