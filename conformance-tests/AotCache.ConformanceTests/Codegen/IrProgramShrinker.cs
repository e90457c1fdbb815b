using System.Collections.Immutable;
using AotCache.Codegen.Ir;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>
/// Smaller variants of a failing program, simplest first: fewer entry calls, then per function a
/// statement removed (or an <c>if</c>/<c>while</c> replaced by its body), then an expression replaced by
/// zero or by one of its operands of the same type. Every candidate type-checks; one that no longer
/// terminates within the interpreter's limits is discarded by the property, not reported.
/// </summary>
public static class IrProgramShrinker
{
    public static IEnumerable<DiffProgram> Shrink(DiffProgram program) => Candidates(program).Select(p => p with { Shrunk = true });

    private static IEnumerable<DiffProgram> Candidates(DiffProgram program)
    {
        for (int i = 0; i < program.Calls.Count && program.Calls.Count > 1; i++)
            yield return program with { Calls = [.. program.Calls.Where((_, j) => j != i)] };

        IrModule module = program.Module;
        var checker = IrChecker.Check(module);
        for (int f = 0; f < module.Functions.Length; f++)
        {
            IrFunction function = module.Functions[f];
            var shrinker = new FunctionShrinker(checker, function);
            foreach (ImmutableArray<IrStmt> body in shrinker.Block(function.Body))
            {
                IrModule smaller = module with { Functions = module.Functions.SetItem(f, function with { Body = body }) };
                yield return program with { Module = smaller };
            }
        }
    }

    private sealed class FunctionShrinker(IrChecker checker, IrFunction function)
    {
        public IEnumerable<ImmutableArray<IrStmt>> Block(ImmutableArray<IrStmt> block)
        {
            for (int i = 0; i < block.Length; i++)
            {
                yield return block.RemoveAt(i);
                if (block[i] is IrIf s)
                {
                    yield return block.RemoveAt(i).InsertRange(i, s.Then);
                    if (s.Else.Length > 0) yield return block.RemoveAt(i).InsertRange(i, s.Else);
                }
                if (block[i] is IrWhile w) yield return block.RemoveAt(i).InsertRange(i, w.Body);
            }
            for (int i = 0; i < block.Length; i++)
                foreach (IrStmt smaller in Stmt(block[i]))
                    yield return block.SetItem(i, smaller);
        }

        private IEnumerable<IrStmt> Stmt(IrStmt s)
        {
            switch (s)
            {
                case IrAssign a:
                    foreach (IrExpr e in Expr(a.Value)) yield return a with { Value = e };
                    break;
                case IrStoreGlobal g:
                    foreach (IrExpr e in Expr(g.Value)) yield return g with { Value = e };
                    break;
                case IrReturn { Value: not null } r:
                    foreach (IrExpr e in Expr(r.Value)) yield return r with { Value = e };
                    break;
                case IrExprStmt { Value: IrCall call }:
                    foreach (IrExpr e in Arguments(call)) yield return new IrExprStmt(e);
                    break;
                case IrIf i:
                    if (i.Else.Length > 0) yield return i with { Else = [] };
                    foreach (var b in Block(i.Then)) yield return i with { Then = b };
                    foreach (var b in Block(i.Else)) yield return i with { Else = b };
                    foreach (IrExpr e in Expr(i.Condition)) yield return i with { Condition = e };
                    break;
                case IrWhile w:
                    foreach (var b in Block(w.Body)) yield return w with { Body = b };
                    foreach (IrExpr e in Expr(w.Condition)) yield return w with { Condition = e };
                    break;
            }
        }

        /// <summary>Same-typed simpler expressions.</summary>
        private IEnumerable<IrExpr> Expr(IrExpr e)
        {
            IrType type = checker.TypeOf(function, e);
            if (e is not (IrConstI64 { Value: 0 } or IrConstF64 { Value: 0.0 }))
                yield return type == IrType.I64 ? new IrConstI64(0) : new IrConstF64(0.0);
            IEnumerable<IrExpr> children = e switch
            {
                IrUnary u => [u.Operand],
                IrBinary b => [b.Left, b.Right],
                IrCompare c => [c.Left, c.Right],
                IrLogical g => [g.Left, g.Right],
                IrCall call => call.Arguments,
                _ => [],
            };
            foreach (IrExpr child in children)
                if (checker.TypeOf(function, child) == type && child is not (IrConstI64 or IrConstF64)) yield return child;
            switch (e)
            {
                case IrUnary u:
                    foreach (IrExpr x in Expr(u.Operand)) yield return u with { Operand = x };
                    break;
                case IrBinary b:
                    foreach (IrExpr x in Expr(b.Left)) yield return b with { Left = x };
                    foreach (IrExpr x in Expr(b.Right)) yield return b with { Right = x };
                    break;
                case IrCompare c:
                    foreach (IrExpr x in Expr(c.Left)) yield return c with { Left = x };
                    foreach (IrExpr x in Expr(c.Right)) yield return c with { Right = x };
                    break;
                case IrLogical g:
                    foreach (IrExpr x in Expr(g.Left)) yield return g with { Left = x };
                    foreach (IrExpr x in Expr(g.Right)) yield return g with { Right = x };
                    break;
                case IrCall call:
                    foreach (IrExpr x in Arguments(call)) yield return x;
                    break;
            }
        }

        private IEnumerable<IrExpr> Arguments(IrCall call)
        {
            for (int i = 0; i < call.Arguments.Length; i++)
                foreach (IrExpr x in Expr(call.Arguments[i]))
                    yield return call with { Arguments = call.Arguments.SetItem(i, x) };
        }
    }
}
