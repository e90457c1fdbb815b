using System.Collections.Immutable;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.DiffRunner;
using FsCheck;
using FsCheck.Fluent;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>A generated program with what the differential test does with it: compile options, and the
/// argument sets with which its <c>entry(i64 depth, i64 a, i64 b, f64 x, f64 y)</c> is called, in order.</summary>
public sealed record DiffProgram(int Seed, int Size, IrModule Module, IrCompileOptions Options, IReadOnlyList<EntryArguments> Calls)
{
    /// <summary>True for a shrinker's variant, which <see cref="IrProgramGenerator.Generate"/> cannot replay: only its listing describes it.</summary>
    public bool Shrunk { get; init; }

    public IrFunction Entry => Module.Functions.Single(f => f.Name == DiffRequest.EntryName);

    public bool ResultIsF64 => Entry.Result == F64;

    public IReadOnlyList<string> WritableGlobals => [.. Module.Globals.Where(g => g.Writable).Select(g => g.Name)];

    public override string ToString() =>
        $"{(Shrunk ? "shrunk from " : "")}seed {Seed}, size {Size}; imports via {Options.ImportCalls}, globals via {Options.GlobalAccess}; calls: {string.Join("; ", Calls)}\n{IrPrinter.Print(Module)}";
}

/// <summary>
/// Arbitrary well-typed IR programs (issue 3): call graphs with bounded recursion, loops with bounded trip
/// counts, host imports (counted C# callbacks, libc <c>labs</c>, libm <c>floor</c>), read-only and
/// writable globals, and i64/f64 mixes with edge values (MIN, −1, NaN payloads, ±0, ±∞, 2⁶³).
/// <para>Termination by construction: "node" functions take a depth as parameter 0, never assign it, start
/// with <c>if depth &lt;= 0 return …</c> (no node calls there) and pass <c>depth − 1</c> or less to every node
/// they call, so any call graph among nodes, mutual recursion included, is bounded by the entry's depth.
/// "Leaf" functions call only later leaves and imports. Loops count a dedicated local to at most 4. Each
/// function's call sites, weighted by the trips of enclosing loops, stay within a budget, so the work per
/// call stays small.</para>
/// FsCheck draws a seed and a size; the program follows from them, so a failure replays exactly. The
/// shrinker removes statements and simplifies expressions.
/// </summary>
public static class IrProgramGenerator
{
    public static readonly ImmutableArray<IrImport> Imports =
    [
        new IrImport(DiffHost.Tick, [I64], I64),
        new IrImport(DiffHost.Mix, [I64, F64], F64),
        new IrImport(DiffHost.Note, [I64], null),
        new IrImport(DiffHost.Labs, [I64], I64),
        new IrImport(DiffHost.Floor, [F64], F64),
    ];

    public static Gen<DiffProgram> Programs =>
        from seed in Gen.Choose(0, int.MaxValue)
        from size in Gen.Sized(Gen.Constant)
        select Generate(seed, Math.Clamp(size, 1, 100));

    public static Arbitrary<DiffProgram> Arbitrary() => Arb.From(Programs, IrProgramShrinker.Shrink);

    /// <summary>The program of a seed and size: <c>Generate(seed, size)</c> replays a reported failure.</summary>
    public static DiffProgram Generate(int seed, int size) => new Builder(new Random(seed), size).Build() with { Seed = seed, Size = size };

    private static readonly long[] InterestingI64 =
    [
        0, 1, -1, 2, 3, 7, -7, 63, 64, 65, 100, long.MinValue, long.MaxValue, long.MinValue + 1, int.MinValue, int.MaxValue,
        uint.MaxValue, 1L << 32, 1L << 53, (1L << 53) + 1,
    ];

    private static readonly long[] InterestingF64Bits =
    [
        .. new[]
        {
            0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 3.75, 1e300, -1e300, double.Epsilon, 2.2250738585072014E-308,
            double.PositiveInfinity, double.NegativeInfinity, 9223372036854775808.0, -9223372036854775808.0,
            9.2233720368547748E+18, 4503599627370497.0, 0.1, 1e-10,
        }.Select(BitConverter.DoubleToInt64Bits),
        long.MinValue,                                  // −0.0
        unchecked((long)0xFFF8_0000_0000_0000),         // the default NaN
        0x7FF8_0000_0000_0001,                          // a quiet NaN with a payload
        0x7FF0_0000_0000_0001,                          // a signalling NaN
        unchecked((long)0xFFF4_0000_0000_1234),         // a negative signalling NaN with a payload
    ];

