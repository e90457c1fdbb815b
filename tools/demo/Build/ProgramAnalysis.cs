using AotCache.Codegen.Ir;
using AotCache.Demo.Language;
using AotCache.Format;

namespace AotCache.Demo.Build;

/// <summary>A function of an analyzed program: bound to IR, with its token hash and cache key.</summary>
public sealed record AnalyzedFunction(BoundFunction Bound, UInt128 TokenHash, ContentHash Key)
{
    public string Name => Bound.Syntax.Name;
}

/// <summary>
/// A program parsed, checked and keyed: everything a build needs before it looks at the cache. Throws
/// <see cref="CompileErrorException"/> listing every error it found.
/// </summary>
public sealed class ProgramAnalysis
{
    private ProgramAnalysis(SourceText source, ProgramSyntax syntax, DeclarationTable table, List<AnalyzedFunction> functions,
        CodegenSettings codegen, KeyInputs keyInputs)
    {
        Source = source;
        Syntax = syntax;
        Table = table;
        Functions = functions;
        Codegen = codegen;
        KeyInputs = keyInputs;
        ModuleName = ModuleNameOf(source.Path);
        Module = new IrModule([.. table.Imports], [.. table.Globals], [.. functions.Select(f => f.Bound.Ir)]) { Name = ModuleName };
    }

    public SourceText Source { get; }
    public ProgramSyntax Syntax { get; }
    public DeclarationTable Table { get; }

    /// <summary>Functions with bodies, in source order (the order of the cache's function table).</summary>
    public IReadOnlyList<AnalyzedFunction> Functions { get; }

    public CodegenSettings Codegen { get; }
    public KeyInputs KeyInputs { get; }
    public string ModuleName { get; }
    public IrModule Module { get; }

    /// <summary>Below this many functions, binding on one thread is cheaper than sharing the work.</summary>
    private const int ParallelThreshold = 512;

    public static ProgramAnalysis Analyze(SourceText source, HostLibrary? host, CodegenSettings? codegen = null, KeyInputs keyInputs = KeyInputs.All,
        IProgress<BuildProgress>? progress = null)
    {
        codegen ??= CodegenSettings.Default;
        var diagnostics = new List<Diagnostic>();
        ProgramSyntax syntax = Parser.Parse(source, diagnostics);
        DeclarationTable table = Binder.Declare(syntax, host, diagnostics);
        // Externs have no body; a second definition of a name was already reported.
        var bodies = new List<FunctionSyntax>();
        foreach (ItemSyntax item in syntax.Items)
            if (item is FunctionSyntax { IsExtern: false, BodyHasErrors: false } f && table.ByName[f.Name].NameSpan == f.NameSpan) bodies.Add(f);

        // Each function binds and keys on its own (the table is only read), so the work is spread over the cores; results
        // and diagnostics are gathered in source order, as one pass would give them.
        var analyzed = new AnalyzedFunction?[bodies.Count];
        var errors = new List<Diagnostic>?[bodies.Count];
        int done = 0;
        progress?.Report(new BuildProgress(0, bodies.Count, BuildProgress.Analyzing)); // parsed: the rest is per function
        void AnalyzeOne(int i)
        {
            var found = new List<Diagnostic>();
            if (Binder.BindFunction(source, bodies[i], table, found) is { } bound)
            {
                UInt128 tokens = CacheKey.TokenHash(syntax, bodies[i]);
                analyzed[i] = new AnalyzedFunction(bound, tokens, CacheKey.Of(tokens, bound.References, table, codegen, keyInputs));
            }
            if (found.Count > 0) errors[i] = found;
            progress?.Report(new BuildProgress(Interlocked.Increment(ref done), bodies.Count, BuildProgress.Analyzing));
        }
        if (bodies.Count < ParallelThreshold || Environment.ProcessorCount == 1)
            for (int i = 0; i < bodies.Count; i++) AnalyzeOne(i);
        else
            Parallel.For(0, bodies.Count, AnalyzeOne);
        foreach (List<Diagnostic>? found in errors)
            if (found is not null) diagnostics.AddRange(found);
        var functions = new List<AnalyzedFunction>(bodies.Count);
        foreach (AnalyzedFunction? f in analyzed)
            if (f is not null) functions.Add(f);
        if (diagnostics.Count > 0)
            throw new CompileErrorException([.. diagnostics.OrderBy(d => d.Span.Start)]);
        return new ProgramAnalysis(source, syntax, table, functions, codegen, keyInputs);
    }

    /// <summary>The program's symbols as its cache declares them (externs as imports, globals as data, functions
    /// with their signatures): what a function of this program is compiled against.</summary>
    public ISymbolScope Scope => _scope ??= CreateScope();

    private SymbolScope? _scope;

    private SymbolScope CreateScope()
    {
        var scope = new SymbolScope();
        foreach (IrImport i in Table.Imports) scope.Add(i.Name, SymbolKind.ImportFunction, AotCache.Codegen.IrCompiler.SignatureOf(i.Parameters, i.Result));
        foreach (IrGlobal g in Table.Globals) scope.Add(g.Name, SymbolKind.Data);
        foreach (AnalyzedFunction f in Functions)
            scope.Add(f.Name, SymbolKind.Function, AotCache.Codegen.IrCompiler.SignatureOf(f.Bound.Ir.Parameters, f.Bound.Ir.Result));
        return scope;
    }

    /// <summary>Compiles one of the program's functions against <paramref name="scope"/> (by default the program's
    /// own, <see cref="Scope"/>), with its cache key as the body's content hash.</summary>
    public FunctionBody Compile(AnalyzedFunction function, IrChecker checker, ISymbolScope? scope = null)
    {
        checker.CheckFunction(function.Bound.Ir);
        return AotCache.Codegen.IrCompiler.CompileFunction(scope ?? Scope, checker, function.Bound.Ir, Codegen.ToCompileOptions(BuildEngine.Producer))
            with
        { ContentHash = function.Key };
    }

    /// <summary>The module (and cache file) name of a source path: its file name without extension.</summary>
    public static string ModuleNameOf(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        return name.Length > 0 ? name : "program";
    }
}
