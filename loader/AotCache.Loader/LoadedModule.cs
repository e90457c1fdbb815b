using System.Text;
using AotCache.Format;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader;

/// <summary>
/// A module loaded into executable memory: one mapping, code read+execute, read-only data read-only,
/// writable data read-write, no page ever writable and executable. Look functions up by name and call
/// them through <see cref="Invoke(string, ReadOnlySpan{Value})"/> (signature-checked) or <see cref="GetFunctionPointer"/>.
/// </summary>
public sealed partial class LoadedModule : IDisposable, ISymbolScope
{
    private static long s_nextId;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, LoadedModule> s_live = new();

    static LoadedModule()
    {
        RefusedCallTrap.Resolver = (id, stub) => s_live.TryGetValue(id, out LoadedModule? module) ? module.ResolveRefused(stub) : 0;
        RefusedCallTrap.Describe = (id, stub) => s_live.TryGetValue(id, out LoadedModule? module)
            ? $"'{module.DescribeStub(stub).Name}' ({module.DescribeStub(stub).Detail})" : $"#{stub} of an unloaded module";
        RefusedCallTrap.Observer = (id, stub) =>
        {
            if (!s_live.TryGetValue(id, out LoadedModule? module) || module._onRefusedCall is not { } callback) return;
            try
            {
                callback(module.DescribeStub(stub));
            }
            catch (Exception)
            {
                // An exception cannot cross the native frames between here and the managed caller.
            }
        };
    }

    private Action<RefusedFunction>? _onRefusedCall;

    /// <summary>Held for the module's life: a resolver may own what its addresses point into (an
    /// <see cref="ImportTable"/> keeps the delegates whose native entry points the loaded code calls).</summary>
    private IImportResolver? _imports;

    private readonly CacheImage _image;
    private readonly bool _ownsImage;
    private readonly IExecutableMemory _memory;
    private readonly MemoryRegion _region;
    private readonly ModuleLayout _layout;
    private readonly ModuleLinks _links;
    private readonly Dictionary<int, RefusedFunction> _refused; // function index -> why
    private readonly RefusedFunction?[] _stubs;                  // stub index -> what it stands for (direct modules)
    private readonly long _id;
    private readonly SwapState? _swap;                          // hot-swappable modules only
    private CodeRegistration? _registration;                    // the file's code, as the unwinder and tools know it
    private bool _disposed;

    private LoadedModule(CacheImage image, bool ownsImage, IExecutableMemory memory, MemoryRegion region, ModuleLinks links,
        Dictionary<int, RefusedFunction> refused, RefusedFunction?[] stubs, long id, SwapState? swap)
    {
        _swap = swap;
        _image = image;
        _ownsImage = ownsImage;
        _memory = memory;
        _region = region;
        _links = links;
        _layout = links.Layout;
        _refused = refused;
        _stubs = stubs;
        _id = id;
    }

    /// <summary>Loads a validated image. The image must stay alive (and, if mapped, undisposed) while the module is used.</summary>
    /// <remarks>The signature policy of <paramref name="options"/>' <see cref="LoadOptions.Read"/> applies here too: an
    /// image read without it (or with another one) is checked against it before anything is mapped, and refused with
    /// <see cref="AotCacheException"/> (<c>SignatureMissing</c> [AUTH-3], <c>SignatureInvalid</c> [AUTH-2]) as reading
    /// it with that policy would have (<see cref="CacheImage.CheckSignature"/>). An image read with the same policy is
    /// not checked twice.</remarks>
    public static LoadedModule Load(CacheImage image, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= new LoadOptions();
        if (options.Read.Signatures is { } policy) image.CheckSignature(policy);
        return Load(image, ownsImage: false, options);
    }

