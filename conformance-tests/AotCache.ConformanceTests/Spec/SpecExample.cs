using AotCache.Format;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Spec;

/// <summary>The small complete file that FORMAT.md Appendix B dumps byte by byte.</summary>
public static class SpecExample
{
    /// <summary>
    /// <c>answer() = 42</c>; <c>main()</c> passes the address of <c>greeting</c> (RIP-relative) to the host's
    /// <c>host_print(i64)</c> through the loader's thunk, then returns <c>answer()</c>.
    /// </summary>
    public static byte[] Build()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { Producer = "spec-example", ModuleName = "example" };
        var noneToI64 = b.AddDeclaration(Signature.SysV([], [ScalarType.I64]));
        var i64ToVoid = b.AddDeclaration(Signature.SysV([ScalarType.I64], []));
        var print = b.AddImportFunction("host_print", i64ToVoid);
        var greeting = b.AddData("greeting", DataKind.ReadOnly, "hello!\n\0"u8, alignment: 8);
        var answer = b.AddFunction("answer", new FunctionBody([0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3], noneToI64.Signature) { Alignment = 16 });
        b.AddFunction("main", new FunctionBody(
        [
            0x48, 0x83, 0xEC, 0x08,                   // sub rsp, 8              (16-byte stack alignment at the calls)
            0x48, 0x8D, 0x3D, 0x00, 0x00, 0x00, 0x00, // lea rdi, [rip+greeting] DataPcRel32 at +7, addend -4
            0xE8, 0x00, 0x00, 0x00, 0x00,             // call host_print         ThunkPcRel32 at +12, addend -4
            0xE8, 0x00, 0x00, 0x00, 0x00,             // call answer             FunctionPcRel32 at +17, addend -4
            0x48, 0x83, 0xC4, 0x08,                   // add rsp, 8
            0xC3,                                     // ret                     (returns answer's 42)
        ], noneToI64.Signature,
        [
            new Relocation(7, RelocationKind.DataPcRel32, greeting.Name, -4),
            new Relocation(12, RelocationKind.ThunkPcRel32, print.Name, -4),
            new Relocation(17, RelocationKind.FunctionPcRel32, answer.Name, -4),
        ])
        { Alignment = 16, ContentHash = ContentHash.Of("main"u8) });
        b.AddFingerprint("compiler.version", "1.0");
        return b.ToArray();
    }
}
