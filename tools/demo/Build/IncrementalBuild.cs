using System.Diagnostics;
using System.Text;
using System.Text.Unicode;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Demo.Language;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.Demo.Build;

/// <summary>
/// The fast path of a build: O(source) hashing plus O(changed) parsing and compiling, then an in-place edit of
/// the previous cache. The source is compared with the previous build's segments from both ends; only the
/// changed middle is parsed. Functions whose callee changed signature are found through the cache's own
/// relocation table and re-parsed from their segments. Everything it cannot do exactly as a full build would
/// (externs or globals changed, functions added, removed or reordered, any error) it leaves to the full path.
/// </summary>
internal static class IncrementalBuild
{
    public static BuildResult? TryBuild(SourceFile file, BuildOptions options, CacheImage previous, NibIndex index, string path,
        bool requireMain, List<string> warnings)
    {
        var clock = Stopwatch.StartNew();
        if (index.KeyInputs != options.KeyInputs || index.SettingsHash != NibIndex.HashSettings(options.Codegen)) return null;
        // Unchanged: the hash of what the previous build encoded, so these bytes are that (valid UTF-8) text.
        if (file.HashIs(index.SourceHash))
            return new BuildResult(path, [], previous.Functions.Length, warnings, false, true, clock.Elapsed, default, default);
        ReadOnlySpan<byte> text = file.Utf8;
        // The full path segments the text as decoded and re-encoded; for valid UTF-8 that is these very bytes.
        // Anything else (e.g. a Latin-1 byte in a comment) is left to the full path, which sees what it decoded.
        if (!Utf8.IsValid(text)) return null;

        // The unchanged segments at both ends; the trailing segment matches only as the very end of the text.
        ReadOnlySpan<Segment> old = index.Segments;
        int first = 0, start = 0;
        while (first < old.Length)
        {
            Segment s = old[first];
            if (start + s.Length > text.Length || (s.Kind == SegmentKind.Trailing && start + s.Length != text.Length)
                || SourceSegments.Hash(text.Slice(start, s.Length)) != s.Hash) break;
            start += s.Length;
            first++;
        }
        if (first == old.Length) return null; // all segments match but the whole does not: leave it to the full path
        int last = old.Length - 1, end = text.Length;
        while (last >= first && end - old[last].Length >= start && SourceSegments.Hash(text.Slice(end - old[last].Length, old[last].Length)) == old[last].Hash)
            end -= old[last--].Length;
        // Take one matched segment more, so the middle ends where an item ends: the lexer holds no state there.
        if (last < old.Length - 1) end += old[++last].Length;

        // The old middle may hold functions only: extern and global changes take the full path.
        int firstFunction = 0;
        for (int s = 0; s < first; s++) if (old[s].Kind == SegmentKind.Function) firstFunction++;
        var oldMiddle = new List<int>();
        for (int s = first; s <= last; s++)
        {
            if (old[s].Kind is SegmentKind.Extern or SegmentKind.Global) return null;
            if (old[s].Kind == SegmentKind.Function) oldMiddle.Add(firstFunction + oldMiddle.Count);
        }

        var diagnostics = new List<Diagnostic>();
        var middleSource = new SourceText(file.Path, Encoding.UTF8.GetString(text[start..end]));
        ProgramSyntax middle = Parser.Parse(middleSource, diagnostics);
        if (diagnostics.Count > 0 || middle.Items.Count != oldMiddle.Count) return null;
        for (int i = 0; i < oldMiddle.Count; i++)
        {
            if (middle.Items[i] is not FunctionSyntax { IsExtern: false } f || f.Name != FunctionName(previous, oldMiddle[i])) return null;
            // The declaration checks of a full build (names are unchanged, so unique): parameters and their limits.
            Binder.CheckParameters(middleSource, f, diagnostics);
            if (diagnostics.Count > 0) return null;
        }
        // The middle ends where an old, unchanged segment ends. When that is not the end of the file, the middle
        // has no trailing trivia of its own: anything there (a comment that swallowed the last segment's text)
        // would be lost from the index, so such an edit takes the full path.
        if (old[last].Kind != SegmentKind.Trailing && !EndsWithItem(middle, middleSource)) return null;

        // Declarations: the cache's, with the re-parsed functions laid over them.
        var declarations = new CacheDeclarations(previous, index);
        var changedSignature = new HashSet<int>();
        for (int i = 0; i < oldMiddle.Count; i++)
        {
            var f = (FunctionSyntax)middle.Items[i];
            var d = Declaration.ForFunction(f);
            declarations.Override(d);
            SymbolRecord symbol = previous.Symbols[(int)previous.Functions[oldMiddle[i]].Symbol];
            if (!previous.GetSignature((int)symbol.Declaration).Equals(d.Signature)) changedSignature.Add((int)previous.Functions[oldMiddle[i]].Symbol);
            if (requireMain && f.Name == "main" && (d.Parameters.Count != 0 || d.Result == IrType.F64)) return null;
        }

        // What to bind: the middle's functions, and every function outside it that calls one whose signature changed.
        var work = new List<(int Function, FunctionSyntax Syntax, ProgramSyntax Program)>();
        for (int i = 0; i < oldMiddle.Count; i++) work.Add((oldMiddle[i], (FunctionSyntax)middle.Items[i], middle));
        if (changedSignature.Count > 0 && !AddStaleCallers(previous, text, old, first, oldMiddle, changedSignature, file.Path, work)) return null;

        var reports = new List<(int Function, FunctionReport Report)>();
        var compile = new List<(int Function, BoundFunction Bound, ContentHash Key)>();
        var tokenHashes = new Dictionary<int, UInt128>();
        foreach (var (function, syntax, program) in work)
        {
            if (Binder.BindFunction(program.Source, syntax, declarations, diagnostics) is not { } bound) return null;
            UInt128 tokens = CacheKey.TokenHash(program, syntax);
            ContentHash key = CacheKey.Of(tokens, bound.References, declarations, options.Codegen, options.KeyInputs);
            tokenHashes[function] = tokens;
            if (key == previous.Functions[function].ContentHash) continue;
            compile.Add((function, bound, key));
            reports.Add((function, BuildEngine.Classify(syntax.Name, bound.References, tokens, previous, function, index, declarations)));
        }
        compile.Sort((a, b) => a.Function.CompareTo(b.Function));
        reports.Sort((a, b) => a.Function.CompareTo(b.Function));
        TimeSpan analyzeTime = clock.Elapsed;
        clock.Restart();

        // The previous file's symbols, with the signatures the edit gives the re-parsed functions.
        var scope = new SymbolScope(previous);
        for (int i = 0; i < oldMiddle.Count; i++)
        {
            var f = (FunctionSyntax)middle.Items[i];
            declarations.TryGet(f.Name, out Declaration? d);
            scope.Add(f.Name, SymbolKind.Function, d!.Signature);
        }
        var rewriter = new CacheRewriter(previous) { DeclarationOrder = DeclarationOrder.ByEncoding };
        // The remote cache first (checked against the same scope the compiler would use), then the compiler.
        RemoteFunctionCache? remote = options.UsableRemote;
        FunctionBody?[] fetched = remote is null || compile.Count == 0 ? new FunctionBody?[compile.Count]
            : remote.Fetch([.. compile.Select(c => new RemoteRequest(c.Bound.Syntax.Name, c.Key))], scope);
        int done = 0, toCompile = fetched.Count(b => b is null);
        using RemoteUpload? upload = remote is null || toCompile == 0 ? null : remote.BeginUpload(scope);
        for (int c = 0; c < compile.Count; c++)
        {
            var (function, bound, key) = compile[c];
            if (fetched[c] is { } body)
            {
                rewriter.ReplaceFunction(function, body);
                int r = reports.FindIndex(x => x.Function == function);
                reports[r] = (function, reports[r].Report with { Outcome = FunctionOutcome.Fetched });
                continue;
            }
            body = Compile(scope, bound, key, declarations, options.Codegen);
            rewriter.ReplaceFunction(function, body);
            upload?.Add(bound.Syntax.Name, body);
            options.Progress?.Report(new BuildProgress(++done, toCompile));
        }
        upload?.Complete();
        rewriter.ReplacePrivateSection(NibIndex.SectionKind, NextIndex(previous, index, text, old, first, last, middle, middleSource, tokenHashes, options));
        RewrittenFile next = rewriter.Build();
        TimeSpan compileTime = clock.Elapsed;
        clock.Restart();
        SpareWriteResult written = AtomicFile.WriteReusingSpare(path, next.Pieces);
        return new BuildResult(path, [.. reports.Select(r => r.Report)], previous.Functions.Length - reports.Count, warnings, true, true,
            analyzeTime, compileTime, clock.Elapsed)
        { Write = written };
    }

