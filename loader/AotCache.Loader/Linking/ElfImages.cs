using System.Buffers.Binary;
using System.Text;
using AotCache.Format;

namespace AotCache.Loader.Linking;

/// <summary>
/// The two small ELF files the GDB JIT interface needs, written byte by byte (ELF-64 gABI, x86-64 psABI):
/// <list type="bullet">
/// <item>a shared object that defines <c>__jit_debug_register_code</c> (a <c>ret</c> GDB puts its breakpoint on) and
/// <c>__jit_debug_descriptor</c> (version 1, no entries), for processes that do not define them: a .NET host does not;</item>
/// <item>per piece of loaded code, an in-memory relocatable object GDB reads instead of a file: <c>.text</c> (no
/// bytes) at the code's address, <c>.eh_frame</c> with the code's CFI, and a <c>.symtab</c> naming every function.</item>
/// </list>
/// </summary>
internal static class ElfImages
{
    private const ushort EtRel = 1, EtDyn = 3, EmX86_64 = 62;
    private const uint ShtProgBits = 1, ShtSymTab = 2, ShtStrTab = 3, ShtHash = 5, ShtDynamic = 6, ShtNoBits = 8, ShtDynSym = 11;
    private const ulong ShfWrite = 1, ShfAlloc = 2, ShfExecInstr = 4;
    private const uint PtLoad = 1, PtDynamic = 2, PtGnuStack = 0x6474E551;
    private const uint PfX = 1, PfW = 2, PfR = 4;
    private const byte SttObject = 1, SttFunc = 2, StbGlobal = 1;
    private const long DtNull = 0, DtHash = 4, DtStrTab = 5, DtSymTab = 6, DtStrSz = 10, DtSymEnt = 11;
    private const int EhdrSize = 64, PhdrSize = 56, ShdrSize = 64, SymSize = 24;

    public const string RegisterCodeSymbol = "__jit_debug_register_code";
    public const string DescriptorSymbol = "__jit_debug_descriptor";

