using AotCache.Format;
using AotCache.Writer;

namespace AotCache.ConformanceTests.HotSwap;

/// <summary>
/// Hand-assembled test bodies: <c>f(...) = constant + Σ callee(0)</c>. Each call is <c>call rel32</c>
/// (FunctionPcRel32, addend −4) recording the callee signature it was compiled against.
/// </summary>
public static class SwapCode
{
    public static readonly Signature NoParams = Signature.SysV([], [ScalarType.I64]);
    public static readonly Signature OneParam = Signature.SysV([ScalarType.I64], [ScalarType.I64]);

    public readonly record struct Call(string Callee, Signature CompiledAgainst);

    /// <summary>Code and relocation offsets of a body.</summary>
    public static (byte[] Code, List<(int Offset, Call Call)> Calls) Assemble(int constant, IReadOnlyList<Call> calls, int padding = 0)
    {
        var code = new List<byte> { 0x53, 0xBB };                    // push rbx; mov ebx, imm32
        code.AddRange(BitConverter.GetBytes(constant));
        var sites = new List<(int, Call)>();
        foreach (Call c in calls)
        {
            if (c.CompiledAgainst.Parameters.Length == 1) code.AddRange([0x31, 0xFF]); // xor edi, edi
            code.Add(0xE8);                                          // call rel32
            sites.Add((code.Count, c));
            code.AddRange([0, 0, 0, 0]);
            code.AddRange([0x48, 0x01, 0xC3]);                       // add rbx, rax
        }
        code.AddRange([0x48, 0x89, 0xD8, 0x5B, 0xC3]);               // mov rax, rbx; pop rbx; ret
        for (int i = 0; i < padding; i++) code.Add(0xCC);
        return ([.. code], sites);
    }

    public static FunctionBody Update(int constant, Signature signature, IReadOnlyList<Call> calls, int padding = 0,
        ContentHash content = default, IReadOnlyList<Dependency>? dependencies = null)
    {
        var (code, sites) = Assemble(constant, calls, padding);
        return new FunctionBody(code, signature, Relocations(sites), dependencies) { ContentHash = content };
    }

    private static IEnumerable<Relocation> Relocations(List<(int Offset, Call Call)> sites) =>
        sites.Select(s => new Relocation(s.Offset, RelocationKind.FunctionPcRel32, s.Call.Callee, -4, s.Call.CompiledAgainst.Hash));

    /// <summary>A whole module of such functions, in the given order (callees must come first or be declared).</summary>
    public static byte[] Module(IReadOnlyList<(string Name, int Constant, Signature Signature, IReadOnlyList<Call> Calls)> functions,
        IReadOnlyDictionary<string, Dependency[]>? dependencies = null)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "swap" };
        var handles = new Dictionary<string, SymbolHandle>();
        foreach (var f in functions) handles[f.Name] = b.DeclareFunction(f.Name, b.AddDeclaration(f.Signature));
        foreach (var f in functions)
        {
            var (code, sites) = Assemble(f.Constant, f.Calls);
            b.DefineFunction(handles[f.Name], new FunctionBody(code, f.Signature, Relocations(sites), dependencies?.GetValueOrDefault(f.Name))
            {
                ContentHash = new ContentHash((ulong)f.Constant, 0),
            });
        }
        return b.ToArray();
    }
}
