using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Writer;

namespace AotCache.Codegen;

/// <summary>How imports are called from compiled code.</summary>
public enum ImportCallStyle
{
    /// <summary><c>call rel32</c> to a loader-made thunk (ThunkPcRel32, like ELF PLT32).</summary>
    Thunk,
    /// <summary><c>call [rip + slot]</c> (SlotPcRel32, like ELF GOTPCREL).</summary>
    Slot,
    /// <summary>Alternates per call site; exercises both in tests.</summary>
    Mixed,
}

/// <summary>How globals are addressed from compiled code.</summary>
public enum GlobalAccessStyle
{
    /// <summary><c>mov rax, [rip + global]</c> (DataPcRel32).</summary>
    RipRelative,
    /// <summary><c>mov rcx, imm64 &amp;global; mov rax, [rcx]</c> (Absolute64).</summary>
    Absolute,
    /// <summary>Alternates per access site.</summary>
    Mixed,
}

/// <summary>Options of <see cref="IrCompiler"/>.</summary>
public sealed record IrCompileOptions
{
    /// <summary>The producer string written to the file header.</summary>
    public string Producer { get; init; } = "AotCache.Codegen 1.0";
    /// <summary>How calls to imports are emitted.</summary>
    public ImportCallStyle ImportCalls { get; init; } = ImportCallStyle.Thunk;
    /// <summary>How globals are addressed.</summary>
    public GlobalAccessStyle GlobalAccess { get; init; } = GlobalAccessStyle.RipRelative;

    /// <summary>The cache key of each function; null gives none.</summary>
    public Func<IrFunction, ContentHash>? ContentHash { get; init; }
}

/// <summary>Compiles IR modules to AotCache files with the Iced backend (System V AMD64).</summary>
public static class IrCompiler
{
    /// <summary>Compiles a whole module into a cache file: functions exported under their IR names (or local),
    /// imports and globals declared with their IR types.</summary>
    public static byte[] Compile(IrModule module, IrCompileOptions? options = null)
    {
        var builder = new CacheBuilder(TargetDescription.LinuxX64);
        AddTo(builder, module, options);
        return builder.ToArray();
    }

    /// <summary>Declares and defines every import, global and function of <paramref name="module"/> in
    /// <paramref name="builder"/>; returns the handles by name.</summary>
    public static IReadOnlyDictionary<string, SymbolHandle> AddTo(CacheBuilder builder, IrModule module, IrCompileOptions? options = null)
    {
        options ??= new IrCompileOptions();
        var checker = IrChecker.Check(module);
        builder.Producer = options.Producer;
        builder.ModuleName = module.Name;
        var handles = new Dictionary<string, SymbolHandle>(StringComparer.Ordinal);
        foreach (IrImport i in module.Imports)
            handles[i.Name] = builder.AddImportFunction(i.Name, builder.AddDeclaration(SignatureOf(i.Parameters, i.Result)));
        foreach (IrGlobal g in module.Globals)
            handles[g.Name] = builder.AddData(g.Name, g.Writable ? DataKind.Writable : DataKind.ReadOnly, BitConverter.GetBytes(g.InitialBits), alignment: 8);
        foreach (IrFunction f in module.Functions)
            handles[f.Name] = builder.DeclareFunction(f.Name, builder.AddDeclaration(SignatureOf(f.Parameters, f.Result)), f.Exported ? Linkage.Export : Linkage.Local);
        foreach (IrFunction f in module.Functions)
            builder.DefineFunction(handles[f.Name], CompileFunction(builder, checker, f, options));
        return handles;
    }

    /// <summary>
    /// Compiles one function against <paramref name="scope"/>: every function, import and global it refers to must be
    /// a symbol there (a <see cref="CacheBuilder"/> being filled, the previous version's <c>CacheImage</c>, a running
    /// <c>LoadedModule</c>, or a <see cref="SymbolScope"/>). Calls record the callee's signature in that scope. The
    /// body's content hash is <see cref="IrCompileOptions.ContentHash"/>'s.
    /// </summary>
    public static FunctionBody CompileFunction(ISymbolScope scope, IrChecker checker, IrFunction function, IrCompileOptions? options = null) =>
        new FunctionLowering(scope, checker, function, options ?? new IrCompileOptions()).Lower();

    /// <summary>The System V signature of an IR function type.</summary>
    public static Signature SignatureOf(IReadOnlyList<IrType> parameters, IrType? result) =>
        Signature.SysV([.. parameters.Select(ToScalarType)], result is IrType r ? [ToScalarType(r)] : []);

    /// <summary>The signature type of an IR type.</summary>
    public static ScalarType ToScalarType(IrType t) => t == IrType.I64 ? ScalarType.I64 : ScalarType.F64;
}