    /// <summary>The helper shared object. Two loadable segments (read+execute: headers, hash table, dynamic symbols and
    /// the one-byte function; read+write: the dynamic section and the 24-byte descriptor, version 1), a non-executable
    /// stack, no relocations and no dependencies.</summary>
    public static byte[] JitDebugHelper()
    {
        byte[] dynstr = Strings(out int registerName, RegisterCodeSymbol, DescriptorSymbol);
        int descriptorName = registerName + RegisterCodeSymbol.Length + 1;
        const int Phnum = 4;
        const int HashAt = EhdrSize + Phnum * PhdrSize; // 0x120
        const int HashSize = 4 * (2 + 1 + 3);            // nbucket 1, nchain 3: every name hashes to bucket 0
        const int DynsymAt = HashAt + HashSize;
        const int DynsymSize = 3 * SymSize;
        const int DynstrAt = DynsymAt + DynsymSize;
        int textAt = Align(DynstrAt + dynstr.Length, 16);
        const int TextSize = 16;
        int readExecuteEnd = textAt + TextSize;
        const int DynamicAt = 0x1000;                     // the writable segment starts on its own page
        const int DynamicSize = 6 * 16;
        const int DataAt = DynamicAt + DynamicSize;
        const int DataSize = 32;
        const int ReadWriteEnd = DataAt + DataSize;
        byte[] shstrtab = Strings(out _, ".hash", ".dynsym", ".dynstr", ".text", ".dynamic", ".data", ".shstrtab");
        int shstrtabAt = ReadWriteEnd;
        int shoff = Align(shstrtabAt + shstrtab.Length, 8);
        const int Shnum = 8;
        var elf = new byte[shoff + Shnum * ShdrSize];
        Span<byte> f = elf;

        Header(f, EtDyn, phoff: EhdrSize, Phnum, shoff, Shnum, shstrndx: 7);
        ProgramHeader(f, 0, PtLoad, PfR | PfX, 0, readExecuteEnd, 0x1000);
        ProgramHeader(f, 1, PtLoad, PfR | PfW, DynamicAt, ReadWriteEnd - DynamicAt, 0x1000);
        ProgramHeader(f, 2, PtDynamic, PfR | PfW, DynamicAt, DynamicSize, 8);
        ProgramHeader(f, 3, PtGnuStack, PfR | PfW, 0, 0, 16);

        // SysV hash table: nbucket, nchain, bucket[0] = 2, chain = [0, 0, 1]: lookups walk symbol 2, then 1.
        U32(f, HashAt, 1); U32(f, HashAt + 4, 3); U32(f, HashAt + 8, 2); U32(f, HashAt + 12, 0); U32(f, HashAt + 16, 0); U32(f, HashAt + 20, 1);
        Symbol(f, DynsymAt + SymSize, registerName, SttFunc, shndx: 4, value: (ulong)textAt, size: 1);
        Symbol(f, DynsymAt + 2 * SymSize, descriptorName, SttObject, shndx: 6, value: DataAt, size: 24);
        dynstr.CopyTo(f[DynstrAt..]);
        f.Slice(textAt, TextSize).Fill(0xCC);
        f[textAt] = 0xC3; // ret

        long[] dynamic = [DtHash, HashAt, DtStrTab, DynstrAt, DtSymTab, DynsymAt, DtStrSz, dynstr.Length, DtSymEnt, SymSize, DtNull, 0];
        for (int i = 0; i < dynamic.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(f[(DynamicAt + 8 * i)..], dynamic[i]);
        U32(f, DataAt, 1); // jit_descriptor.version = 1; action, relevant_entry and first_entry are zero
        shstrtab.CopyTo(f[shstrtabAt..]);

        int name = 1;
        int Next(string s) { int n = name; name += s.Length + 1; return n; }
        SectionHeader(f, shoff, 1, Next(".hash"), ShtHash, ShfAlloc, HashAt, HashAt, HashSize, link: 2, info: 0, align: 8, entsize: 4);
        SectionHeader(f, shoff, 2, Next(".dynsym"), ShtDynSym, ShfAlloc, DynsymAt, DynsymAt, DynsymSize, link: 3, info: 1, align: 8, entsize: SymSize);
        SectionHeader(f, shoff, 3, Next(".dynstr"), ShtStrTab, ShfAlloc, DynstrAt, DynstrAt, dynstr.Length, link: 0, info: 0, align: 1, entsize: 0);
        SectionHeader(f, shoff, 4, Next(".text"), ShtProgBits, ShfAlloc | ShfExecInstr, (ulong)textAt, textAt, TextSize, link: 0, info: 0, align: 16, entsize: 0);
        SectionHeader(f, shoff, 5, Next(".dynamic"), ShtDynamic, ShfAlloc | ShfWrite, DynamicAt, DynamicAt, DynamicSize, link: 3, info: 0, align: 8, entsize: 16);
        SectionHeader(f, shoff, 6, Next(".data"), ShtProgBits, ShfAlloc | ShfWrite, DataAt, DataAt, DataSize, link: 0, info: 0, align: 8, entsize: 0);
        SectionHeader(f, shoff, 7, Next(".shstrtab"), ShtStrTab, 0, 0, shstrtabAt, shstrtab.Length, link: 0, info: 0, align: 1, entsize: 0);
        return elf;
    }

    /// <summary>
    /// The symbol file of a piece of loaded code for GDB's JIT interface: a relocatable x86-64 object whose
    /// <c>.text</c> (no bytes: GDB reads code from the process) lies at <paramref name="textAddress"/>, whose
    /// <c>.eh_frame</c> is <paramref name="cfi"/> with each pc_begin made relative to that address (GDB's text base is
    /// <c>.text</c>'s address), and whose <c>.symtab</c> gives each function's offset and size in the text.
    /// </summary>
    public static byte[] SymbolFile(nint textAddress, long textSize, ReadOnlySpan<byte> cfi, IReadOnlyList<(string Name, long Offset, long Size)> functions)
    {
        byte[] strtab = Strings(out _, [.. functions.Select(f => CodeRegistration.ToolName(f.Name))]);
        byte[] shstrtab = Strings(out _, ".text", ".eh_frame", ".symtab", ".strtab", ".shstrtab");
        int ehFrameAt = EhdrSize;
        int symtabAt = Align(ehFrameAt + cfi.Length, 8);
        int symtabSize = (functions.Count + 1) * SymSize;
        int strtabAt = symtabAt + symtabSize;
        int shstrtabAt = strtabAt + strtab.Length;
        int shoff = Align(shstrtabAt + shstrtab.Length, 8);
        const int Shnum = 6;
        var elf = new byte[shoff + Shnum * ShdrSize];
        Span<byte> f = elf;
        Header(f, EtRel, phoff: 0, phnum: 0, shoff, Shnum, shstrndx: 5);

        cfi.CopyTo(f[ehFrameAt..]);
        foreach (int fde in UnwindRules.FdeOffsets(cfi))
        {
            Span<byte> pcBegin = f[(ehFrameAt + fde + UnwindRules.FdePcBegin)..];
            BinaryPrimitives.WriteUInt64LittleEndian(pcBegin, BinaryPrimitives.ReadUInt64LittleEndian(pcBegin) - UnwindRules.TextBias);
        }
        int name = 1;
        for (int i = 0; i < functions.Count; i++)
        {
            Symbol(f, symtabAt + (i + 1) * SymSize, name, SttFunc, shndx: 1, value: (ulong)functions[i].Offset, size: (ulong)functions[i].Size);
            name += Encoding.UTF8.GetByteCount(CodeRegistration.ToolName(functions[i].Name)) + 1;
        }
        strtab.CopyTo(f[strtabAt..]);
        shstrtab.CopyTo(f[shstrtabAt..]);

        int sectionName = 1;
        int Next(string s) { int n = sectionName; sectionName += s.Length + 1; return n; }
        SectionHeader(f, shoff, 1, Next(".text"), ShtNoBits, ShfAlloc | ShfExecInstr, (ulong)textAddress, EhdrSize, textSize, link: 0, info: 0, align: 16, entsize: 0);
        SectionHeader(f, shoff, 2, Next(".eh_frame"), ShtProgBits, ShfAlloc, 0, ehFrameAt, cfi.Length, link: 0, info: 0, align: 8, entsize: 0);
        SectionHeader(f, shoff, 3, Next(".symtab"), ShtSymTab, 0, 0, symtabAt, symtabSize, link: 4, info: 1, align: 8, entsize: SymSize);
        SectionHeader(f, shoff, 4, Next(".strtab"), ShtStrTab, 0, 0, strtabAt, strtab.Length, link: 0, info: 0, align: 1, entsize: 0);
        SectionHeader(f, shoff, 5, Next(".shstrtab"), ShtStrTab, 0, 0, shstrtabAt, shstrtab.Length, link: 0, info: 0, align: 1, entsize: 0);
        return elf;
    }

    /// <summary>A string table: a leading NUL, then each string and its NUL; <paramref name="first"/> is the first's offset (1).</summary>
    private static byte[] Strings(out int first, params string[] strings)
    {
        first = 1;
        var bytes = new List<byte> { 0 };
        foreach (string s in strings)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(s));
            bytes.Add(0);
        }
        return [.. bytes];
    }

    private static void Header(Span<byte> f, ushort type, int phoff, int phnum, int shoff, int shnum, int shstrndx)
    {
        f[0] = 0x7F; f[1] = (byte)'E'; f[2] = (byte)'L'; f[3] = (byte)'F';
        f[4] = 2; // ELFCLASS64
        f[5] = 1; // ELFDATA2LSB
        f[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(f[16..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(f[18..], EmX86_64);
        U32(f, 20, 1);
        BinaryPrimitives.WriteUInt64LittleEndian(f[32..], (ulong)phoff);
        BinaryPrimitives.WriteUInt64LittleEndian(f[40..], (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(f[52..], EhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(f[54..], PhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(f[56..], (ushort)phnum);
        BinaryPrimitives.WriteUInt16LittleEndian(f[58..], ShdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(f[60..], (ushort)shnum);
        BinaryPrimitives.WriteUInt16LittleEndian(f[62..], (ushort)shstrndx);
    }

    /// <summary>A program header whose file offset equals its address (the helper is laid out that way).</summary>
    private static void ProgramHeader(Span<byte> f, int index, uint type, uint flags, long at, long size, long align)
    {
        Span<byte> p = f[(EhdrSize + index * PhdrSize)..];
        U32(p, 0, type);
        U32(p, 4, flags);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)at);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], (ulong)at);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], (ulong)at);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)size);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], (ulong)size);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], (ulong)align);
    }

    private static void SectionHeader(Span<byte> f, int shoff, int index, int name, uint type, ulong flags, ulong address, long offset, long size,
        uint link, uint info, ulong align, ulong entsize)
    {
        Span<byte> s = f[(shoff + index * ShdrSize)..];
        U32(s, 0, (uint)name);
        U32(s, 4, type);
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(s[16..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], (ulong)size);
        U32(s, 40, link);
        U32(s, 44, info);
        BinaryPrimitives.WriteUInt64LittleEndian(s[48..], align);
        BinaryPrimitives.WriteUInt64LittleEndian(s[56..], entsize);
    }

    private static void Symbol(Span<byte> f, int at, int name, byte type, ushort shndx, ulong value, ulong size)
    {
        U32(f, at, (uint)name);
        f[at + 4] = (byte)((StbGlobal << 4) | type);
        f[at + 5] = 0; // default visibility
        BinaryPrimitives.WriteUInt16LittleEndian(f[(at + 6)..], shndx);
        BinaryPrimitives.WriteUInt64LittleEndian(f[(at + 8)..], value);
        BinaryPrimitives.WriteUInt64LittleEndian(f[(at + 16)..], size);
    }

    private static void U32(Span<byte> f, int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(f[at..], value);

    private static int Align(int value, int alignment) => (value + alignment - 1) & -alignment;
}