    public static long RandomI64(Random rng) => rng.Next(4) switch
    {
        0 => InterestingI64[rng.Next(InterestingI64.Length)],
        1 => rng.NextInt64(long.MinValue, long.MaxValue),
        _ => rng.Next(-100, 101),
    };

    public static long RandomF64Bits(Random rng) => rng.Next(6) switch
    {
        0 or 1 => InterestingF64Bits[rng.Next(InterestingF64Bits.Length)],
        2 => rng.NextInt64(long.MinValue, long.MaxValue),
        _ => BitConverter.DoubleToInt64Bits(Math.Round(rng.NextDouble() * 200 - 100, rng.Next(4))),
    };

    private sealed class Shape(string name, bool isNode, int leafIndex, IrType[] parameters, IrType? result)
    {
        public string Name { get; } = name;
        public bool IsNode { get; } = isNode;
        public int LeafIndex { get; } = leafIndex;
        public IrType[] Parameters { get; } = parameters;
        public IrType? Result { get; } = result;
    }

    /// <summary>What a body is generated against.</summary>
    private sealed class Context(Shape self, List<IrType> locals)
    {
        public Shape Self { get; } = self;
        public List<IrType> Locals { get; } = locals;
        public HashSet<int> Reserved { get; } = [];
        public long Multiplier = 1;
        public long NodeBudget = 3;
        public long LeafBudget = 3;
        public bool InGuard;
        public int LoopNesting;
    }

    private sealed class Builder(Random rng, int size)
    {
        private readonly List<IrGlobal> _globals = [];
        private readonly List<Shape> _shapes = [];
        private readonly int _maxExprDepth = 2 + size / 40 + (rng.Next(8) == 0 ? 2 : 0);

        public DiffProgram Build()
        {
            for (int i = rng.Next(0, 5); i > 0; i--)
            {
                IrType t = Type();
                _globals.Add(new IrGlobal($"g{_globals.Count}", t, t == I64 ? RandomI64(rng) : RandomF64Bits(rng), Writable: rng.Next(10) < 7));
            }
            _shapes.Add(new Shape(DiffRequest.EntryName, true, -1, [I64, I64, I64, F64, F64], Type()));
            for (int i = rng.Next(0, 1 + Math.Min(3, size / 15)); i > 0; i--)
                _shapes.Add(new Shape($"node{_shapes.Count}", true, -1, [I64, .. Parameters(rng.Next(2) == 0 ? 3 : 8, maxI64: 5)], ResultType()));
            int leaves = rng.Next(0, 1 + Math.Min(3, size / 15));
            for (int i = 0; i < leaves; i++)
                _shapes.Add(new Shape($"leaf{i}", false, i, Parameters(rng.Next(2) == 0 ? 3 : 10), ResultType()));

            var functions = _shapes.Select(Function).ToImmutableArray();
            var module = new IrModule(Imports, [.. _globals], functions) { Name = "diff" };
            var options = new IrCompileOptions
            {
                ImportCalls = (ImportCallStyle)rng.Next(3),
                GlobalAccess = (GlobalAccessStyle)rng.Next(3),
            };
            var calls = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => new EntryArguments(
                rng.Next(8) == 0 ? rng.Next(-1, 1) : rng.Next(1, 5), RandomI64(rng), RandomI64(rng), RandomF64Bits(rng), RandomF64Bits(rng))).ToList();
            return new DiffProgram(0, size, module, options, calls);
        }

        private IrType Type() => rng.Next(2) == 0 ? I64 : F64;

        private IrType? ResultType() => rng.Next(5) switch { 0 => null, 1 or 2 => I64, _ => F64 };

        /// <summary>Up to <paramref name="max"/> parameters, at most <paramref name="maxI64"/> i64 and 8 f64 (System V registers only).</summary>
        private IrType[] Parameters(int max, int maxI64 = 6)
        {
            var list = new List<IrType>();
            for (int i = rng.Next(0, max + 1); i > 0; i--)
            {
                IrType t = Type();
                if (t == I64 && list.Count(p => p == I64) >= maxI64) t = F64;
                if (t == F64 && list.Count(p => p == F64) >= 8) t = I64;
                if (t == I64 && list.Count(p => p == I64) >= maxI64) break;
                list.Add(t);
            }
            return [.. list];
        }

