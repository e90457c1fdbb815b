using AotCache.Format;
using AotCache.Reader;
using AotCache.Tools.CacheDump;
using Iced.Intel;
using IcedDecoder = Iced.Intel.Decoder;

namespace AotCache.ConformanceTests;

/// <summary>
/// The checked-in golden files: <c>Golden/{name}.aotc</c> must be exactly what <see cref="GoldenModules"/> builds
/// today (so any layout change forces a reviewed update), and <c>cachedump</c>'s output for each must match
/// <c>{name}.verified.txt</c>. With <c>AOTCACHE_ACCEPT=1</c> both are rewritten; review every dump by eye.
/// </summary>
public sealed class GoldenTests
{
    public static TheoryData<string> Modules => ["example", "imports", "stale", "unwind"];

    private static bool Accepting => Environment.GetEnvironmentVariable("AOTCACHE_ACCEPT") == "1";

    [Theory]
    [MemberData(nameof(Modules))]
    public void Checked_in_file_is_byte_for_byte_what_the_builder_writes(string name)
    {
        byte[] built = GoldenModules.All[name]();
        string path = CheckedInFile(name, built);

        byte[] checkedIn = File.ReadAllBytes(path);

        int firstDifference = built.AsSpan().CommonPrefixLength(checkedIn);
        Assert.True(firstDifference == built.Length && built.Length == checkedIn.Length,
            $"{name}.aotc ({checkedIn.Length} bytes) differs from what GoldenModules.{name} builds now ({built.Length} bytes) " +
            $"from offset {firstDifference} (0x{firstDifference:x}). If the change is intended, rerun with AOTCACHE_ACCEPT=1 " +
            "and review the dumps.");
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public void Text_dump_matches_the_verified_dump(string name)
    {
        string path = CheckedInFile(name, GoldenModules.All[name]());

        (int exit, string output, string errors) = Run(path);

        Assert.Equal("", errors);
        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        GoldenFile.Verify(name, output);
    }

    [Fact]
    public void Json_dump_of_example_matches_the_verified_dump()
    {
        string path = CheckedInFile("example", GoldenModules.Example());

        (int exit, string output, string errors) = Run(path, "--json");

        Assert.Equal("", errors);
        Assert.Equal(CacheDumpCommand.ExitOk, exit);
        GoldenFile.Verify("example.json", output);
    }

    /// <summary>The listings in <see cref="GoldenModules"/> are hand-assembled: Iced, decoding independently,
    /// must find every relocation's field exactly on an instruction's rel32, disp32 or imm64, with the addend
    /// that makes a PC-relative value count from the end of the instruction.</summary>
    [Theory]
    [MemberData(nameof(Modules))]
    public void Every_code_relocation_sits_exactly_on_an_instruction_field(string name)
    {
        using CacheImage image = CacheImage.Read(GoldenModules.All[name]());
        int checkedFields = 0;
        foreach (FunctionRecord f in image.Functions)
        {
            byte[] code = image.FunctionCode(f).ToArray();
            var decoder = IcedDecoder.Create(64, new ByteArrayCodeReader(code), 0);
            var instructions = new List<(Instruction Instruction, ConstantOffsets Constants)>();
            while (decoder.IP < (ulong)code.Length)
            {
                decoder.Decode(out Instruction instruction);
                Assert.False(instruction.IsInvalid, $"{name}: undecodable bytes at +0x{instruction.IP:x} of {image.SymbolName((int)f.Symbol)}");
                instructions.Add((instruction, decoder.GetConstantOffsets(instruction)));
            }
            foreach (RelocationRecord r in image.RelocationsOf(f))
            {
                string where = $"{name}: {image.SymbolName((int)f.Symbol)}+0x{r.Offset:x} ({r.Kind} -> {image.SymbolName((int)r.Target)})";
                (Instruction ins, ConstantOffsets c) = Assert.Single(instructions, i => i.Instruction.IP <= r.Offset && r.Offset < i.Instruction.NextIP);
                int fieldInInstruction = (int)(r.Offset - ins.IP);
                if (r.Kind == RelocationKind.Absolute64)
                {
                    Assert.True(c.ImmediateSize == 8 && c.ImmediateOffset == fieldInInstruction, $"{where}: not on an imm64 ({ins})");
                    Assert.Equal(0, r.Addend);
                }
                else
                {
                    // call/jmp rel32 is reported as an immediate by Iced; RIP-relative operands as a displacement.
                    bool onRel32 = ins.IsCallNear || ins.IsJmpNear || ins.IsJccNear
                        ? c.ImmediateSize == 4 && c.ImmediateOffset == fieldInInstruction
                        : ins.IsIPRelativeMemoryOperand && c.DisplacementSize == 4 && c.DisplacementOffset == fieldInInstruction;
                    Assert.True(onRel32, $"{where}: not on a rel32 or RIP-relative disp32 ({ins})");
                    Assert.True(-(ins.Length - fieldInInstruction) == r.Addend, $"{where}: addend {r.Addend}, expected {-(ins.Length - fieldInInstruction)}");
                }
                checkedFields++;
            }
        }
        Assert.Equal(image.Relocations.Length - DataRelocationCount(image), checkedFields);
        Assert.True(checkedFields > 0);
    }

    private static int DataRelocationCount(CacheImage image)
    {
        int count = 0;
        foreach (DataObjectRecord d in image.DataObjects) count += (int)d.RelocationCount;
        return count;
    }

    /// <summary>The checked-in file's path; in accept mode it is (re)written first from <paramref name="built"/>.</summary>
    private static string CheckedInFile(string name, byte[] built)
    {
        string path = Path.Combine(GoldenFile.SourceDirectory, name + ".aotc");
        if (Accepting) File.WriteAllBytes(path, built);
        Assert.True(File.Exists(path), $"{path} is missing; create it with AOTCACHE_ACCEPT=1");
        return path;
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = CacheDumpCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }
}
