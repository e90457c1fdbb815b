using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;
using Architecture = AotCache.Format.Architecture;

namespace AotCache.ConformanceTests.Loading;

/// <summary>Where each library runs (README's platform table): only loading needs Linux, and the host description
/// comes from the runtime rather than being assumed.</summary>
public sealed class PlatformTests
{
    [Fact]
    public void Only_the_loader_is_marked_Linux_only()
    {
        static string[] Platforms(Type t) =>
            t.Assembly.GetCustomAttributes<SupportedOSPlatformAttribute>().Select(a => a.PlatformName).ToArray();

        Assert.Equal(["linux"], Platforms(typeof(LoadedModule)));
        Assert.Empty(Platforms(typeof(FunctionBody)));
        Assert.Empty(Platforms(typeof(CacheImage)));
        Assert.Empty(Platforms(typeof(CacheBuilder)));
        Assert.Empty(Platforms(typeof(AotCache.Codegen.IrCompiler)));
    }

    [Fact]
    public void LOAD_1_the_current_host_is_what_the_runtime_reports()
    {
        // The tests run on Linux x86-64 (the loader's one platform): the host must say so because the runtime does.
        Assert.True(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64);
        HostEnvironment host = HostEnvironment.Current;
        Assert.Equal(TargetOs.Linux, host.Os);
        Assert.Equal(Architecture.X86_64, host.Architecture);
        Assert.Equal(Abi.SysVAmd64, host.Abi);
        Assert.Equal(HostEnvironment.DetectCpuFeatures(), host.CpuFeatures);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, host.CpuFeatures.HasFlag(CpuFeatures.Avx2));
    }
}