    /// <summary>Reads, validates and loads a cache file; the module owns the file mapping.</summary>
    public static LoadedModule LoadFile(string path, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        CacheImage image = CacheImage.OpenFile(path, options.Read);
        try
        {
            return Load(image, ownsImage: true, options);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Loads, or reports why not: a cache that cannot be used here is a normal outcome (a miss).</summary>
    public static bool TryLoad(CacheImage image, LoadOptions? options, out LoadedModule? module, out AotCacheException? error)
    {
        try
        {
            module = Load(image, options);
            error = null;
            return true;
        }
        catch (AotCacheException e)
        {
            module = null;
            error = e;
            return false;
        }
    }

    /// <summary>The validated file the module was loaded from.</summary>
    public CacheImage Image => _image;

    /// <summary>The single mapping that holds the module.</summary>
    public MemoryRegion Region => _region;

    /// <summary>Functions refused at load (missing CPU features, stale in lenient mode), by name.</summary>
    public IReadOnlyCollection<RefusedFunction> RefusedFunctions => _refused.Values;

    /// <summary>True when the module's code pages are the cache file's own pages (mapped from the page cache and shared
    /// with every process that maps the file), false when they are a private copy (FORMAT.md §16.3).</summary>
    public bool CodeMappedFromFile { get; private init; }

    /// <summary>How calls between the module's functions are linked.</summary>
    public LinkMode LinkMode => _swap is null ? LinkMode.Direct : LinkMode.HotSwappable;

    /// <summary>Address ranges and protections of the module's three segments, for audits.</summary>
    public IReadOnlyList<(nint Start, long Length, PageProtection Protection)> Segments
    {
        get
        {
            ThrowIfDisposed();
            var list = new List<(nint, long, PageProtection)>();
            foreach (var (offset, length, protection) in _layout.Segments()) list.Add((_region.Address + (nint)offset, length, protection));
            return list;
        }
    }

    /// <summary>The address of a symbol (function, data object or resolved import) by name.</summary>
    public nint GetSymbolAddress(string name)
    {
        ThrowIfDisposed();
        int s = _image.FindSymbol(name);
        if (s < 0) throw new KeyNotFoundException($"module {Names.Quote(_image.ModuleName)} has no symbol named {Names.Quote(name)}");
        return (nint)_links.SymbolAddress(s);
    }

    /// <summary>
    /// The function whose code holds <paramref name="address"/> (a return address from a backtrace, a profiler's sample),
    /// and the start of that body: a body the file placed, or in a hot-swappable module the current body an update gave
    /// a function. False for any other address (thunks, stubs, a body already freed).
    /// </summary>
    public bool TryFindFunction(nint address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name, out nint bodyStart)
    {
        ThrowIfDisposed();
        CanonicalLayout canonical = _layout.Canonical;
        long offset = (long)address - ((long)_region.Address + canonical.CodeOffset);
        ReadOnlySpan<FunctionRecord> functions = _image.Functions;
        if (offset >= 0 && offset < canonical.CodeSize)
        {
            int found = _image.FunctionAtOrBefore(offset);
            if (found >= 0 && offset < functions[found].CodeOffset + (long)functions[found].CodeSize)
            {
                name = _image.SymbolName((int)functions[found].Symbol);
                bodyStart = _region.Address + (nint)canonical.FunctionAddress(functions[found]);
                return true;
            }
        }
        foreach (var (function, body) in _directBodies)
            if (address >= body.Address && address < body.Address + (nint)body.Size)
            {
                name = _image.SymbolName((int)functions[function].Symbol);
                bodyStart = body.Address;
                return true;
            }
        if (_swap is not null)
            lock (_swap.CommitLock)
                foreach (SwapEntry e in _swap.ByName.Values)
                    if (e.Batch is not null && address >= e.Body && address < e.Body + (nint)e.BodySize)
                    {
                        name = e.Name;
                        bodyStart = e.Body;
                        return true;
                    }
        name = null;
        bodyStart = 0;
        return false;
    }

    /// <summary>
    /// The entry point of an exported function, after checking that its declaration equals
    /// <paramref name="expected"/>. Cast it to the matching <c>delegate* unmanaged</c> type.
    /// </summary>
    /// <remarks>In a hot-swappable module the pointer is the function's entry thunk: it follows later
    /// redefinitions with the same signature; call it inside <see cref="EnterCode"/>.</remarks>
    public nint GetFunctionPointer(string name, Signature expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        nint address = FindCallable(name, out Signature actual, stable: true);
        if (!actual.Equals(expected))
            throw new InvalidOperationException($"function {Names.Quote(name)} is {actual}, not {expected}");
        return address;
    }

    /// <summary>
    /// What the symbol named <paramref name="name"/> is in the running module: its functions as they are now (after
    /// any hot-swap), and the file's imports and data. Code compiled against this scope (e.g. for an update) records
    /// the signatures the module has.
    /// </summary>
    public bool TryGetSymbol(string name, out SymbolInfo symbol)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(name);
        if (_swap is null) return _image.TryGetSymbol(name, out symbol);
        lock (_swap.CommitLock)
            if (_swap.ByName.TryGetValue(name, out SwapEntry? e))
            {
                symbol = new SymbolInfo(SymbolKind.Function, e.Signature);
                return true;
            }
        if (_image.TryGetSymbol(name, out symbol) && symbol.Kind != SymbolKind.Function) return true;
        symbol = default;
        return false;
    }

    /// <summary>The declaration of an exported function.</summary>
    public Signature GetSignature(string name)
    {
        FindCallable(name, out Signature signature, stable: true);
        return signature;
    }

    /// <summary>Calls an exported function (see <see cref="Invoke(string, ReadOnlySpan{Value})"/>); for C# before 13,
    /// where <c>params</c> takes only arrays.</summary>
    public Value Invoke(string name, params Value[] args) => Invoke(name, args.AsSpan());

    /// <summary>
    /// Calls an exported function with arguments checked against its declaration (System V: up to six
    /// integer and eight floating-point parameters). A call that reaches a refused function throws
    /// <see cref="AotCacheException"/> when control returns, naming that function and why. An exception thrown by a
    /// managed host function (<see cref="ImportTable.Add{TDelegate}(string, TDelegate, Signature?)"/>) the call reached is
    /// rethrown here, with its stack trace, after the loaded code's frames are dropped [LOAD-11].
    /// </summary>
    public Value Invoke(string name, params ReadOnlySpan<Value> args)
    {
        // The body and its signature are taken together: a concurrent redefinition cannot make this call
        // use one signature with the other's body.
        nint address = FindCallable(name, out Signature signature, stable: false);
        if (signature.Convention != CallingConvention.SysV)
            throw new InvalidOperationException($"function {Names.Quote(name)} uses {signature.Convention}; only System V functions can be invoked here");
        if (args.Length != signature.Parameters.Length)
            throw new ArgumentException($"function {Names.Quote(name)} is {signature}: {signature.Parameters.Length} arguments expected, {args.Length} given", nameof(args));
        Span<long> ints = stackalloc long[6];
        Span<double> doubles = stackalloc double[8];
        int ni = 0, nd = 0;
        for (int i = 0; i < args.Length; i++)
        {
            ScalarType want = signature.Parameters[i];
            if (args[i].Type != want)
                throw new ArgumentException($"argument {i} of {Names.Quote(name)} must be {Signature.TypeName(want)}, not {Signature.TypeName(args[i].Type)}", nameof(args));
            if (args[i].IsFloat)
            {
                if (nd == 8) throw new NotSupportedException($"{Names.Quote(name)} has more than 8 floating-point parameters (stack arguments are not supported by Invoke)");
                doubles[nd++] = BitConverter.Int64BitsToDouble(args[i].Bits);
            }
            else
            {
                if (ni == 6) throw new NotSupportedException($"{Names.Quote(name)} has more than 6 integer parameters (stack arguments are not supported by Invoke)");
                ints[ni++] = args[i].Type == ScalarType.I32 ? (int)args[i].Bits : args[i].Bits;
            }
        }
        RefusedCallTrap.Reset();
        CallShim.Result result;
        _swap?.Epochs.Enter();
        try
        {
            result = CallShim.Call(address, ints[..ni], doubles[..nd]);
        }
        finally
        {
            _swap?.Epochs.Exit();
        }
        HostCallGuard.ThrowIfPending(); // a host function threw: the call was abandoned, its exception goes on from here [LOAD-11]
        ThrowIfRefusedCallOccurred();
        if (signature.Results.Length == 0) return default;
        return signature.Results[0] switch
        {
            ScalarType.F64 => new Value(ScalarType.F64, BitConverter.DoubleToInt64Bits(result.Xmm0)),
            ScalarType.F32 => new Value(ScalarType.F32, (int)BitConverter.DoubleToInt64Bits(result.Xmm0)),
            ScalarType.I32 => new Value(ScalarType.I32, (int)result.Rax),
            ScalarType t => new Value(t, result.Rax),
        };
    }

    /// <summary>
    /// For hosts that call loaded code through raw function pointers: throws if, since the last check on
    /// this thread, loaded code of this module reached a refused function.
    /// </summary>
    public void ThrowIfRefusedCallOccurred()
    {
        if (!RefusedCallTrap.TryTake(out long module, out int stub)) return;
        if (module != _id || (uint)stub >= (uint)_stubs.Length)
            throw new InvalidOperationException("loaded code of another module reached a refused function");
        RefusedFunction r = DescribeStub(stub);
        throw new AotCacheException(r.Reason, -1, $"a call reached refused function {Names.Quote(r.Name)}: {r.Detail}");
    }

    /// <summary>The address to call for an exported function: its body (or, when <paramref name="stable"/>,
    /// the hot-swappable entry thunk), with the signature that goes with it.</summary>
    private nint FindCallable(string name, out Signature signature, bool stable)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(name);
        if (_swap is not null) return FindSwappable(name, out signature, stable);
        int s = _image.FindSymbol(name);
        if (s < 0) throw new KeyNotFoundException($"module {Names.Quote(_image.ModuleName)} has no function named {Names.Quote(name)}");
        SymbolRecord symbol = _image.Symbols[s];
        if (symbol.Kind != SymbolKind.Function) throw new KeyNotFoundException($"{Names.Quote(name)} is a {symbol.Kind}, not a function of this module");
        if (symbol.Linkage != Linkage.Export) throw new KeyNotFoundException($"function {Names.Quote(name)} is local to module {Names.Quote(_image.ModuleName)} (not exported)");
        int function = (int)symbol.Definition;
        if (_refused.TryGetValue(function, out RefusedFunction? refused))
        {
            // A compiler can still give it a body: through its stub, the first call compiles it.
            if (_directBodies.TryGetValue(function, out var compiled)) return SignatureAnd(out signature, symbol, compiled.Address);
            if (_compileOnCall is not null && _stubFunction is not null && Array.IndexOf(_stubFunction, function) is var stub && stub >= 0)
                return SignatureAnd(out signature, symbol, (nint)_links.Stub(stub));
            throw new AotCacheException(refused.Reason, -1, $"function {Names.Quote(name)} was refused at load: {refused.Detail}");
        }
        signature = _image.GetSignature((int)symbol.Declaration); // decoded once per image
        return (nint)_links.Body(function);
    }

