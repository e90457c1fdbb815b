using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Loading;

public class LoaderSmokeTests
{
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private static readonly Signature NoneToI64 = Signature.SysV([], [ScalarType.I64]);

    /// <summary>answer() = 42; twice(x) = answer() + host(x) via a thunk; absval(x) = labs(x) through a slot.</summary>
    private static byte[] Module()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "smoke" };
        var i64 = b.AddDeclaration(I64ToI64);
        var none = b.AddDeclaration(NoneToI64);
        var host = b.AddImportFunction("host_count", i64);
        var labs = b.AddImportFunction("labs", i64);
        var answer = b.AddFunction("answer", new FunctionBody([0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3], none.Signature)); // mov eax, 42; ret
        b.AddFunction("twice", new FunctionBody(
        [
            0x53,                               // push rbx
            0x48, 0x89, 0xFB,                   // mov rbx, rdi
            0xE8, 0, 0, 0, 0,                   // call answer          (field at 5)
            0x48, 0x89, 0xDF,                   // mov rdi, rbx
            0x48, 0x89, 0xC3,                   // mov rbx, rax
            0xE8, 0, 0, 0, 0,                   // call host_count      (field at 16)
            0x48, 0x01, 0xD8,                   // add rax, rbx
            0x5B,                               // pop rbx
            0xC3,                               // ret
        ], i64.Signature,
        [
            new Relocation(5, RelocationKind.FunctionPcRel32, answer.Name, -4),
            new Relocation(16, RelocationKind.ThunkPcRel32, host.Name, -4),
        ]));
        b.AddFunction("absval", new FunctionBody(
        [
            0xFF, 0x25, 0, 0, 0, 0,             // jmp qword [rip + slot(labs)]  (field at 2): a tail call
        ], i64.Signature,
        [new Relocation(2, RelocationKind.SlotPcRel32, labs.Name, -4)]));
        return b.ToArray();
    }

    [Fact]
    public void LOAD_4_code_calls_other_functions_a_host_callback_and_a_libc_export()
    {
        using var image = CacheImage.Read(Module());
        using var libc = new NativeLibraryResolver("libc.so.6");
        var imports = new ChainedResolver(new ImportTable().Add("host_count", HostCallbacks.CountingCallbackAddress, I64ToI64), libc);
        using var module = LoadedModule.Load(image, new LoadOptions { Imports = imports });

        Assert.Equal(42, module.Invoke("answer").AsI64);
        long before = HostCallbacks.Calls;
        Assert.Equal(42 + 7 + 1000, module.Invoke("twice", Value.I64(7)).AsI64);
        Assert.Equal(before + 1, HostCallbacks.Calls);
        Assert.Equal(7, HostCallbacks.LastArgument);
        Assert.Equal(12345, module.Invoke("absval", Value.I64(-12345)).AsI64);
    }

    [Fact]
    public void LOAD_4_unresolved_imports_are_reported_together_by_name()
    {
        using var image = CacheImage.Read(Module());
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { Imports = new ImportTable() }));
        Assert.Equal(ErrorCode.UnresolvedImports, e.Code);
        Assert.Contains("2 unresolved imports", e.Message);
        Assert.Contains("host_count: sysv (i64) -> i64", e.Message);
        Assert.Contains("labs: sysv (i64) -> i64", e.Message);
    }

    [Fact]
    public void LOAD_4_an_import_registered_with_another_signature_is_reported_as_such_not_as_missing()
    {
        using var image = CacheImage.Read(Module());
        Signature i32ToI64 = Signature.SysV([ScalarType.I32], [ScalarType.I64]);
        var imports = new ChainedResolver(new ImportTable().Add("host_count", HostCallbacks.CountingCallbackAddress, i32ToI64));
        var e = Assert.Throws<AotCacheException>(() => LoadedModule.Load(image, new LoadOptions { Imports = imports }));
        Assert.Equal(ErrorCode.UnresolvedImports, e.Code);
        Assert.Contains("1 unresolved import: labs: sysv (i64) -> i64.", e.Message);
        Assert.Contains("1 import with another signature: host_count: the file expects sysv (i64) -> i64, the host has it registered as sysv (i32) -> i64", e.Message);
        Assert.DoesNotContain("host_count: sysv", e.Message);
    }
}
