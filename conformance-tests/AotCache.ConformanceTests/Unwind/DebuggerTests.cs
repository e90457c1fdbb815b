using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.ConformanceTests.Native;
using AotCache.DiffRunner;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;
using static AotCache.Codegen.Ir.IrType;
using static AotCache.ConformanceTests.Unwind.UnwindChain;

namespace AotCache.ConformanceTests.Unwind;

/// <summary>
/// Debugger registration through GDB's JIT interface: the records the loader links into <c>__jit_debug_descriptor</c>'s
/// list (an in-memory ELF object per piece of code: <c>.text</c> at the code, a symbol per function, the CFI as
/// <c>.eh_frame</c>), added at load and by hot-swaps and removed at unload; and Debian's gdb itself, which breaks in a
/// host function called from cached code and names every cached frame of its backtrace.
/// </summary>
public sealed partial class DebuggerTests : IDisposable
{
    private readonly NativeLibraryResolver _libc = new("libc.so.6");

    public void Dispose() => _libc.Dispose();

    /// <summary>What a symbol file says: where its text is, its functions (absolute addresses) and its <c>.eh_frame</c>.</summary>
    private sealed record SymbolFile(long TextAddress, long TextSize, List<(string Name, long Address, long Size)> Functions, byte[] EhFrame);