    private nint SignatureAnd(out Signature signature, in SymbolRecord symbol, nint address)
    {
        signature = _image.GetSignature((int)symbol.Declaration);
        return address;
    }

    private RefusedFunction DescribeStub(int stub) =>
        (uint)stub >= (uint)_stubs.Length ? new RefusedFunction($"#{stub}", ErrorCode.StaleCaller, "unknown stub")
        : _swap is not null ? DescribeEntry(_swap.Entries[stub]) : _stubs[stub]!;

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(LoadedModule), $"module {Names.Quote(_image.ModuleName)} was unloaded (disposed); its code and data are unmapped");
    }

    /// <summary>Unmaps the module. Any later use is an <see cref="ObjectDisposedException"/>; pointers obtained
    /// before are dangling, as after dlclose.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        s_live.TryRemove(_id, out _);
        // Tools forget the code before its pages go [LOAD-10]: an unwinder must never find frames of unmapped code.
        _registration?.Dispose();
        _swap?.Arena.DisposeRegistrations();
        _directArena?.DisposeRegistrations();
        _memory.Free(_region);
        GC.KeepAlive(_imports); // the resolver's delegates may be collected only once the code that calls them is unmapped
        _imports = null;
        _swap?.Epochs.Dispose();
        if (_ownsImage) _image.Dispose();
    }

    private static string Join(IEnumerable<string> lines) => new StringBuilder().AppendJoin("; ", lines).ToString();
}