        private IrFunction Function(Shape shape)
        {
            var locals = new List<IrType>(shape.Parameters);
            for (int i = rng.Next(0, 4); i > 0; i--) locals.Add(Type());
            var c = new Context(shape, locals);
            var body = new List<IrStmt>();
            if (shape.IsNode)
            {
                c.Reserved.Add(0);
                c.InGuard = true;
                IrExpr depthTest = rng.Next(2) == 0
                    ? new IrCompare(IrCompareOp.Le, new IrLocal(0), new IrConstI64(0))
                    : new IrCompare(IrCompareOp.Lt, new IrLocal(0), new IrConstI64(1));
                var guard = Block(c, rng.Next(0, 2), nest: 1);
                guard.Add(Return(c));
                body.Add(new IrIf(depthTest, [.. guard], []));
                c.InGuard = false;
            }
            body.AddRange(Block(c, rng.Next(1, 3 + size / 12), nest: 0));
            if (rng.Next(5) > 0) body.Add(Return(c));
            return new IrFunction(shape.Name, [.. shape.Parameters], shape.Result, [.. locals.Skip(shape.Parameters.Length)], [.. body],
                Exported: shape.Name == DiffRequest.EntryName || rng.Next(2) == 0);
        }

        private IrReturn Return(Context c) => new(c.Self.Result is IrType t ? Expr(c, t, 0) : null);

        private List<IrStmt> Block(Context c, int count, int nest)
        {
            var list = new List<IrStmt>();
            for (int i = 0; i < count; i++) list.AddRange(Statement(c, nest));
            return list;
        }

        private IEnumerable<IrStmt> Statement(Context c, int nest)
        {
            var writable = _globals.Where(g => g.Writable).ToList();
            var assignable = Enumerable.Range(0, c.Locals.Count).Where(i => !c.Reserved.Contains(i)).ToList();
            int roll = rng.Next(20);
            if (roll < 6 && assignable.Count > 0)
            {
                int local = assignable[rng.Next(assignable.Count)];
                return [new IrAssign(local, Expr(c, c.Locals[local], 0))];
            }
            if (roll < 8 && writable.Count > 0)
            {
                IrGlobal g = writable[rng.Next(writable.Count)];
                return [new IrStoreGlobal(g.Name, Expr(c, g.Type, 0))];
            }
            if (roll < 11 && nest < 3)
            {
                IrExpr condition = Expr(c, I64, 0);
                var then = Block(c, rng.Next(1, 3), nest + 1);
                var otherwise = rng.Next(2) == 0 ? [] : Block(c, rng.Next(1, 3), nest + 1);
                return [new IrIf(condition, [.. then], [.. otherwise])];
            }
            if (roll < 14 && nest < 3 && c.LoopNesting < 2) return Loop(c, nest);
            if (roll < 15 && nest > 0) return [Return(c)];
            // A call for its effects, often of the void host_note.
            IrExpr call = rng.Next(3) == 0 ? new IrCall(DiffHost.Note, [Expr(c, I64, 1)]) : (Call(c, null, 0) ?? Expr(c, I64, 0));
            return [new IrExprStmt(call)];
        }

        /// <summary><c>k = 0; while k &lt; N [&amp;&amp; cond] { body; k = k + 1 }</c>, or counting down; N ≤ 4.</summary>
        private IEnumerable<IrStmt> Loop(Context c, int nest)
        {
            int counter = c.Locals.Count;
            c.Locals.Add(I64);
            c.Reserved.Add(counter);
            int trips = rng.Next(0, 5);
            bool up = rng.Next(2) == 0;
            long outer = c.Multiplier;
            c.Multiplier = outer * (trips + 1);
            c.LoopNesting++;
            IrExpr condition = up
                ? new IrCompare(IrCompareOp.Lt, new IrLocal(counter), new IrConstI64(trips))
                : new IrCompare(IrCompareOp.Gt, new IrLocal(counter), new IrConstI64(0));
            if (rng.Next(3) == 0) condition = new IrLogical(IrLogicalOp.And, condition, Expr(c, I64, 1));
            var body = Block(c, rng.Next(1, 4), nest + 1);
            body.Add(new IrAssign(counter, new IrBinary(up ? IrBinaryOp.Add : IrBinaryOp.Sub, new IrLocal(counter), new IrConstI64(1))));
            c.LoopNesting--;
            c.Multiplier = outer;
            return [new IrAssign(counter, new IrConstI64(up ? 0 : trips)), new IrWhile(condition, [.. body])];
        }

