using System.Collections.Immutable;
using System.Runtime.InteropServices;
using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Unwind;

/// <summary>
/// A chain of generated functions, <c>f0(x) → f1(x) → … → f5(x) → host(x, 64)</c>, each adding 1 to what its callee
/// returns, whose innermost one calls a host function with the caller's argument: glibc's <c>backtrace(buffer, 64)</c>
/// (the libc function itself, resolved from libc.so.6), so the first frame libgcc's unwinder must get through is
/// cached code's. What a test learns from one call: the cached functions named by the return addresses the host saw.
/// </summary>
public static class UnwindChain
{
    public const int Depth = 6;
    public const string Host = "backtrace";

    public static IrFunction Link(int i, string callee, int add = 1) =>
        new($"f{i}", [I64], I64, [], [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall(callee, [new IrLocal(0)]), new IrConstI64(add)))]);

    public static IrFunction Innermost(int i) =>
        new($"f{i}", [I64], I64, [], [new IrReturn(new IrBinary(IrBinaryOp.Add, new IrCall(Host, [new IrLocal(0), new IrConstI64(64)]), new IrConstI64(1)))]);

    public static IrModule Module(string host = Host)
    {
        var functions = new List<IrFunction>();
        for (int i = 0; i < Depth - 1; i++) functions.Add(Link(i, $"f{i + 1}"));
        functions.Add(Innermost(Depth - 1));
        return new IrModule([new IrImport(host, [I64, I64], I64)], [], [.. functions]) { Name = "chain" };
    }

    public static byte[] CacheFile(bool prelink = true)
    {
        var builder = new Writer.CacheBuilder(Writer.TargetDescription.LinuxX64) { Prelink = prelink };
        IrCompiler.AddTo(builder, Module());
        return builder.ToArray();
    }

    public static LoadOptions Options(LinkMode mode, NativeLibraryResolver libc) => new() { Imports = libc, LinkMode = mode };

    /// <summary>One frame the host saw: its return address, and the cached function and body holding it (null outside).</summary>
    public readonly record struct Frame(nint ReturnAddress, string? Function, nint BodyStart)
    {
        public long OffsetInBody => ReturnAddress - BodyStart;
    }

    /// <summary>Calls <c>f0</c>, which ends in <c>backtrace(buffer, 64)</c>; the frames it recorded, innermost first.</summary>
    public static List<Frame> Trace(LoadedModule module, int depth = Depth)
    {
        nint buffer = Marshal.AllocHGlobal(64 * 8);
        try
        {
            long result = module.Invoke("f0", Value.I64(buffer)).AsI64;
            int count = (int)(result - depth); // backtrace's count, plus 1 per function of the chain
            Assert.InRange(count, 1, 64);
            var frames = new List<Frame>();
            for (int k = 0; k < count; k++)
            {
                nint address = Marshal.ReadIntPtr(buffer, 8 * k);
                // A return address follows its call: the call (the frame's place) is the byte before it.
                frames.Add(module.TryFindFunction(address - 1, out string? name, out nint start) ? new Frame(address, name, start) : new Frame(address, null, 0));
            }
            return frames;
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    /// <summary>Where each call of a function returns to, from its relocations: the end of the call's rel32 field.</summary>
    public static long ReturnOffset(FunctionBody body, string callee) =>
        body.Relocations.Single(r => r.Target == callee).Offset + 4;

    /// <summary>Hot-swaps <c>f3</c> for one that adds <paramref name="add"/> to what <c>f4</c> returns (the chain's
    /// result grows by <paramref name="add"/> − 1), compiled as a front end would; returns the new body.</summary>
    public static FunctionBody RedefineF3(LoadedModule module, int add)
    {
        IrModule ir = Module();
        IrFunction f3 = Link(3, "f4", add);
        UpdateTransaction update = module.BeginUpdate();
        FunctionBody body = Compile(update, ir with { Functions = [.. ir.Functions.Select(f => f.Name == "f3" ? f3 : f)] }, f3);
        update.Redefine("f3", body);
        update.Commit();
        return body;
    }

    /// <summary>Compiles new bodies for an update against what the module will be, as a front end would.</summary>
    public static FunctionBody Compile(UpdateTransaction update, IrModule module, IrFunction function) =>
        IrCompiler.CompileFunction(update.Result, IrChecker.Check(module), function);
}

/// <summary>
/// <see cref="IExecutableMemory"/> that keeps a freed module's address range reserved (inaccessible) until the test
/// ends, so that no other module loaded meanwhile by a parallel test can land there: what the unwinder says about
/// those addresses then speaks of this module alone.
/// </summary>
internal sealed class ReservingMemory : IExecutableMemory, IDisposable
{
    private readonly IExecutableMemory _inner = LinuxMemory.ForHost();
    private readonly List<MemoryRegion> _freed = [];

    public int PageSize => _inner.PageSize;
    public MemoryRegion Allocate(long size) => _inner.Allocate(size);
    public void Protect(MemoryRegion region, long offset, long length, PageProtection protection) => _inner.Protect(region, offset, length, protection);
    public MemoryRegion Reserve(long size) => _inner.Reserve(size);
    public void Commit(MemoryRegion region, long offset, long length) => _inner.Commit(region, offset, length);
    public void Decommit(MemoryRegion region, long offset, long length) => _inner.Decommit(region, offset, length);
    public void CommitUntouched(MemoryRegion region, long offset, long length) => _inner.CommitUntouched(region, offset, length);
    public bool TryMapFile(MemoryRegion region, long offset, long length, Microsoft.Win32.SafeHandles.SafeFileHandle file, long fileOffset, bool writable) =>
        _inner.TryMapFile(region, offset, length, file, fileOffset, writable);

    public void Free(MemoryRegion region)
    {
        _inner.Decommit(region, 0, region.Size);
        _freed.Add(region);
    }

    public void Dispose()
    {
        foreach (MemoryRegion region in _freed) _inner.Free(region);
        _freed.Clear();
    }
}
