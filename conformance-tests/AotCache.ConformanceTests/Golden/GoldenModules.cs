using AotCache.Format;
using AotCache.Writer;
using static AotCache.Format.ScalarType;

namespace AotCache.ConformanceTests;

/// <summary>
/// The modules behind the checked-in golden files (<c>Golden/*.aotc</c> and their dumps). The machine code is
/// written out byte by byte with the instruction beside it, like an assembler listing, so that a reader can
/// check each relocation's field and addend against the encoding; <see cref="GoldenTests"/> also decodes every
/// function with Iced and checks that each field is exactly an instruction's rel32, disp32 or imm64.
/// Changing anything here changes the files: regenerate them with <c>AOTCACHE_ACCEPT=1</c> and review the dumps.
/// </summary>
public static class GoldenModules
{
    /// <summary>The producer string of every golden file, fixed so that a writer's default cannot move them.</summary>
    public const string Producer = "AotCache golden modules";

    /// <summary>
    /// Three functions calling each other and an import, a function-pointer table in read-only data,
    /// a writable and a zero-filled object reached RIP-relative, a two-component fingerprint and one dependency.
    /// </summary>
    public static byte[] Example()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64)
        {
            ModuleName = "example",
            Producer = Producer,
            RequiredCpuFeatures = CpuFeatures.Popcnt,
        };
        DeclarationHandle binary = b.AddDeclaration(Signature.SysV([I64, I64], [I64]));
        DeclarationHandle unary = b.AddDeclaration(Signature.SysV([I64], [I64]));
        DeclarationHandle print = b.AddDeclaration(Signature.SysV([I64], []));

        SymbolHandle hostPrint = b.AddImportFunction("host_print", print);
        SymbolHandle add = b.DeclareFunction("add", binary, Linkage.Local);
        SymbolHandle scale = b.DeclareFunction("scale", unary, Linkage.Local);
        SymbolHandle main = b.DeclareFunction("main", unary, Linkage.Export);
        SymbolHandle ops = b.DeclareData("ops", DataKind.ReadOnly, alignment: 8);
        SymbolHandle factor = b.DeclareData("factor", DataKind.Writable, alignment: 8, Linkage.Export);
        SymbolHandle calls = b.DeclareData("calls", DataKind.ZeroFilled, alignment: 8, Linkage.Export);

        // add(a, b) = a + b
        var addCode = new Listing()
            .Bytes(0x48, 0x8D, 0x04, 0x37)                                      // 00  lea rax, [rdi+rsi]
            .Bytes(0xC3);                                                       // 04  ret
        Define(b, add, addCode);

        // scale(x) = popcnt(x) * factor
        var scaleCode = new Listing()
            .Bytes(0xF3, 0x48, 0x0F, 0xB8, 0xC7)                                // 00  popcnt rax, rdi
            .Bytes(0x48, 0x0F, 0xAF, 0x05).Rel32(RelocationKind.DataPcRel32, factor) // 05  imul rax, [rip+factor]   field 09
            .Bytes(0xC3);                                                       // 0d  ret
        Define(b, scale, scaleCode, CpuFeatures.Popcnt);

        // main(x): host_print(add(x, x)); calls++; return ops[1](x), i.e. scale(x)
        var mainCode = new Listing()
            .Bytes(0x53)                                                        // 00  push rbx
            .Bytes(0x48, 0x89, 0xFB)                                            // 01  mov rbx, rdi
            .Bytes(0x48, 0x89, 0xFE)                                            // 04  mov rsi, rdi
            .Bytes(0xE8).Rel32(RelocationKind.FunctionPcRel32, add)             // 07  call add                 field 08
            .Bytes(0x48, 0x89, 0xC7)                                            // 0c  mov rdi, rax
            .Bytes(0xE8).Rel32(RelocationKind.ThunkPcRel32, hostPrint)          // 0f  call host_print (thunk)  field 10
            .Bytes(0x48, 0xFF, 0x05).Rel32(RelocationKind.DataPcRel32, calls)   // 14  inc qword [rip+calls]    field 17
            .Bytes(0x48, 0x8D, 0x05).Rel32(RelocationKind.DataPcRel32, ops)     // 1b  lea rax, [rip+ops]       field 1e
            .Bytes(0x48, 0x89, 0xDF)                                            // 22  mov rdi, rbx
            .Bytes(0xFF, 0x50, 0x08)                                            // 25  call qword [rax+8]
            .Bytes(0x5B)                                                        // 28  pop rbx
            .Bytes(0xC3);                                                       // 29  ret
        Define(b, main, mainCode, dependencies: new Dependency(add.Name, ContentHash.Of(addCode.Code)));

        // ops: a table of function pointers, { add, scale }, filled in by the loader.
        b.DefineData(ops, new byte[16],
        [
            new Relocation(0, RelocationKind.Absolute64, add.Name, 0),
            new Relocation(8, RelocationKind.Absolute64, scale.Name, 0),
        ]);
        byte[] three = BitConverter.GetBytes(3L);
        b.DefineData(factor, three, contentHash: ContentHash.Of(three));
        b.DefineZeroFilled(calls, 8);

        b.AddFingerprint("compiler.version", "golden 1.0");
        b.AddFingerprintFeatures("cpu.features", (ulong)(CpuFeatures.Sse41 | CpuFeatures.Popcnt));
        return b.ToArray();
    }

    /// <summary>
    /// Every way to reach an import: a call through the loader's thunk (ThunkPcRel32), calls and jumps through
    /// its slot (SlotPcRel32), an imported data address as an imm64 (Absolute64) and through a slot, and import
    /// addresses in a read-only table.
    /// </summary>
    public static byte[] Imports()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "imports", Producer = Producer };
        DeclarationHandle alloc = b.AddDeclaration(Signature.SysV([I64], [Ptr]));
        DeclarationHandle free = b.AddDeclaration(Signature.SysV([Ptr], []));
        DeclarationHandle log = b.AddDeclaration(Signature.SysV([Ptr, I64], []));
        DeclarationHandle run = b.AddDeclaration(Signature.SysV([], [I64]));

        SymbolHandle hostAlloc = b.AddImportFunction("host_alloc", alloc);
        SymbolHandle hostFree = b.AddImportFunction("host_free", free);
        SymbolHandle hostLog = b.AddImportFunction("host_log", log);
        SymbolHandle hostConfig = b.AddImportData("host_config");
        SymbolHandle hostErrno = b.AddImportData("host_errno");
        SymbolHandle runFunction = b.DeclareFunction("run", run);
        SymbolHandle logValue = b.DeclareFunction("log_value", log);

        // run(): host_free(host_alloc(64)); return *host_config + *host_errno
        var runCode = new Listing()
            .Bytes(0x48, 0x83, 0xEC, 0x08)                                      // 00  sub rsp, 8
            .Bytes(0xBF, 0x40, 0x00, 0x00, 0x00)                                // 04  mov edi, 64
            .Bytes(0xE8).Rel32(RelocationKind.ThunkPcRel32, hostAlloc)          // 09  call host_alloc (thunk)   field 0a
            .Bytes(0x48, 0x89, 0xC7)                                            // 0e  mov rdi, rax
            .Bytes(0xFF, 0x15).Rel32(RelocationKind.SlotPcRel32, hostFree)      // 11  call [rip+slot host_free] field 13
            .Bytes(0x48, 0xB8).Imm64(hostConfig)                                // 17  mov rax, host_config      field 19
            .Bytes(0x48, 0x8B, 0x00)                                            // 21  mov rax, [rax]
            .Bytes(0x48, 0x8B, 0x0D).Rel32(RelocationKind.SlotPcRel32, hostErrno) // 24  mov rcx, [rip+slot host_errno] field 27
            .Bytes(0x48, 0x03, 0x01)                                            // 2b  add rax, [rcx]
            .Bytes(0x48, 0x83, 0xC4, 0x08)                                      // 2e  add rsp, 8
            .Bytes(0xC3);                                                       // 32  ret
        Define(b, runFunction, runCode);

        // log_value(p, n): a tail call to host_log through its slot.
        var logCode = new Listing()
            .Bytes(0xFF, 0x25).Rel32(RelocationKind.SlotPcRel32, hostLog);     // 00  jmp [rip+slot host_log]  field 02
        Define(b, logValue, logCode);

        // callbacks: { host_free, log_value }, an import's address beside a local function's.
        b.AddData("callbacks", DataKind.ReadOnly, new byte[16], alignment: 8,
        [
            new Relocation(0, RelocationKind.Absolute64, hostFree.Name, 0),
            new Relocation(8, RelocationKind.Absolute64, logValue.Name, 0),
        ]);
        return b.ToArray();
    }

    /// <summary>
    /// A caller compiled when <c>callee</c> was <c>sysv (i64) -> i64</c>; <c>callee</c> is now
    /// <c>sysv (i64, i64) -> i64</c>, so the call's relocation records a signature hash that no longer matches
    /// (a loader refuses it, [LOAD-5]). The call to <c>other</c> is current; the dependency on
    /// <c>other</c>'s content is not.
    /// </summary>
    public static byte[] Stale()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale", Producer = Producer };
        Signature before = Signature.SysV([I64], [I64]);
        DeclarationHandle unary = b.AddDeclaration(before);
        DeclarationHandle binary = b.AddDeclaration(Signature.SysV([I64, I64], [I64]));

        SymbolHandle callee = b.DeclareFunction("callee", binary);
        SymbolHandle other = b.DeclareFunction("other", unary);
        SymbolHandle caller = b.DeclareFunction("caller", unary);

        var calleeCode = new Listing()
            .Bytes(0x48, 0x8D, 0x04, 0x37)                                      // 00  lea rax, [rdi+rsi]
            .Bytes(0xC3);                                                       // 04  ret
        Define(b, callee, calleeCode);

        var otherCode = new Listing()
            .Bytes(0x48, 0x89, 0xF8)                                            // 00  mov rax, rdi
            .Bytes(0xC3);                                                       // 03  ret
        Define(b, other, otherCode);

        // caller(x) = callee(other(x)): compiled against callee's old one-argument signature.
        var callerCode = new Listing()
            .Bytes(0x53)                                                        // 00  push rbx
            .Bytes(0xE8).Rel32(RelocationKind.FunctionPcRel32, other)           // 01  call other                 field 02
            .Bytes(0x48, 0x89, 0xC7)                                            // 06  mov rdi, rax
            .Bytes(0xE8).Rel32(RelocationKind.FunctionPcRel32, callee, expectedSignatureHash: before.Hash) // 09  call callee  field 0a  STALE
            .Bytes(0x5B)                                                        // 0e  pop rbx
            .Bytes(0xC3);                                                       // 0f  ret
        Define(b, caller, callerCode, dependencies: new Dependency(other.Name, ContentHash.Of("other, as it was before"u8)));
        return b.ToArray();
    }

    /// <summary>
    /// Unwind information (format 1.3, FORMAT.md §19): <c>framed</c> keeps an rbp frame and saves rbx in it, <c>leaf</c>
    /// never moves rsp (an FDE with an empty program), <c>plain</c> has no unwind information (its entry is NONE).
    /// </summary>
    public static byte[] Unwind()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "unwind", Producer = Producer };
        DeclarationHandle unary = b.AddDeclaration(Signature.SysV([I64], [I64]));
        SymbolHandle leaf = b.DeclareFunction("leaf", unary);
        SymbolHandle framed = b.DeclareFunction("framed", unary);
        SymbolHandle plain = b.DeclareFunction("plain", unary);

        var leafCode = new Listing()
            .Bytes(0x48, 0x8D, 0x47, 0x01)                                      // 00  lea rax, [rdi+1]
            .Bytes(0xC3);                                                       // 04  ret
        Define(b, leaf, leafCode, unwind: UnwindInfo.Frameless);

        // framed(x) = leaf(x) + x
        var framedCode = new Listing()
            .Bytes(0x55)                                                        // 00  push rbp
            .Bytes(0x48, 0x89, 0xE5)                                            // 01  mov rbp, rsp
            .Bytes(0x53)                                                        // 04  push rbx
            .Bytes(0x48, 0x83, 0xEC, 0x08)                                      // 05  sub rsp, 8
            .Bytes(0x48, 0x89, 0xFB)                                            // 09  mov rbx, rdi
            .Bytes(0xE8).Rel32(RelocationKind.FunctionPcRel32, leaf)            // 0c  call leaf                  field 0d
            .Bytes(0x48, 0x01, 0xD8)                                            // 11  add rax, rbx
            .Bytes(0x48, 0x83, 0xC4, 0x08)                                      // 14  add rsp, 8
            .Bytes(0x5B)                                                        // 18  pop rbx
            .Bytes(0x5D)                                                        // 19  pop rbp
            .Bytes(0xC3);                                                       // 1a  ret
        Define(b, framed, framedCode, unwind: new UnwindInfo(
        [
            CfaInstruction.DefCfaOffset(16, at: 0x01), CfaInstruction.SavedAt(DwarfRegister.Rbp, -16, at: 0x01),
            CfaInstruction.DefCfaRegister(DwarfRegister.Rbp, at: 0x04),
            CfaInstruction.SavedAt(DwarfRegister.Rbx, -24, at: 0x05),
            CfaInstruction.Restore(DwarfRegister.Rbx, at: 0x19),
            CfaInstruction.DefCfa(DwarfRegister.Rsp, 8, at: 0x1A),
        ]));

        var plainCode = new Listing()
            .Bytes(0x48, 0x89, 0xF8)                                            // 00  mov rax, rdi
            .Bytes(0xC3);                                                       // 03  ret
        Define(b, plain, plainCode);
        return b.ToArray();
    }

    /// <summary>Every golden module by its file name stem.</summary>
    public static IReadOnlyDictionary<string, Func<byte[]>> All { get; } = new Dictionary<string, Func<byte[]>>
    {
        ["example"] = Example,
        ["imports"] = Imports,
        ["stale"] = Stale,
        ["unwind"] = Unwind,
    };

    private static void Define(CacheBuilder b, SymbolHandle function, Listing code, CpuFeatures features = CpuFeatures.None, UnwindInfo? unwind = null,
        params Dependency[] dependencies) =>
        b.DefineFunction(function, new FunctionBody(code.Code, b.GetSymbolSignature(function)!, code.Relocations, dependencies)
        {
            ContentHash = ContentHash.Of(code.Code),
            RequiredCpuFeatures = features,
            Unwind = unwind,
        });

    /// <summary>Machine code written instruction by instruction; each relocated field is left zero in the bytes.</summary>
    private sealed class Listing
    {
        private readonly List<byte> _code = [];
        private readonly List<Relocation> _relocations = [];

        public byte[] Code => [.. _code];

        public IReadOnlyList<Relocation> Relocations => _relocations;

        public Listing Bytes(params byte[] bytes)
        {
            _code.AddRange(bytes);
            return this;
        }

        /// <summary>A 32-bit PC-relative field that ends its instruction: value = S − 4 − P, so the addend is −4
        /// (ELF R_X86_64_PC32; an instruction with an immediate after the field would need −4 − its size).</summary>
        public Listing Rel32(RelocationKind kind, SymbolHandle target, ulong? expectedSignatureHash = null)
        {
            _relocations.Add(new Relocation(_code.Count, kind, target.Name, -4, expectedSignatureHash));
            _code.AddRange(new byte[4]);
            return this;
        }

        /// <summary>A 64-bit absolute address (the imm64 of <c>mov r64, imm64</c>), addend 0.</summary>
        public Listing Imm64(SymbolHandle target)
        {
            _relocations.Add(new Relocation(_code.Count, RelocationKind.Absolute64, target.Name, 0));
            _code.AddRange(new byte[8]);
            return this;
        }
    }
}
