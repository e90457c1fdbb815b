using System.Globalization;
using System.Text;

namespace AotCache.Codegen.Ir;

/// <summary>A readable listing of an IR module, for failure messages and golden files. f64 constants
/// show their value and, when the value does not say it all (NaN payloads, −0), their bits.</summary>
public static class IrPrinter
{
    /// <summary>The module as text, one statement per line, for diagnostics and golden files.</summary>
    public static string Print(IrModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var sb = new StringBuilder();
        foreach (IrImport i in module.Imports)
            sb.Append(CultureInfo.InvariantCulture, $"import {Type(i.Result)} {i.Name}({string.Join(", ", i.Parameters.Select(t => Type(t)))})\n");
        foreach (IrGlobal g in module.Globals)
            sb.Append(CultureInfo.InvariantCulture, $"global {(g.Writable ? "var" : "const")} {Type(g.Type)} {g.Name} = {Value(g.Type, g.InitialBits)}\n");
        foreach (IrFunction f in module.Functions)
        {
            var parameters = f.Parameters.Select((t, i) => $"{Type(t)} v{i}");
            sb.Append(CultureInfo.InvariantCulture, $"{(f.Exported ? "export " : "")}func {Type(f.Result)} {f.Name}({string.Join(", ", parameters)})\n{{\n");
            for (int i = 0; i < f.Locals.Length; i++)
                sb.Append(CultureInfo.InvariantCulture, $"    {Type(f.Locals[i])} v{f.Parameters.Length + i}\n");
            Block(sb, f.Body, 1);
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    private static string Type(IrType? t) => t switch { IrType.I64 => "i64", IrType.F64 => "f64", _ => "void" };

    private static string Value(IrType t, long bits) => t == IrType.I64
        ? bits.ToString(CultureInfo.InvariantCulture)
        : F64(BitConverter.Int64BitsToDouble(bits));

    private static string F64(double d)
    {
        string text = d.ToString("R", CultureInfo.InvariantCulture);
        long bits = BitConverter.DoubleToInt64Bits(d);
        bool plain = !double.IsNaN(d) && bits != long.MinValue;
        return plain ? (text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) || double.IsInfinity(d) ? text : text + ".0")
                     : $"{text}[0x{bits:x16}]";
    }

    private static void Block(StringBuilder sb, IEnumerable<IrStmt> block, int indent)
    {
        foreach (IrStmt s in block) Stmt(sb, s, indent);
    }

    private static void Stmt(StringBuilder sb, IrStmt s, int indent)
    {
        string pad = new(' ', 4 * indent);
        switch (s)
        {
            case IrAssign a: sb.Append(CultureInfo.InvariantCulture, $"{pad}v{a.Local} = {Expr(a.Value)}\n"); break;
            case IrStoreGlobal g: sb.Append(CultureInfo.InvariantCulture, $"{pad}{g.Global} = {Expr(g.Value)}\n"); break;
            case IrReturn r: sb.Append(pad).Append(r.Value is null ? "return" : "return " + Expr(r.Value)).Append('\n'); break;
            case IrExprStmt e: sb.Append(pad).Append(Expr(e.Value)).Append('\n'); break;
            case IrIf i:
                sb.Append(CultureInfo.InvariantCulture, $"{pad}if {Expr(i.Condition)} {{\n");
                Block(sb, i.Then, indent + 1);
                if (i.Else.Length > 0)
                {
                    sb.Append(pad).Append("} else {\n");
                    Block(sb, i.Else, indent + 1);
                }
                sb.Append(pad).Append("}\n");
                break;
            case IrWhile w:
                sb.Append(CultureInfo.InvariantCulture, $"{pad}while {Expr(w.Condition)} {{\n");
                Block(sb, w.Body, indent + 1);
                sb.Append(pad).Append("}\n");
                break;
            default: sb.Append(pad).Append(s).Append('\n'); break;
        }
    }

    private static string Expr(IrExpr e) => e switch
    {
        IrConstI64 c => c.Value.ToString(CultureInfo.InvariantCulture),
        IrConstF64 c => F64(c.Value),
        IrLocal l => "v" + l.Index.ToString(CultureInfo.InvariantCulture),
        IrLoadGlobal g => g.Global,
        IrUnary u => u.Op switch
        {
            IrUnaryOp.Neg => "-" + Expr(u.Operand),
            IrUnaryOp.Not => "~" + Expr(u.Operand),
            IrUnaryOp.I64ToF64 => $"f64({Expr(u.Operand)})",
            _ => $"i64({Expr(u.Operand)})",
        },
        IrBinary b => $"({Expr(b.Left)} {Symbol(b.Op)} {Expr(b.Right)})",
        IrCompare c => $"({Expr(c.Left)} {Symbol(c.Op)} {Expr(c.Right)})",
        IrLogical g => $"({Expr(g.Left)} {(g.Op == IrLogicalOp.And ? "&&" : "||")} {Expr(g.Right)})",
        IrCall call => $"{call.Callee}({string.Join(", ", call.Arguments.Select(Expr))})",
        _ => e.ToString() ?? "?",
    };

    private static string Symbol(IrBinaryOp op) => op switch
    {
        IrBinaryOp.Add => "+",
        IrBinaryOp.Sub => "-",
        IrBinaryOp.Mul => "*",
        IrBinaryOp.Div => "/",
        IrBinaryOp.Rem => "%",
        IrBinaryOp.And => "&",
        IrBinaryOp.Or => "|",
        IrBinaryOp.Xor => "^",
        IrBinaryOp.Shl => "<<",
        _ => ">>",
    };

    private static string Symbol(IrCompareOp op) => op switch
    {
        IrCompareOp.Eq => "==",
        IrCompareOp.Ne => "!=",
        IrCompareOp.Lt => "<",
        IrCompareOp.Le => "<=",
        IrCompareOp.Gt => ">",
        _ => ">=",
    };
}
