using AotCache.Format;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader.Linking;

/// <summary>Which tools a module's code is announced to (from <see cref="LoadOptions"/>).</summary>
/// <param name="Unwinder">Register unwind information with libgcc's unwinder.</param>
/// <param name="PerfMapDirectory">Append to <c>perf-PID.map</c> in this directory; null: no perf map.</param>
/// <param name="Debugger">Register a symbol file with GDB's JIT interface.</param>
internal readonly record struct ToolOptions(bool Unwinder, string? PerfMapDirectory, bool Debugger)
{
    public bool NeedsNames => PerfMapDirectory is not null || Debugger;
}

/// <summary>
/// What the process's tools are told about one piece of loaded code (a module's code, or a batch of hot-swapped
/// bodies): its unwind information goes to the system unwinder (so backtraces, profilers' stack walks and C++
/// exceptions pass through it), its functions to the perf map, and a symbol file to GDB's JIT interface. Everything is
/// withdrawn by <see cref="Dispose"/>, which must come before the code's memory is released [LOAD-10]; the perf map,
/// a log, is never rewritten.
/// </summary>
internal sealed class CodeRegistration : IDisposable
{
    private FrameRegistration? _frames;
    private nint _debuggerEntry;

    private CodeRegistration() { }

    /// <param name="codeAddress">Where the code's first byte is.</param>
    /// <param name="cfi">A validated CFI area (FORMAT.md §19.2) whose pc_begin values are relative to
    /// <paramref name="codeAddress"/> − <see cref="UnwindRules.TextBias"/>; empty when the code has none.</param>
    /// <param name="cfiInPlace">The CFI stays where it is for as long as the code (the file's own bytes): registered
    /// without a copy.</param>
    /// <param name="functions">Each function's name, offset from <paramref name="codeAddress"/> and size; asked for
    /// only when a perf map or a debugger needs names.</param>
    public static CodeRegistration? Create(ToolOptions tools, nint codeAddress, long codeSize, ReadOnlyMemory<byte> cfi, bool cfiInPlace,
        Func<IReadOnlyList<(string Name, long Offset, long Size)>> functions)
    {
        if (!tools.Unwinder && !tools.NeedsNames) return null;
        var registration = new CodeRegistration();
        try
        {
            nint textBase = codeAddress - UnwindRules.TextBias;
            if (tools.Unwinder && !cfi.IsEmpty)
                registration._frames = cfiInPlace ? FrameRegistration.Register(cfi, textBase) : FrameRegistration.RegisterCopy(cfi.Span, textBase);
            if (tools.NeedsNames)
            {
                IReadOnlyList<(string Name, long Offset, long Size)> named = functions();
                if (tools.PerfMapDirectory is { } directory) PerfMap.Append(directory, codeAddress, named);
                if (tools.Debugger && GdbJitInterface.TryInitialize(ElfImages.JitDebugHelper, ElfImages.RegisterCodeSymbol, ElfImages.DescriptorSymbol, out _))
                    registration._debuggerEntry = GdbJitInterface.Register(ElfImages.SymbolFile(codeAddress, codeSize, cfi.Span, named));
            }
            return registration;
        }
        catch
        {
            registration.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Bodies copied into loaded memory after the load (a hot-swap batch, a direct module's redefined function), each at
    /// its offset from <paramref name="codeAddress"/>: their CFI (FORMAT.md §19.2, one FDE per body that has unwind
    /// information) is built only when the unwinder or the debugger will read it, and registered as a copy.
    /// </summary>
    public static CodeRegistration? ForBodies(ToolOptions tools, nint codeAddress, long codeSize,
        IReadOnlyList<(string Name, long Offset, FunctionBody Body)> bodies)
    {
        if (!tools.Unwinder && !tools.NeedsNames) return null;
        byte[] cfi = [];
        if (tools.Unwinder || tools.Debugger)
        {
            var frames = new List<FrameDescription>();
            foreach (var (_, offset, body) in bodies)
                if (body.Unwind is { } unwind) frames.Add(new FrameDescription(offset, body.Code.Length, unwind.Program.AsMemory()));
            if (frames.Count > 0) cfi = UnwindRules.BuildCfi(frames);
        }
        return Create(tools, codeAddress, codeSize, cfi, cfiInPlace: false,
            () => bodies.Select(b => (b.Name, b.Offset, (long)b.Body.Code.Length)).ToList());
    }

    /// <summary>A function's name as tools are given it: without NUL or control characters, which would cut a string
    /// table entry or a perf map line.</summary>
    public static string ToolName(string name) =>
        name.Any(char.IsControl) ? string.Concat(name.Select(c => char.IsControl(c) ? '?' : c)) : name;

    /// <summary>True when the unwinder has this code's frames.</summary>
    public bool RegisteredFrames => _frames is not null;

    /// <summary>Withdraws the unwind information and the debugger's symbol file.</summary>
    public void Dispose()
    {
        _frames?.Dispose();
        _frames = null;
        if (_debuggerEntry != 0) GdbJitInterface.Unregister(_debuggerEntry);
        _debuggerEntry = 0;
    }
}