        /// <summary>A call whose result has type <paramref name="type"/> (null: any, void included), or null
        /// when no callee fits the budgets.</summary>
        private IrCall? Call(Context c, IrType? type, int depth)
        {
            var candidates = new List<(string Name, IReadOnlyList<IrType> Parameters, int Kind)>(); // kind 0 import, 1 node, 2 leaf
            foreach (IrImport i in Imports)
                if (type is null || i.Result == type) candidates.Add((i.Name, i.Parameters, 0));
            foreach (Shape s in _shapes)
            {
                if (type is not null && s.Result != type) continue;
                if (s.IsNode && c.Self.IsNode && !c.InGuard && c.NodeBudget >= c.Multiplier) candidates.Add((s.Name, s.Parameters, 1));
                if (!s.IsNode && s.LeafIndex > c.Self.LeafIndex && c.LeafBudget >= c.Multiplier) candidates.Add((s.Name, s.Parameters, 2));
            }
            if (candidates.Count == 0) return null;
            var (name, parameters, kind) = candidates[rng.Next(candidates.Count)];
            if (kind == 1) c.NodeBudget -= c.Multiplier;
            if (kind == 2) c.LeafBudget -= c.Multiplier;
            var args = new List<IrExpr>();
            for (int i = 0; i < parameters.Count; i++)
            {
                if (kind == 1 && i == 0)
                    args.Add(new IrBinary(IrBinaryOp.Sub, new IrLocal(0), new IrConstI64(rng.Next(4) == 0 ? 2 : 1)));
                else
                    args.Add(Expr(c, parameters[i], depth + 1));
            }
            return new IrCall(name, [.. args]);
        }

        private IrExpr Expr(Context c, IrType type, int depth)
        {
            if (depth >= _maxExprDepth || rng.Next(4) == 0) return Atom(c, type);
            int roll = rng.Next(20);
            if (type == I64)
            {
                if (roll < 2) return new IrUnary(rng.Next(2) == 0 ? IrUnaryOp.Neg : IrUnaryOp.Not, Expr(c, I64, depth + 1));
                if (roll < 4) return new IrUnary(IrUnaryOp.F64ToI64, Expr(c, F64, depth + 1));
                if (roll < 10) return new IrBinary((IrBinaryOp)rng.Next(10), Expr(c, I64, depth + 1), Expr(c, I64, depth + 1));
                if (roll < 14)
                {
                    IrType operands = Type();
                    return new IrCompare((IrCompareOp)rng.Next(6), Expr(c, operands, depth + 1), Expr(c, operands, depth + 1));
                }
                if (roll < 16) return new IrLogical((IrLogicalOp)rng.Next(2), Expr(c, I64, depth + 1), Expr(c, I64, depth + 1));
            }
            else
            {
                if (roll < 2) return new IrUnary(IrUnaryOp.Neg, Expr(c, F64, depth + 1));
                if (roll < 5) return new IrUnary(IrUnaryOp.I64ToF64, Expr(c, I64, depth + 1));
                if (roll < 14) return new IrBinary((IrBinaryOp)rng.Next(4), Expr(c, F64, depth + 1), Expr(c, F64, depth + 1));
            }
            return Call(c, type, depth) ?? Atom(c, type);
        }

        private IrExpr Atom(Context c, IrType type)
        {
            var locals = Enumerable.Range(0, c.Locals.Count).Where(i => c.Locals[i] == type).ToList();
            var globals = _globals.Where(g => g.Type == type).ToList();
            int roll = rng.Next(10);
            if (roll < 5 && locals.Count > 0) return new IrLocal(locals[rng.Next(locals.Count)]);
            if (roll < 7 && globals.Count > 0) return new IrLoadGlobal(globals[rng.Next(globals.Count)].Name);
            return type == I64 ? new IrConstI64(RandomI64(rng)) : new IrConstF64(BitConverter.Int64BitsToDouble(RandomF64Bits(rng)));
        }
    }
}
