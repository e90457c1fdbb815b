using System.Runtime.Intrinsics.X86;
using AotCache.Format;
using Architecture = AotCache.Format.Architecture;

namespace AotCache.Loader.Linking;

/// <summary>A value the host offers for a fingerprint component (FORMAT.md §5).</summary>
public readonly record struct FingerprintValue(FingerprintValueKind Kind, ulong Number, string? Text)
{
    public static FingerprintValue Integer(ulong value) => new(FingerprintValueKind.Integer, value, null);
    public static FingerprintValue String(string value) => new(FingerprintValueKind.String, 0, value);
    public static FingerprintValue Features(ulong value) => new(FingerprintValueKind.FeatureSet, value, null);

    public override string ToString() => Kind switch
    {
        FingerprintValueKind.String => $"\"{Text}\"",
        FingerprintValueKind.FeatureSet => $"0x{Number:x}",
        _ => Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// What the loading host is: target, CPU features and the codegen fingerprint values it accepts. A
/// file is compared with it before anything is mapped [LOAD-1] [LOAD-2] [LOAD-3].
/// </summary>
public sealed record HostEnvironment
{
    public Architecture Architecture { get; init; } = Architecture.X86_64;
    public Abi Abi { get; init; } = Abi.SysVAmd64;
    public TargetOs Os { get; init; } = TargetOs.Linux;
    public CpuFeatures CpuFeatures { get; init; } = DetectCpuFeatures();

    /// <summary>Values for Equal and Superset fingerprint components, by key.</summary>
    public IReadOnlyDictionary<string, FingerprintValue> Fingerprint { get; init; } = new Dictionary<string, FingerprintValue>();

    /// <summary>This process: Linux x86-64 System V, with the CPU features the runtime detects.</summary>
    public static HostEnvironment Current { get; } = new();

    /// <summary>The features of this CPU, as .NET's hardware intrinsics report them.</summary>
    public static CpuFeatures DetectCpuFeatures()
    {
        CpuFeatures f = CpuFeatures.None;
        if (Sse3.IsSupported) f |= CpuFeatures.Sse3;
        if (Ssse3.IsSupported) f |= CpuFeatures.Ssse3;
        if (Sse41.IsSupported) f |= CpuFeatures.Sse41;
        if (Sse42.IsSupported) f |= CpuFeatures.Sse42;
        if (Popcnt.IsSupported) f |= CpuFeatures.Popcnt;
        if (Avx.IsSupported) f |= CpuFeatures.Avx;
        if (Avx2.IsSupported) f |= CpuFeatures.Avx2;
        if (Fma.IsSupported) f |= CpuFeatures.Fma;
        if (Bmi1.IsSupported) f |= CpuFeatures.Bmi1;
        if (Bmi2.IsSupported) f |= CpuFeatures.Bmi2;
        if (Lzcnt.IsSupported) f |= CpuFeatures.Lzcnt;
        if (X86Base.IsSupported && (X86Base.CpuId(1, 0).Ecx & (1 << 22)) != 0) f |= CpuFeatures.Movbe; // CPUID.1:ECX.MOVBE[bit 22]
        if (Aes.IsSupported) f |= CpuFeatures.Aes;
        if (Pclmulqdq.IsSupported) f |= CpuFeatures.Pclmulqdq;
        if (Avx512F.IsSupported) f |= CpuFeatures.Avx512F;
        if (Avx512BW.IsSupported) f |= CpuFeatures.Avx512BW;
        if (Avx512CD.IsSupported) f |= CpuFeatures.Avx512CD;
        if (Avx512DQ.IsSupported) f |= CpuFeatures.Avx512DQ;
        if (Avx512F.VL.IsSupported) f |= CpuFeatures.Avx512VL;
        if (Avx512Vbmi.IsSupported) f |= CpuFeatures.Avx512Vbmi;
        if (AvxVnni.IsSupported) f |= CpuFeatures.AvxVnni;
        return f;
    }

    /// <summary>Names of the set bits, e.g. "Avx512F, Avx512BW".</summary>
    public static string Describe(CpuFeatures features) => features == CpuFeatures.None ? "none" : features.ToString();
}