    /// <summary>A reader of exactly what the ELF-64 gABI says a relocatable object's section headers and symbols are.</summary>
    private static SymbolFile Read(byte[] elf)
    {
        Assert.True(elf.AsSpan(0, 4).SequenceEqual((byte[])[0x7F, (byte)'E', (byte)'L', (byte)'F']), "not an ELF file");
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(16))); // ET_REL
        Assert.Equal(62, BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(18))); // EM_X86_64
        int shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(40));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(60));
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(62));
        (string Name, uint Type, long Address, int Offset, int Size, int Link) Section(int i)
        {
            ReadOnlySpan<byte> s = elf.AsSpan(shoff + 64 * i, 64);
            int stringsAt = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(shoff + 64 * shstrndx + 24));
            return (CString(elf, stringsAt + (int)BinaryPrimitives.ReadUInt32LittleEndian(s)), BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
                (long)BinaryPrimitives.ReadUInt64LittleEndian(s[16..]), (int)BinaryPrimitives.ReadUInt64LittleEndian(s[24..]),
                (int)BinaryPrimitives.ReadUInt64LittleEndian(s[32..]), (int)BinaryPrimitives.ReadUInt32LittleEndian(s[40..]));
        }
        var sections = Enumerable.Range(0, shnum).Select(Section).ToList();
        var text = sections.Single(s => s.Name == ".text");
        var ehFrame = sections.Single(s => s.Name == ".eh_frame");
        var symtab = sections.Single(s => s.Type == 2);
        var strtab = sections[symtab.Link];
        var functions = new List<(string, long, long)>();
        for (int at = symtab.Offset + 24; at < symtab.Offset + symtab.Size; at += 24)
        {
            Assert.Equal(2, elf[at + 4] & 0xF); // STT_FUNC
            Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(at + 6))); // in .text
            functions.Add((CString(elf, strtab.Offset + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(at))),
                text.Address + (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(at + 8)), (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(at + 16))));
        }
        return new SymbolFile(text.Address, text.Size, functions, elf.AsSpan(ehFrame.Offset, ehFrame.Size).ToArray());
    }

    private static string CString(byte[] bytes, int at) => Encoding.UTF8.GetString(bytes, at, Array.IndexOf(bytes, (byte)0, at) - at);

    /// <summary>The registered symbol file whose text starts at <paramref name="address"/>, if any (other tests may register too).</summary>
    private static SymbolFile? RegisteredAt(long address) =>
        GdbJitInterface.Entries().Select(Read).SingleOrDefault(f => f.TextAddress == address);

    [Fact]
    public void The_debuggers_records_name_every_function_at_its_address_and_carry_its_frames()
    {
        using CacheImage image = CacheImage.Read(CacheFile());
        var options = Options(LinkMode.HotSwappable, _libc) with { RegisterWithDebugger = true };
        LoadedModule module = LoadedModule.Load(image, options);
        long code = (long)module.Region.Address + image.CanonicalLayout.CodeOffset;

        SymbolFile file = RegisteredAt(code) ?? throw new Xunit.Sdk.XunitException("no symbol file registered for the module's code");
        Assert.Equal(image.Code.Length, file.TextSize);
        for (int f = 0; f < image.Functions.Length; f++)
            Assert.Contains((image.SymbolName((int)image.Functions[f].Symbol), code + image.Functions[f].CodeOffset, (long)image.Functions[f].CodeSize), file.Functions);
        // The CFI, its pc_begin values made relative to .text (GDB's text base): the FDE of function k begins at its code offset.
        byte[] cfi = image.UnwindCfi.ToArray();
        Assert.Equal(cfi.Length, file.EhFrame.Length);
        List<int> fdes = UnwindRules.FdeOffsets(file.EhFrame);
        Assert.Equal(image.Functions.Length, fdes.Count);
        for (int k = 0; k < fdes.Count; k++)
            Assert.Equal(image.Functions[k].CodeOffset, BinaryPrimitives.ReadUInt64LittleEndian(file.EhFrame.AsSpan(fdes[k] + UnwindRules.FdePcBegin)));

        // A hot-swap registers its batch; unloading removes every record.
        FunctionBody body = RedefineF3(module, add: 2);
        nint newBody = Trace(module, Depth + 1).Single(f => f.Function == "f3").BodyStart;
        SymbolFile batch = GdbJitInterface.Entries().Select(Read).Single(f => f.Functions.Any(s => s.Address == newBody));
        Assert.Equal(("f3", (long)newBody, (long)body.Code.Length), Assert.Single(batch.Functions));

        module.Dispose();

        Assert.Null(RegisteredAt(code));
        Assert.DoesNotContain(GdbJitInterface.Entries().Select(Read), f => f.TextAddress == batch.TextAddress);
    }

    [GeneratedRegex(@"^#(?<n>\d+)\s+(?:0x[0-9a-f]+ in )?(?<function>\S+) \(", RegexOptions.Multiline)]
    private static partial Regex BacktraceLine();

    /// <summary>
    /// The differential runner (a process that only loads cache files and calls their <c>entry</c>) runs under
    /// <c>gdb -batch</c> with <c>AOTCACHE_GDB_JIT=1</c>; cached <c>entry → outer → middle → inner</c> calls libc's
    /// <c>labs</c>, where gdb breaks; <c>bt</c> must name the four cached functions in order.
    /// </summary>
    [Fact]
    public void Gdb_breaks_in_a_host_function_and_names_every_cached_frame_of_its_backtrace()
    {
        static IrFunction Calls(string name, string callee, int parameters) =>
            new(name, [.. Enumerable.Repeat(I64, Math.Min(parameters, 3)), .. Enumerable.Repeat(F64, Math.Max(0, parameters - 3))], I64, [],
                [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall(callee, [new IrLocal(parameters == 5 ? 1 : 0)]), new IrConstI64(1)))]);
        var ir = new IrModule([new IrImport("labs", [I64], I64)], [],
            [Calls(DiffRequest.EntryName, "outer", 5), Calls("outer", "middle", 1), Calls("middle", "inner", 1), Calls("inner", "labs", 1)])
        { Name = "gdb" };
        string directory = Directory.CreateTempSubdirectory("aotcache-gdb-").FullName;
        try
        {
            string cache = Path.Combine(directory, "gdb.aotc"), request = Path.Combine(directory, "request.txt");
            System.IO.File.WriteAllBytes(cache, IrCompiler.Compile(ir));
            System.IO.File.WriteAllText(request, new DiffRequest(cache, false, [], [new EntryArguments(0, -38, 0, 0, 0)]).Format() + "\n");
            ChildProcess.Result gdb = ChildProcess.Run("gdb",
                ["-batch", "-nx", "-iex", "set debuginfod enabled off", "-ex", "set breakpoint pending on",
                 "-ex", "handle all nostop noprint pass", "-ex", "break labs",
                 "-ex", $"run '{Path.Combine(AppContext.BaseDirectory, "AotCache.DiffRunner.dll")}' < '{request}'", "-ex", "bt", "-ex", "kill", "dotnet"],
                TimeSpan.FromMinutes(3), environment: new Dictionary<string, string> { ["AOTCACHE_GDB_JIT"] = "1" });
            string output = gdb.Stdout, errors = gdb.Stderr;

            var frames = BacktraceLine().Matches(output).Select(m => (Number: int.Parse(m.Groups["n"].Value), Function: m.Groups["function"].Value)).ToList();
            Assert.True(frames.Count >= 5, $"gdb printed no backtrace of 5 frames:\n{output}\n{errors}");
            Assert.Contains("labs", frames[0].Function);
            Assert.Equal(["inner", "middle", "outer", DiffRequest.EntryName], frames.Skip(1).Take(4).Select(f => f.Function));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