    /// <summary>True when nothing but the end of the text follows the middle's last item.</summary>
    private static bool EndsWithItem(ProgramSyntax middle, SourceText source) =>
        middle.Items.Count > 0 && middle.Items[^1].Span.End == source.Text.Length;

    private static string FunctionName(CacheImage image, int function) => image.SymbolName((int)image.Functions[function].Symbol);

    /// <summary>Adds the functions outside the middle that refer to a function whose signature changed, parsed from their
    /// own segments; false when one cannot be parsed alone.</summary>
    private static bool AddStaleCallers(CacheImage previous, ReadOnlySpan<byte> text, ReadOnlySpan<Segment> old,
        int first, List<int> middle, HashSet<int> changed, string path, List<(int, FunctionSyntax, ProgramSyntax)> work)
    {
        var inMiddle = new HashSet<int>(middle);
        ReadOnlySpan<FunctionRecord> functions = previous.Functions;
        var callers = new List<int>();
        for (int f = 0; f < functions.Length; f++)
        {
            if (inMiddle.Contains(f)) continue;
            foreach (RelocationRecord r in previous.RelocationsOf(functions[f]))
                if (changed.Contains((int)r.Target))
                {
                    callers.Add(f);
                    break;
                }
        }
        if (callers.Count == 0) return true;
        // Where each function's segment starts in the new text: before the middle as before, after it shifted.
        long oldLength = 0;
        foreach (Segment s in old) oldLength += s.Length;
        long shift = text.Length - oldLength;
        var segmentOf = new int[functions.Length];
        var startOf = new long[old.Length];
        long at = 0;
        for (int s = 0, f = 0; s < old.Length; s++)
        {
            startOf[s] = at;
            at += old[s].Length;
            if (old[s].Kind == SegmentKind.Function) segmentOf[f++] = s;
        }
        foreach (int f in callers)
        {
            int s = segmentOf[f];
            long start = s < first ? startOf[s] : startOf[s] + shift;
            var diagnostics = new List<Diagnostic>();
            var source = new SourceText(path, Encoding.UTF8.GetString(text.Slice((int)start, old[s].Length)));
            ProgramSyntax program = Parser.Parse(source, diagnostics);
            if (diagnostics.Count > 0 || program.Items is not [FunctionSyntax { IsExtern: false } syntax] || syntax.Name != FunctionName(previous, f)) return false;
            work.Add((f, syntax, program));
        }
        return true;
    }

