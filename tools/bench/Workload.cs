using System.Collections.Immutable;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.Bench;

/// <summary>
/// Programs of N functions, each calling 4 others (acyclic: only later ones) and one host function, as
/// issue "Performance" specifies. Deterministic for a given N and seed.
/// </summary>
public sealed class Workload
{
    public const string CompilerVersion = "bench-1";
    public const int DefaultSeed = 1;
    public delegate long HostTick(long value);
    private static readonly HostTick Tick = v => v + 1;

    public int Functions { get; }
    public IrModule Module { get; }

    public Workload(int functions, int seed = DefaultSeed)
    {
        Functions = functions;
        var rng = new Random(seed);
        var list = ImmutableArray.CreateBuilder<IrFunction>(functions);
        for (int i = 0; i < functions; i++) list.Add(Function(i, rng, 0));
        Module = new IrModule([new IrImport("host_tick", [I64], I64)], [], list.MoveToImmutable()) { Name = $"bench{functions}" };
    }

    public static string Name(int i) => $"f{i}";

    /// <summary>The functions f_i calls, in order: 4 draws from <paramref name="rng"/> among the next 63 (fewer candidates
    /// near the end; the last function calls none). The one place the call graph is chosen, for the IR and for the gcc
    /// peer's C source.</summary>
    public static List<int> Callees(int functions, int i, Random rng)
    {
        var callees = new List<int>(4);
        for (int k = 0; k < 4 && i + 1 < functions; k++) callees.Add(rng.Next(i + 1, Math.Min(functions, i + 64)));
        return callees;
    }

    /// <summary>f_i(x) = host_tick(x) + Σ_k f_{j_k}(x − 1) guarded by x &gt; 0, with 4 callees j_k &gt; i (fewer near the end).</summary>
    public IrFunction Function(int i, Random rng, int variant)
    {
        List<int> callees = Callees(Functions, i, rng);
        IrExpr x = new IrLocal(0);
        IrExpr sum = new IrBinary(IrBinaryOp.Add, new IrCall("host_tick", [x]), new IrConstI64(i + variant));
        foreach (int j in callees)
            sum = new IrBinary(IrBinaryOp.Add, sum, new IrCall(Name(j), [new IrBinary(IrBinaryOp.Sub, x, new IrConstI64(1))]));
        return new IrFunction(Name(i), [I64], I64, [],
        [
            new IrIf(new IrCompare(IrCompareOp.Le, x, new IrConstI64(0)), [new IrReturn(new IrConstI64(i))], []),
            new IrReturn(sum),
        ]);
    }

    /// <summary>The cache key of a function: XxHash128 over a binary walk of its IR (no text is built),
    /// with the compiler version; the callee signatures are all (i64) -> i64 here.</summary>
    public static ContentHash HashOf(IrFunction f)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        void Add(byte tag, long value)
        {
            Span<byte> span = buffer.GetSpan(9);
            span[0] = tag;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(span[1..], value);
            buffer.Advance(9);
        }
        void Text(string text)
        {
            Span<byte> span = buffer.GetSpan(System.Text.Encoding.UTF8.GetMaxByteCount(text.Length) + 4);
            int n = System.Text.Encoding.UTF8.GetBytes(text, span[4..]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(span, n);
            buffer.Advance(n + 4);
        }
        void Expr(IrExpr e)
        {
            switch (e)
            {
                case IrConstI64 c: Add(1, c.Value); break;
                case IrLocal l: Add(2, l.Index); break;
                case IrBinary b: Add(3, (long)b.Op); Expr(b.Left); Expr(b.Right); break;
                case IrCompare c: Add(4, (long)c.Op); Expr(c.Left); Expr(c.Right); break;
                case IrCall c:
                    Add(5, c.Arguments.Length);
                    Text(c.Callee);
                    foreach (IrExpr a in c.Arguments) Expr(a);
                    break;
                default: throw new NotSupportedException(e.GetType().Name);
            }
        }
        void Stmt(IrStmt s)
        {
            switch (s)
            {
                case IrIf i: Add(10, i.Then.Length); Expr(i.Condition); foreach (IrStmt t in i.Then) Stmt(t); break;
                case IrReturn r: Add(11, 0); if (r.Value is not null) Expr(r.Value); break;
                default: throw new NotSupportedException(s.GetType().Name);
            }
        }
        Text(CompilerVersion);
        Text(f.Name);
        foreach (IrStmt s in f.Body) Stmt(s);
        return ContentHash.Of(buffer.WrittenSpan);
    }

    /// <summary>Cold build: compile every function with the Iced backend and write the file.</summary>
    public byte[] CompileAll(bool prelink = true)
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { Prelink = prelink };
        builder.AddFingerprint("compiler.version", CompilerVersion);
        IrCompiler.AddTo(builder, Module, new IrCompileOptions { ContentHash = HashOf });
        return builder.ToArray();
    }

    /// <summary>Incremental build: compile only functions whose content hash changed, carry the rest from <paramref name="previous"/>.</summary>
    public (byte[] File, int Compiled) Rebuild(IrModule module, CacheImage previous)
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = module.Name };
        builder.AddFingerprint("compiler.version", CompilerVersion);
        var checker = new IrChecker(module, checkBodies: false); // only recompiled bodies are checked
        var handles = new Dictionary<string, SymbolHandle>(StringComparer.Ordinal);
        foreach (IrImport i in module.Imports)
            handles[i.Name] = builder.AddImportFunction(i.Name, builder.AddDeclaration(IrCompiler.SignatureOf(i.Parameters, i.Result)));
        foreach (IrFunction f in module.Functions)
            handles[f.Name] = builder.DeclareFunction(f.Name, builder.AddDeclaration(IrCompiler.SignatureOf(f.Parameters, f.Result)));
        int compiled = 0;
        foreach (IrFunction f in module.Functions)
        {
            ContentHash hash = HashOf(f);
            int old = previous.FindFunction(f.Name);
            if (old >= 0 && previous.Functions[old].ContentHash == hash)
            {
                FunctionBody body = previous.GetFunctionBody(old);
                if (body.Relocations.All(r => builder.TryGetSymbol(r.Target, out _)))
                {
                    builder.DefineFunction(handles[f.Name], body);
                    continue;
                }
            }
            compiled++;
            checker.CheckFunction(f);
            builder.DefineFunction(handles[f.Name], IrCompiler.CompileFunction(builder, checker, f) with { ContentHash = hash });
        }
        return (builder.ToArray(), compiled);
    }

    /// <summary>The program's symbols: the host import and every function, with their signatures.</summary>
    public ISymbolScope Scope()
    {
        var scope = new SymbolScope();
        foreach (IrImport i in Module.Imports) scope.Add(i.Name, SymbolKind.ImportFunction, IrCompiler.SignatureOf(i.Parameters, i.Result));
        foreach (IrFunction f in Module.Functions) scope.Add(f.Name, SymbolKind.Function, IrCompiler.SignatureOf(f.Parameters, f.Result));
        return scope;
    }

    public static LoadOptions LoadOptions(LinkMode mode = LinkMode.Direct) => new()
    {
        Imports = new ImportTable().Add("host_tick", Tick),
        LinkMode = mode,
        Host = HostEnvironment.Current with { Fingerprint = new Dictionary<string, FingerprintValue> { ["compiler.version"] = FingerprintValue.String(CompilerVersion) } },
    };
}
