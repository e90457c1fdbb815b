using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using AotCache.Format;
using Architecture = AotCache.Format.Architecture;

namespace AotCache.Loader;

/// <summary>A value the host offers for a fingerprint component (FORMAT.md §5).</summary>
public readonly record struct FingerprintValue(FingerprintValueKind Kind, ulong Number, string? Text)
{
    /// <summary>An integer value, for an Equal component.</summary>
    public static FingerprintValue Integer(ulong value) => new(FingerprintValueKind.Integer, value, null);
    /// <summary>A string value, for an Equal component.</summary>
    public static FingerprintValue String(string value) => new(FingerprintValueKind.String, 0, value);
    /// <summary>A set of <see cref="AotCache.Format.CpuFeatures"/> bits, for a Superset component.</summary>
    public static FingerprintValue Features(ulong value) => new(FingerprintValueKind.FeatureSet, value, null);

    /// <inheritdoc/>
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
    /// <summary>The instruction set; 0 when the process runs on one the format does not know (e.g. Arm64).</summary>
    public Architecture Architecture { get; init; } = DetectArchitecture();

    /// <summary>The calling convention native code follows here: Microsoft x64 on Windows, System V elsewhere.</summary>
    public Abi Abi { get; init; } = OperatingSystem.IsWindows() ? Abi.Win64 : Abi.SysVAmd64;

    /// <summary>The operating system; 0 when the format has no value for it (e.g. FreeBSD).</summary>
    public TargetOs Os { get; init; } = DetectOs();

    /// <summary>The CPU features code may use here [LOAD-3].</summary>
    public CpuFeatures CpuFeatures { get; init; } = DetectCpuFeatures();

    /// <summary>Values for Equal and Superset fingerprint components, by key.</summary>
    public IReadOnlyDictionary<string, FingerprintValue> Fingerprint { get; init; } = new Dictionary<string, FingerprintValue>();

    /// <summary>This process as the runtime reports it: its architecture, operating system and ABI, with the CPU
    /// features it detects. A file for Linux x86-64 is refused [LOAD-1] by a host that is anything else.</summary>
    public static HostEnvironment Current { get; } = new();

    private static Architecture DetectArchitecture() =>
        RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? Architecture.X86_64 : 0;

    private static TargetOs DetectOs() =>
        OperatingSystem.IsLinux() ? TargetOs.Linux
        : OperatingSystem.IsWindows() ? TargetOs.Windows
        : OperatingSystem.IsMacOS() ? TargetOs.MacOS
        : 0;

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
        if (IsAvxVnniSupported()) f |= CpuFeatures.AvxVnni;
        return f;
    }

#if NET9_0_OR_GREATER
    private static bool IsAvxVnniSupported() => AvxVnni.IsSupported;
#else
    // net8.0's AvxVnni is a preview feature: ask CPUID.(EAX=7,ECX=1):EAX.AVX-VNNI[bit 4], and require the OS's AVX state
    // support as AvxVnni.IsSupported does.
    private static bool IsAvxVnniSupported() => Avx2.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 4)) != 0;
#endif

    /// <summary>Names of the set bits, e.g. "Avx512F, Avx512BW".</summary>
    public static string Describe(CpuFeatures features) => features == CpuFeatures.None ? "none" : features.ToString();
}
