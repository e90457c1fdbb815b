using System.Collections.Concurrent;
using AotCache.Format;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;

namespace AotCache.Loader;

/// <summary>
/// A function the loader refused to run, and why: passed to <see cref="LoadOptions.CompileOnCall"/> on its first call,
/// and named by the <see cref="AotCacheException"/> a refused call ends in.
/// </summary>
public sealed record RefusedFunction(string Name, ErrorCode Reason, string Detail);

public sealed partial class LoadedModule
{
    /// <summary>Compile-on-call: the body each refusal stub runs once compiled (0: refused), computed once per stub.</summary>
    private readonly ConcurrentDictionary<int, Lazy<nint>> _compiledOnCall = new();

    /// <summary>Direct modules: functions given a body on their first call, where it is and its size in bytes.</summary>
    private readonly ConcurrentDictionary<int, (nint Address, long Size)> _directBodies = new();

    /// <summary>What the process's tools are told of code this module adds after load (compiled-on-call bodies).</summary>
    private ToolOptions _tools;

    private Func<RefusedFunction, FunctionBody?>? _compileOnCall;
    private CodeArena? _directArena;       // direct modules with a compiler: room for compiled bodies, within rel32 reach
    private int[]? _stubFunction;          // direct modules: stub index -> function index

    /// <summary>The functions compiled on their first call so far (<see cref="LoadOptions.CompileOnCall"/>), by name.</summary>
    public IReadOnlyCollection<string> CompiledOnCall
    {
        get
        {
            var names = new List<string>();
            foreach (var (stub, body) in _compiledOnCall)
                if (body.IsValueCreated && body.Value != 0) names.Add(DescribeStub(stub).Name);
            names.Sort(StringComparer.Ordinal);
            return names;
        }
    }

    /// <summary>The refusal stub's question: what to run instead of a refused function. Compiles it once, if a compiler
    /// was given, and links it; 0 refuses the call (the stub then abandons it).</summary>
    private nint ResolveRefused(int stub)
    {
        if (_compileOnCall is null || _disposed) return 0;
        return _compiledOnCall.GetOrAdd(stub, s => new Lazy<nint>(() => CompileRefused(s), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private nint CompileRefused(int stub)
    {
        try
        {
            nint body = _swap is not null ? CompileIntoSwapEntry(stub) : CompileIntoDirectModule(stub);
            if (body != 0) RegionAccess.AtomicWriteInt64((nint)_links.StubSlot(stub), body); // later calls jump straight there
            return body;
        }
        catch (Exception) when (!_disposed)
        {
            return 0; // a compiler or a body that failed: the call is refused
        }
    }

    /// <summary>Hot-swappable modules: the compiled body becomes the entry's definition through an update, which checks
    /// it like any other (signature kept, nothing left stale).</summary>
    private nint CompileIntoSwapEntry(int entry)
    {
        SwapEntry e = _swap!.Entries[entry];
        if (!e.Defined || e.Refused is null) return 0; // removed, or replaced meanwhile: nothing to compile
        RefusedFunction refused = DescribeEntry(e);
        if (_compileOnCall!(refused) is not { } body || !body.Signature.Equals(e.Signature)) return 0;
        if (!BeginUpdate().Redefine(refused.Name, body).TryCommit(out _)) return 0;
        return _swap.ByName.TryGetValue(refused.Name, out SwapEntry? now) ? now.Body : 0;
    }

    /// <summary>Direct modules: the compiled body goes into the module's reserve, linked as the module's own code is; its
    /// references to refused functions go to their stubs (and so, once compiled, to their bodies).</summary>
    private nint CompileIntoDirectModule(int stub)
    {
        if (_directArena is null || _stubFunction is null) return 0;
        int function = _stubFunction[stub];
        RefusedFunction refused = _stubs[stub]!;
        SymbolRecord symbol = _image.Symbols[(int)_image.Functions[function].Symbol];
        if (_compileOnCall!(refused) is not { } body || !body.Signature.Equals(_image.GetSignature((int)symbol.Declaration))) return 0;
        // The new body must itself be current: every target exists, may be reached so, and has the signature it expects.
        if (RelocationRules.CheckTargets(body.Relocations.AsSpan(), _image) is not null) return 0;
        var records = new RelocationRecord[body.Relocations.Length];
        for (int i = 0; i < records.Length; i++)
        {
            Relocation r = body.Relocations[i];
            int target = _image.FindSymbol(r.Target);
            ulong current = RelocationRules.IsCallable(_image.Symbols[target].Kind) ? _image.Declarations[(int)_image.Symbols[target].Declaration].SignatureHash : 0;
            ulong expected = r.ExpectedSignatureHash ?? current;
            if (expected != 0 && expected != current) return 0;
            records[i] = new RelocationRecord((uint)r.Offset, r.Kind, (uint)target, r.Addend, expected);
        }
        lock (_directArena)
        {
            CodeArena.Batch batch = _directArena.Allocate(body.Code.Length);
            try
            {
                Span<byte> region = RegionAccess.AsSpan(_region);
                body.Code.AsSpan().CopyTo(region[(int)batch.Offset..]);
                new Relocator(_image, region, _links, _stubFunction is null ? null : StubIndexByFunction())
                    .Apply(records, 0, batch.Offset, (int)_image.Functions[function].Symbol);
                _directArena.MakeExecutable(batch);
            }
            catch
            {
                _directArena.Abandon(batch);
                throw;
            }
            nint address = _region.Address + (nint)batch.Offset;
            // The unwinder (and, if asked, profilers and debuggers) learn the body before the stub can run it [LOAD-10].
            string name = _image.SymbolName((int)_image.Functions[function].Symbol);
            long size = body.Code.Length;
            batch.Registration = CodeRegistration.ForBodies(_tools, address, size, [(name, 0L, body)]);
            _directBodies[function] = (address, size);
            return address;
        }
    }

    private int[] StubIndexByFunction()
    {
        var index = new int[_image.Functions.Length];
        Array.Fill(index, -1);
        for (int stub = 0; stub < _stubFunction!.Length; stub++) index[_stubFunction[stub]] = stub;
        return index;
    }
}
