using AotCache.Bench;
using AotCache.Codegen;
using AotCache.ConformanceTests.Codegen;
using AotCache.ConformanceTests.Malformed;
using AotCache.ConformanceTests.Spec;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AotCache.ConformanceTests.Unwind;

/// <summary>
/// Unwind information in the format (FORMAT.md §19) from the writers' side: the code generator describes every
/// function it generates, exactly; a body keeps its description through the builder, a file, <c>GetFunctionBody</c>
/// and the rewriter; typed instructions and their bytes are one thing; a body refuses a program that leaves it.
/// The validator's rules are the spec vectors' (<c>unw-*</c>, <c>sec-6-unwind-section-required</c>, <c>valid/unwind</c>).
/// </summary>
public class UnwindFormatTests
{
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);

    /// <summary>The rows every generated function must have: push rbp at 0, mov rbp, rsp at 1, pop rbp at size − 2, ret.</summary>
    private static void AssertFramePointerFunction(CacheImage image, int function)
    {
        string name = image.SymbolName((int)image.Functions[function].Symbol);
        ReadOnlySpan<byte> code = image.FunctionCode(image.Functions[function]);
        Assert.True(code[..4].SequenceEqual((byte[])[0x55, 0x48, 0x89, 0xE5]), $"{name} does not start with push rbp; mov rbp, rsp");
        Assert.True(code[^2..].SequenceEqual((byte[])[0x5D, 0xC3]), $"{name} does not end with pop rbp; ret");
        UnwindInfo unwind = image.GetUnwindInfo(function) ?? throw new Xunit.Sdk.XunitException($"{name} has no unwind information");
        (DwarfRegister, int)[] entry = [(DwarfRegister.ReturnAddress, -8)];
        (DwarfRegister, int)[] framed = [(DwarfRegister.Rbp, -16), (DwarfRegister.ReturnAddress, -8)];
        var expected = new[]
        {
            (0, DwarfRegister.Rsp, 8, entry),
            (1, DwarfRegister.Rsp, 16, framed),
            (4, DwarfRegister.Rbp, 16, framed),
            (code.Length - 1, DwarfRegister.Rsp, 8, framed),
        };
        List<UnwindRow> rows = UnwindRow.Of(unwind);
        Assert.Equal(expected.Select(e => $"{e.Item1}: {e.Item2}+{e.Item3} {string.Join(",", e.Item4)}"),
            rows.Select(r => $"{r.CodeOffset}: {r.CfaRegister}+{r.CfaOffset} {string.Join(",", r.Saved)}"));
    }

    [Fact]
    public void UNW_4_the_code_generator_describes_every_function_of_generated_programs_exactly()
    {
        foreach (int seed in Enumerable.Range(1, 25))
        {
            DiffProgram program = IrProgramGenerator.Generate(seed, 12);
            using CacheImage image = CacheImage.Read(IrCompiler.Compile(program.Module, program.Options), ReadOptions.Full);
            Assert.True(image.HasUnwindInfo);
            Assert.Equal(3, image.Header.MinorVersion);
            for (int f = 0; f < image.Functions.Length; f++) AssertFramePointerFunction(image, f);
        }
        using CacheImage bench = CacheImage.Read(new Workload(300).CompileAll(prelink: false), ReadOptions.Full);
        for (int f = 0; f < bench.Functions.Length; f++) AssertFramePointerFunction(bench, f);
    }

    private static FunctionBody Body(byte[] code, UnwindInfo? unwind) => new FunctionBody(code, I64ToI64) { Unwind = unwind };

    // framed(x): push rbp; mov rbp, rsp; mov rax, rdi; pop rbp; ret — leaf: lea rax, [rdi+1]; ret — plain: the same, no unwind.
    private static readonly FunctionBody Framed = Body([0x55, 0x48, 0x89, 0xE5, 0x48, 0x89, 0xF8, 0x5D, 0xC3], UnwindInfo.FramePointer(1, 4, 8));
    private static readonly FunctionBody Leaf = Body([0x48, 0x8D, 0x47, 0x01, 0xC3], UnwindInfo.Frameless);
    private static readonly FunctionBody Plain = Body([0x48, 0x8D, 0x47, 0x01, 0xC3], null);

    private static byte[] Build(params (string Name, FunctionBody Body)[] functions)
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "unwind" };
        foreach (var (name, body) in functions) builder.AddFunction(name, body);
        return builder.ToArray();
    }

    [Fact]
    public void UNW_4_a_body_keeps_its_unwind_information_through_the_builder_a_file_and_GetFunctionBody()
    {
        using CacheImage image = CacheImage.Read(Build(("framed", Framed), ("plain", Plain), ("leaf", Leaf)), ReadOptions.Full);

        Assert.Equal(3, image.Header.MinorVersion);
        Assert.Equal(0u, image.Directory.ToArray().Single(e => e.Kind == (uint)SectionKind.Unwind).Flags);
        Assert.Equal(-1, image.UnwindEntry(image.FindFunction("plain")));
        Assert.Equal(Framed, image.GetFunctionBody("framed"));
        Assert.Equal(Plain, image.GetFunctionBody("plain"));
        Assert.Equal(Leaf, image.GetFunctionBody("leaf"));
        Assert.Null(image.GetFunctionBody("plain").Unwind);
        Assert.NotEqual(Framed with { Unwind = null }, image.GetFunctionBody("framed")); // the description is part of the body
    }

    [Fact]
    [Requirement("REC-10")]
    public void UNW_1_a_file_whose_functions_have_no_unwind_information_has_no_Unwind_section_and_stays_1_0()
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { Prelink = false };
        builder.AddFunction("plain", Plain);
        using CacheImage image = CacheImage.Read(builder.ToArray());
        Assert.False(image.HasUnwindInfo);
        Assert.Equal(0, image.Header.MinorVersion);
        Assert.Null(image.GetUnwindInfo(0));
    }

    [Fact]
    public void UNW_4_the_rewriter_moves_each_FDE_with_its_function_and_writes_what_the_builder_writes()
    {
        // The replaced body grows, so every function after it moves: their FDEs' pc_begin must follow.
        FunctionBody longer = Body([0x55, 0x48, 0x89, 0xE5, 0x90, 0x90, 0x48, 0x89, 0xF8, 0x5D, 0xC3], UnwindInfo.FramePointer(1, 4, 10));
        (string, FunctionBody)[] before = [("a", Leaf), ("framed", Framed), ("plain", Plain), ("z", Framed)];
        using CacheImage old = CacheImage.Read(Build(before));
        var rewriter = new CacheRewriter(old);
        rewriter.ReplaceFunction("framed", longer);
        byte[] rewritten = rewriter.Build().ToArray();

        Assert.Equal(Build(("a", Leaf), ("framed", longer), ("plain", Plain), ("z", Framed)), rewritten);
        using CacheImage image = CacheImage.Read(rewritten, ReadOptions.Full);
        Assert.Equal(longer, image.GetFunctionBody("framed"));
        Assert.Equal(Framed, image.GetFunctionBody("z"));
    }

    [Fact]
    public void UNW_4_an_edit_that_brings_the_first_unwind_information_adds_the_section_where_the_builder_puts_it()
    {
        var plainBuilder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "unwind" };
        plainBuilder.AddFunction("framed", Plain);
        plainBuilder.AddFunction("leaf", Plain);
        plainBuilder.AddPrivateSection(CacheBuilder.FirstPrivateSectionKind, [1, 2, 3]);
        using CacheImage old = CacheImage.Read(plainBuilder.ToArray());
        Assert.False(old.HasUnwindInfo);

        var rewriter = new CacheRewriter(old);
        rewriter.ReplaceFunction("leaf", Leaf);
        byte[] rewritten = rewriter.Build().ToArray();

        var expected = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "unwind" };
        expected.AddFunction("framed", Plain);
        expected.AddFunction("leaf", Leaf);
        expected.AddPrivateSection(CacheBuilder.FirstPrivateSectionKind, [1, 2, 3]);
        Assert.Equal(expected.ToArray(), rewritten);

        // And the edit that removes the last description removes the section again.
        using CacheImage withUnwind = CacheImage.Read(rewritten);
        var back = new CacheRewriter(withUnwind);
        back.ReplaceFunction("leaf", Plain);
        Assert.Equal(plainBuilder.ToArray(), back.Build().ToArray());
    }

    [Fact]
    public void UNW_5_a_program_that_leaves_its_function_is_refused_where_the_body_is_made()
    {
        var e = Assert.Throws<ArgumentException>(() => Body([0x31, 0xC0, 0xC3], UnwindInfo.FramePointer(1, 4, 8)));
        Assert.Contains("UNW-5", e.Message);
        Assert.Contains("not inside the function's 3 bytes", e.Message);

        e = Assert.Throws<ArgumentException>(() => new UnwindInfo([0x10, 0x06, 0x00])); // DW_CFA_expression
        Assert.Contains("UNW-5", e.Message);
        e = Assert.Throws<ArgumentException>(() => new UnwindInfo([CfaInstruction.DefCfaRegister(DwarfRegister.Rax)]));
        Assert.Contains("rsp and rbp", e.Message);
        e = Assert.Throws<ArgumentException>(() => new UnwindInfo([CfaInstruction.RestoreState()]));
        Assert.Contains("remember", e.Message);
    }

    [Fact]
    public void UNW_5_trailing_padding_is_not_part_of_a_description()
    {
        Assert.Equal(UnwindInfo.Frameless, new UnwindInfo([0x00, 0x00, 0x00]));
        Assert.Equal(UnwindInfo.FramePointer(1, 4, 8), new UnwindInfo([.. UnwindInfo.FramePointer(1, 4, 8).Program, 0x00, 0x00]));
    }

    /// <summary>
    /// The golden <c>unwind</c> module (functions leaf 0, framed 1, plain 2), broken one field at a time by the reference
    /// writer's side of the house, independently of the second writer's vectors. Layout: index at +0 (12 bytes), padding
    /// +12, CFI area at +16: the CIE, leaf's FDE at +24 (32 bytes), framed's at +56, the terminator last.
    /// </summary>
    private static readonly Dictionary<string, (Func<Vandal, byte[]> Make, ErrorCode Code, Func<Vandal, long> Offset)> Breaks = new()
    {
        ["UNW-1 nonzero padding after the index"] = (v => v.U8(Unwind(v) + 12, 1).Reseal(), ErrorCode.BadUnwindSection, v => Unwind(v) + 12),
        ["UNW-2 a record of 34 bytes"] = (v => v.U32(Cfi(v) + 24, 30).Reseal(), ErrorCode.BadUnwindRecord, v => Cfi(v) + 24),
        ["UNW-2 no terminator"] = (v => v.U32(v.SectionOffset(SectionKind.Unwind) + Size(v) - 4, 8).Reseal(), ErrorCode.BadUnwindRecord, v => Unwind(v) + Size(v) - 4),
        ["UNW-3 CIE of version 3"] = (v => v.U8(Cfi(v) + 8, 3).Reseal(), ErrorCode.BadUnwindCie, v => Cfi(v) + 8),
        ["UNW-3 an FDE that says it is a CIE"] = (v => v.U32(Cfi(v) + 28, 0).Reseal(), ErrorCode.BadUnwindCie, v => Cfi(v) + 28),
        ["UNW-4 an FDE one byte short of its function"] = (v => v.U64(Cfi(v) + 24 + 16, 4).Reseal(), ErrorCode.UnwindCoverageMismatch, v => Cfi(v) + 40),
        ["UNW-4 plain's entry names leaf's FDE"] = (v => v.U32(Unwind(v) + 8, 24).Reseal(), ErrorCode.UnwindCoverageMismatch, v => Unwind(v) + 8),
        ["UNW-5 a GNU extension in framed's program"] = (v => v.U8(Cfi(v) + 56 + 25, 0x2F).Reseal(), ErrorCode.BadCfaProgram, v => Cfi(v) + 81),
        ["SEC-6 an Unwind section marked required"] = (v => v.U32(v.DirectoryEntry(SectionKind.Unwind) + 4, 1).Reseal(), ErrorCode.SectionFlagMismatch, v => v.DirectoryEntry(SectionKind.Unwind) + 4),
    };

    private static int Unwind(Vandal v) => v.SectionOffset(SectionKind.Unwind);
    private static int Cfi(Vandal v) => Unwind(v) + 16;
    private static int Size(Vandal v) => (int)v.Original.Directory.ToArray().Single(e => e.Kind == (uint)SectionKind.Unwind).Size;

    public static TheoryData<string> BreakNames => new(Breaks.Keys);

    [Theory]
    [MemberData(nameof(BreakNames))]
    public void A_broken_unwind_section_is_refused_with_its_code_and_offset(string name)
    {
        var (make, code, offset) = Breaks[name];
        var vandal = new Vandal(GoldenModules.Unwind());
        byte[] bytes = make(vandal);

        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(bytes, ReadOptions.Full));

        Assert.Equal(code, e.Code);
        Assert.Equal(offset(vandal), e.Offset);
        Assert.StartsWith(e.Requirement, name);
    }

    /// <summary>Programs of the subset: each step an advance and one instruction, remember/restore balanced.</summary>
    private static Gen<CfaInstruction[]> Programs =>
        from steps in Gen.ArrayOf(from kind in Gen.Choose(0, 9) from delta in Gen.Choose(0, 70_000) from size in Gen.Choose(1, 512) select (kind, delta, size))
        select Steps(steps);

    private static CfaInstruction[] Steps(IEnumerable<(int Kind, int Delta, int Size)> steps)
    {
        DwarfRegister[] saved = [DwarfRegister.Rbx, DwarfRegister.Rbp, DwarfRegister.R12, DwarfRegister.R13, DwarfRegister.R14, DwarfRegister.R15, DwarfRegister.ReturnAddress];
        var list = new List<CfaInstruction>();
        int at = 0, depth = 0;
        foreach (var (kind, delta, size) in steps)
        {
            at += kind % 3 == 0 ? delta : delta % 64;
            CfaInstruction? next = kind switch
            {
                0 => CfaInstruction.DefCfa(size % 2 == 0 ? DwarfRegister.Rsp : DwarfRegister.Rbp, 8 * size, at),
                1 => CfaInstruction.DefCfaRegister(size % 2 == 0 ? DwarfRegister.Rsp : DwarfRegister.Rbp, at),
                2 => CfaInstruction.DefCfaOffset(8 * size, at),
                3 or 4 => CfaInstruction.SavedAt(saved[size % saved.Length], -8 * size, at),
                5 => CfaInstruction.Restore(saved[size % saved.Length], at),
                6 when depth < UnwindRules.MaxRememberDepth => CfaInstruction.RememberState(at),
                7 when depth > 0 => CfaInstruction.RestoreState(at),
                _ => null,
            };
            if (next is not { } instruction) continue;
            depth += instruction.Operation == CfaOperation.RememberState ? 1 : instruction.Operation == CfaOperation.RestoreState ? -1 : 0;
            list.Add(instruction);
        }
        return [.. list];
    }

    [Property(MaxTest = 300)]
    public Property UNW_5_typed_instructions_and_their_bytes_are_one_description() =>
        Prop.ForAll(Programs.ToArbitrary(), instructions =>
        {
            var unwind = new UnwindInfo(instructions);
            int end = instructions.Length == 0 ? 0 : instructions[^1].CodeOffset;
            return unwind.Instructions.SequenceEqual(instructions)
                && new UnwindInfo(unwind.Program.AsSpan()).Equals(unwind)
                && UnwindRules.CheckProgram(unwind.Program.AsSpan(), end + 1) is null
                && (end == 0 || UnwindRules.CheckProgram(unwind.Program.AsSpan(), end) is not null);
        });
}
