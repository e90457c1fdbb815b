using AotCache.Codegen.Ir;
using AotCache.DiffRunner;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>Issue 3: the differential test's generator makes programs worth comparing, and its shrinker
/// makes programs that still type-check.</summary>
public class IrProgramGeneratorTests
{
    private static IEnumerable<IrStmt> Statements(IEnumerable<IrStmt> block) => block.SelectMany(s => s switch
    {
        IrIf i => [s, .. Statements(i.Then), .. Statements(i.Else)],
        IrWhile w => [s, .. Statements(w.Body)],
        _ => new[] { s },
    });

    private static IEnumerable<IrExpr> Expressions(IrExpr e) => e switch
    {
        IrUnary u => [e, .. Expressions(u.Operand)],
        IrBinary b => [e, .. Expressions(b.Left), .. Expressions(b.Right)],
        IrCompare c => [e, .. Expressions(c.Left), .. Expressions(c.Right)],
        IrLogical g => [e, .. Expressions(g.Left), .. Expressions(g.Right)],
        IrCall call => [e, .. call.Arguments.SelectMany(Expressions)],
        _ => [e],
    };

    private static IEnumerable<IrExpr> Expressions(IrFunction f) => Statements(f.Body).SelectMany(s => s switch
    {
        IrAssign a => Expressions(a.Value),
        IrStoreGlobal g => Expressions(g.Value),
        IrIf i => Expressions(i.Condition),
        IrWhile w => Expressions(w.Condition),
        IrReturn { Value: not null } r => Expressions(r.Value),
        IrExprStmt e => Expressions(e.Value),
        _ => [],
    });

    /// <summary>Statements and expressions, with a zero constant weighing less than any other leaf.</summary>
    private static int Weight(DiffProgram p) => p.Module.Functions.Sum(f =>
        Statements(f.Body).Count() + Expressions(f).Sum(e => e is IrConstI64 { Value: 0 } or IrConstF64 { Value: 0.0 } ? 1 : e is IrConstI64 or IrConstF64 or IrLocal or IrLoadGlobal ? 2 : 1));

    private static bool IsNode(string name) => name == DiffRequest.EntryName || name.StartsWith("node", StringComparison.Ordinal);

    [Fact]
    public void ISSUE_3_generated_programs_type_check_terminate_and_cover_recursion_loops_imports_globals_and_f64()
    {
        const int count = 400;
        var features = new Dictionary<string, int>(StringComparer.Ordinal);
        void Count(string feature, bool present)
        {
            if (present) features[feature] = features.GetValueOrDefault(feature) + 1;
        }
        int deepest = 0;
        for (int i = 0; i < count; i++)
        {
            DiffProgram p = IrProgramGenerator.Generate(seed: 7919 * i + 13, size: 1 + i % 100);
            IrChecker.Check(p.Module);
            var host = new DiffHostState();
            var interpreter = new IrInterpreter(p.Module, (import, args) => DifferentialTests.CallHost(host, import, args),
                new IrInterpreterLimits { MaxSteps = 2_000_000, MaxCallDepth = 100 });
            int depth = 0;
            foreach (EntryArguments a in p.Calls)
            {
                interpreter.Invoke(DiffRequest.EntryName, IrValue.I64(a.Depth), IrValue.I64(a.A), IrValue.I64(a.B), IrValue.F64Bits(a.XBits), IrValue.F64Bits(a.YBits));
                depth = Math.Max(depth, interpreter.CallDepthReached);
            }
            deepest = Math.Max(deepest, depth);
            var calls = p.Module.Functions.SelectMany(f => Expressions(f).OfType<IrCall>().Select(c => (Caller: f.Name, c.Callee))).ToList();
            Count("recursion (a node calls a node)", calls.Any(c => IsNode(c.Caller) && IsNode(c.Callee)));
            Count("self recursion", calls.Any(c => c.Caller == c.Callee));
            Count("leaf calls", calls.Any(c => c.Callee.StartsWith("leaf", StringComparison.Ordinal)));
            Count("call depth of 4 or more reached", depth >= 4);
            Count("loop", p.Module.Functions.Any(f => Statements(f.Body).Any(s => s is IrWhile)));
            Count("global store", p.Module.Functions.Any(f => Statements(f.Body).Any(s => s is IrStoreGlobal)));
            Count("f64 result", p.ResultIsF64);
            Count("5+ parameters", p.Module.Functions.Any(f => f.Name != DiffRequest.EntryName && f.Parameters.Length >= 5));
            Count("NaN constant", p.Module.Functions.Any(f => Expressions(f).Any(e => e is IrConstF64 c && double.IsNaN(c.Value))));
            Count("short-circuit logic", p.Module.Functions.Any(f => Expressions(f).Any(e => e is IrLogical)));
            foreach (IrImport import in IrProgramGenerator.Imports) Count("calls " + import.Name, calls.Any(c => c.Callee == import.Name));
        }
        string summary = string.Join(", ", features.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));
        foreach (string feature in new[] { "recursion (a node calls a node)", "self recursion", "leaf calls", "call depth of 4 or more reached", "loop",
                     "global store", "f64 result", "5+ parameters", "NaN constant", "short-circuit logic" }
                     .Concat(IrProgramGenerator.Imports.Select(i => "calls " + i.Name)))
            Assert.True(features.GetValueOrDefault(feature) >= count / 20, $"'{feature}' in too few programs: {summary}");
        Assert.True(deepest >= 5, $"calls never nested deeper than {deepest}");
    }

    [Fact]
    public void ISSUE_3_a_seed_and_size_replay_the_same_program()
    {
        for (int seed = 0; seed < 50; seed++)
            Assert.Equal(IrPrinter.Print(IrProgramGenerator.Generate(seed, 60).Module), IrPrinter.Print(IrProgramGenerator.Generate(seed, 60).Module));
        Assert.NotEqual(IrPrinter.Print(IrProgramGenerator.Generate(1, 60).Module), IrPrinter.Print(IrProgramGenerator.Generate(2, 60).Module));
    }

    [Fact]
    public void ISSUE_3_shrinking_gives_smaller_programs_that_still_type_check()
    {
        int candidates = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            DiffProgram p = IrProgramGenerator.Generate(seed, 50);
            int size = Weight(p);
            foreach (DiffProgram smaller in IrProgramShrinker.Shrink(p).Take(200))
            {
                IrChecker.Check(smaller.Module);
                Assert.True(smaller.Shrunk);
                Assert.True(Weight(smaller) < size || smaller.Calls.Count < p.Calls.Count,
                    $"not smaller:\n{smaller}\nthan:\n{p}");
                candidates++;
            }
        }
        Assert.True(candidates > 100, $"only {candidates} shrink candidates");
    }
}