    /// <summary>Compiles one function against the previous file's symbols with the edit's new declarations laid over
    /// them (<paramref name="scope"/>); the IR checker needs only the declarations the function refers to.</summary>
    private static FunctionBody Compile(ISymbolScope scope, BoundFunction bound, ContentHash key, CacheDeclarations declarations, CodegenSettings settings)
    {
        var imports = new List<IrImport>();
        var globals = new List<IrGlobal>();
        var callees = new List<IrFunction>();
        foreach (string name in bound.References)
        {
            declarations.TryGet(name, out Declaration? d);
            switch (d!.Kind)
            {
                case DeclarationKind.Extern: imports.Add(new IrImport(name, [.. d.Parameters], d.Result)); break;
                case DeclarationKind.Function: callees.Add(new IrFunction(name, [.. d.Parameters], d.Result, [], [])); break;
                default: globals.Add(new IrGlobal(name, d.GlobalType, 0, d.Writable)); break;
            }
        }
        var checker = new IrChecker(new IrModule([.. imports], [.. globals], [.. callees]), checkBodies: false);
        checker.CheckFunction(bound.Ir);
        return IrCompiler.CompileFunction(scope, checker, bound.Ir, settings.ToCompileOptions(BuildEngine.Producer)) with { ContentHash = key };
    }

    /// <summary>The index of the new version: the old segments around the middle's new ones, updated token hashes.</summary>
    private static byte[] NextIndex(CacheImage previous, NibIndex index, ReadOnlySpan<byte> text, ReadOnlySpan<Segment> old, int first, int last,
        ProgramSyntax middle, SourceText middleSource, Dictionary<int, UInt128> tokenHashes, BuildOptions options)
    {
        List<Segment> middleSegments = SourceSegments.Compute(middle, Encoding.UTF8.GetBytes(middleSource.Text));
        // The middle's own trailing segment is the file's only when the middle reaches the end; otherwise it is empty.
        if (old[last].Kind != SegmentKind.Trailing) middleSegments.RemoveAt(middleSegments.Count - 1);
        var segments = new List<Segment>(old.Length - (last - first + 1) + middleSegments.Count);
        segments.AddRange(old[..first]);
        segments.AddRange(middleSegments);
        segments.AddRange(old[(last + 1)..]);
        var hashes = new UInt128[previous.Functions.Length];
        for (int f = 0; f < hashes.Length; f++) hashes[f] = tokenHashes.TryGetValue(f, out UInt128 h) ? h : index.TokenHash(f);
        var globals = new List<IrGlobal>();
        foreach (DataObjectRecord d in previous.DataObjects)
        {
            string name = previous.SymbolName((int)d.Symbol);
            index.TryGetGlobal(name, out IrType type, out bool writable);
            globals.Add(new IrGlobal(name, type, BitConverter.ToInt64(previous.DataBytes(d)), writable));
        }
        return NibIndex.Write(hashes, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(segments), [.. globals.OrderBy(g => g.Name, StringComparer.Ordinal)],
            SourceSegments.Hash(text), options.Codegen, options.KeyInputs);
    }
}
