using System.Text.RegularExpressions;
using AotCache.Bench;
using AotCache.Bench.Peer;
using AotCache.Codegen.Ir;

namespace AotCache.ConformanceTests.Bench;

/// <summary>The gcc peer's generated C has the bench workload's shape: the same callees, in the same order.</summary>
public sealed partial class PeerSourceTests
{
    [GeneratedRegex(@"^(EXPORT )?i64 f(\d+)\(i64 x\) \{ if \(x <= 0\) return (\d+); return host_tick\(x\) \+ (\d+)((?: \+ f\d+\(x - 1\))*); \}$")]
    private static partial Regex Definition();

    [GeneratedRegex(@"f(\d+)\(x - 1\)")]
    private static partial Regex Call();

    [Theory]
    [InlineData(5, Workload.DefaultSeed)]
    [InlineData(300, 7)]
    public void The_C_call_graph_is_the_workloads(int n, int seed)
    {
        string source = PeerSource.Generate(n, seed);
        var workload = new Workload(n, seed);
        var definitions = source.Split('\n').Select(l => Definition().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(n, definitions.Count);
        for (int i = 0; i < n; i++)
        {
            Match m = definitions[i];
            Assert.Equal(i == 0, m.Groups[1].Success); // only the entry is exported among the functions
            Assert.Equal($"{i}", m.Groups[2].Value);
            Assert.Equal($"{i}", m.Groups[3].Value);
            Assert.Equal($"{i}", m.Groups[4].Value);
            var cCallees = Call().Matches(m.Groups[5].Value).Select(c => $"f{c.Groups[1].Value}").ToList();
            Assert.Equal(IrCallees(workload.Module.Functions[i]), cCallees);
        }
        if (n == 5)
        {
            // Pinned: a change here means Random, Workload.Callees or the generator changed, and the cached objects' key with it.
            Assert.Equal(["f1 f1 f2 f4", "f3 f3 f3 f4", "f3 f4 f3 f3", "f4 f4 f4 f4", ""],
                definitions.Select(d => string.Join(' ', Call().Matches(d.Groups[5].Value).Select(c => $"f{c.Groups[1].Value}"))));
        }
        Assert.Contains($"EXPORT const fn_t aot_table[{n}] = {{", source);
        string table = source[(source.IndexOf($"aot_table[{n}] = {{", StringComparison.Ordinal) + $"aot_table[{n}] = {{".Length)..source.LastIndexOf("};", StringComparison.Ordinal)];
        Assert.Equal(Enumerable.Range(0, n).Select(i => $"f{i}"),
            table.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("extern i64 host_tick(i64 x);", source);
        Assert.Equal(source, PeerSource.Generate(n, seed)); // deterministic: the text names the cached object
    }

    [Theory]
    [InlineData(5, 3)]
    [InlineData(300, 3)]
    [InlineData(300, 0)]
    public void The_expected_entry_result_is_what_the_IR_computes(int n, long argument)
    {
        var workload = new Workload(n);
        var interpreter = new IrInterpreter(workload.Module, (_, args) => IrValue.I64(args[0].AsI64 + 1));
        Assert.Equal(interpreter.Invoke("f0", IrValue.I64(argument))!.Value.AsI64, PeerSource.Expected(n, Workload.DefaultSeed, argument));
    }

    private static List<string> IrCallees(IrFunction f)
    {
        var names = new List<string>();
        void Walk(IrExpr e)
        {
            switch (e)
            {
                case IrBinary b: Walk(b.Left); Walk(b.Right); break;
                case IrCompare c: Walk(c.Left); Walk(c.Right); break;
                case IrCall c:
                    if (c.Callee != "host_tick") names.Add(c.Callee);
                    foreach (IrExpr a in c.Arguments) Walk(a);
                    break;
            }
        }
        foreach (IrStmt s in f.Body)
        {
            switch (s)
            {
                case IrIf i: Walk(i.Condition); break;
                case IrReturn { Value: { } v }: Walk(v); break;
            }
        }
        return names;
    }
}
