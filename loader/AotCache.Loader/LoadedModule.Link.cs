using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using AotCache.Format;
using AotCache.Loader.HotSwap;
using AotCache.Loader.Linking;
using AotCache.Loader.Memory;
using AotCache.Reader;

namespace AotCache.Loader;

public sealed partial class LoadedModule
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LoadedModule Load(CacheImage image, bool ownsImage, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        HostEnvironment host = options.Host;
        CheckTarget(image, host);
        CheckFingerprint(image, host);
        CheckFileCpuFeatures(image, host);

        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        ReadOnlySpan<FunctionRecord> functions = image.Functions;

        // Functions that must not run here: missing CPU features [LOAD-3], stale callers [LOAD-5].
        var refused = new Dictionary<int, RefusedFunction>();
        for (int f = 0; f < functions.Length; f++)
        {
            CpuFeatures missing = functions[f].RequiredCpuFeatures & ~host.CpuFeatures;
            if (missing != CpuFeatures.None)
                refused[f] = new RefusedFunction(image.SymbolName((int)functions[f].Symbol), ErrorCode.MissingCpuFeatures,
                    $"needs CPU features this host lacks: {HostEnvironment.Describe(missing)}");
        }
        List<StaleReference> stale = StaleAnalysis.Find(image);
        if (stale.Count > 0)
        {
            if (options.StalePolicy == StalePolicy.Strict)
                throw new AotCacheException(ErrorCode.StaleCaller, stale[0].Kind == StaleKind.Signature
                        ? image.SectionOffset(SectionKind.Relocations) + (long)stale[0].Record * RelocationRecord.RecordSize
                        : image.SectionOffset(SectionKind.Dependencies) + (long)stale[0].Record * DependencyRecord.RecordSize,
                    $"{stale.Count} stale reference{(stale.Count == 1 ? "" : "s")}: " + Join(stale.Select(s => StaleAnalysis.Describe(image, s))));
            foreach (StaleReference s in stale)
            {
                // A data object cannot be routed to a stub: its stale pointer would be read and called by code that is
                // not stale itself, so the load fails even in lenient mode [LOAD-5].
                if (!s.OwnerIsFunction)
                    throw new AotCacheException(ErrorCode.StaleCaller, image.SectionOffset(SectionKind.Relocations) + (long)s.Record * RelocationRecord.RecordSize,
                        "stale function pointer in data (a data object cannot be refused, even in lenient mode): " + StaleAnalysis.Describe(image, s));
                if (!refused.ContainsKey(s.Owner))
                    refused[s.Owner] = new RefusedFunction(image.SymbolName((int)functions[s.Owner].Symbol), ErrorCode.StaleCaller, StaleAnalysis.Describe(image, s));
            }
        }
        RefuseBodyBoundReferrers(image, refused); // [LOAD-7]

        bool hotSwap = options.LinkMode == LinkMode.HotSwappable;
        int swapEntries = hotSwap ? functions.Length + (options.AddCapacity >= 0 ? options.AddCapacity : functions.Length / 4 + 64) : 0;
        IExecutableMemory memory = options.Memory ?? LinuxMemory.ForHost();
        if (memory.PageSize != ModuleLayout.PageSize)
            throw new AotCacheException(ErrorCode.UnsupportedPlatform, -1, $"the canonical layout needs {ModuleLayout.PageSize}-byte pages; this memory has {memory.PageSize}-byte pages");
        CanonicalLayout canonical = image.CanonicalLayout;
        nint[] importAddress = ResolveImports(image, options.Imports, canonical);

        // Refusal stubs: one per refused function; in a hot-swappable module one per swap entry.
        int stubCount = hotSwap ? swapEntries : refused.Count;
        var stubs = new RefusedFunction?[stubCount];
        var stubOf = new Dictionary<int, int>();
        foreach (int f in refused.Keys.Order())
        {
            stubOf[f] = hotSwap ? f : stubOf.Count;
            stubs[stubOf[f]] = refused[f];
        }

        var layout = ModuleLayout.Compute(canonical, stubCount, swapEntries);
        CheckModuleSize(image, layout, hotSwap ? memory.PageSize : 0); // a hot-swappable module reserves at least a page for new bodies
        // The code as the file holds it can run here when it is prelinked for this very layout [REL-10], is linked
        // directly, and every refused body is big enough to hold the jump to its stub. Its pages then come straight
        // from the file when the reader mapped a file no other user can change (FORMAT.md §16.3).
        bool codeAsIs = !hotSwap && image.IsPrelinked;
        foreach (int f in refused.Keys) codeAsIs &= functions[f].CodeSize >= 5;
        bool codeWrites = refused.Count > 0 || image.CodeAbsoluteRelocations > 0;
        // Room for new bodies within rel32 reach: every hot-swappable module; a direct one that can compile refused functions.
        bool compiles = !hotSwap && options.CompileOnCall is not null && refused.Count > 0;
        long reserve = hotSwap || compiles ? HotSwapReserve(image, options, layout, memory) : 0;
        MemoryRegion region = memory.Reserve(layout.TotalSize + reserve);
        long id = Interlocked.Increment(ref s_nextId);
        try
        {
            long baseAddress = region.Address;
            long codeFull = canonical.CodeSize / ModuleLayout.PageSize * ModuleLayout.PageSize;
            // Thunks, read-only data, slots and writable data are written now; the zero-fill area costs nothing until touched.
            memory.Commit(region, 0, canonical.ZeroFillOffset);
            memory.CommitUntouched(region, canonical.ZeroFillOffset, canonical.CodeOffset - canonical.ZeroFillOffset);
            // (A Code section that does not start on a page of the file cannot be mapped there: it is copied.)
            bool codeMapped = codeAsIs && image.SectionOffset(SectionKind.Code) % ModuleLayout.PageSize == 0 && image.TryGetMappedFile(out var file)
                && memory.TryMapFile(region, canonical.CodeOffset, codeFull, file, image.SectionOffset(SectionKind.Code), writable: codeWrites);
            // The last, partial code page is copied either way: only Code section bytes (and zeros) become executable.
            memory.Commit(region, canonical.CodeOffset + (codeMapped ? codeFull : 0), canonical.End - canonical.CodeOffset - (codeMapped ? codeFull : 0));
            memory.Commit(region, canonical.End, layout.TotalSize - canonical.End);
            Span<byte> mem = RegionAccess.AsSpan(new MemoryRegion(region.Address, layout.TotalSize));

            image.Code[(int)(codeMapped ? codeFull : 0)..].CopyTo(mem[(int)(canonical.CodeOffset + (codeMapped ? codeFull : 0))..]);
            image.Data[..(int)canonical.ReadOnlyDataSize].CopyTo(mem[(int)canonical.ReadOnlyOffset..]);
            image.Data[(int)canonical.WritableDataStart..(int)canonical.WritableDataEnd]
                .CopyTo(mem[(int)(canonical.WritableOffset + canonical.WritableDataStart - canonical.WritableDataFloor)..]);

            var links = new ModuleLinks(image, baseAddress, layout, importAddress, hotSwap);
            WriteSlotsThunksAndStubs(mem, links, stubCount, id);
            if (hotSwap) WriteEntryThunks(mem, layout);

            // Callers of a refused function go to its stub; in code used as is, its body itself jumps there.
            int[]? stubIndex = null;
            if (!hotSwap && stubOf.Count > 0 && !codeAsIs)
            {
                stubIndex = new int[functions.Length];
                Array.Fill(stubIndex, -1);
                foreach (var (f, stub) in stubOf) stubIndex[f] = stub;
            }
            var linker = new Relocator(image, mem, links, stubIndex);
            ReadOnlySpan<RelocationRecord> relocations = image.Relocations; // sliced per owner below, without re-deriving the table
            if (!codeAsIs || image.CodeAbsoluteRelocations > 0)
                for (int f = 0; f < functions.Length; f++)
                {
                    ref readonly FunctionRecord fr = ref functions[f];
                    if (fr.RelocationCount == 0 || stubOf.ContainsKey(f)) continue; // a refused body never runs
                    linker.Apply(relocations.Slice((int)fr.FirstRelocation, (int)fr.RelocationCount), (int)fr.FirstRelocation,
                        canonical.FunctionAddress(fr), (int)fr.Symbol, absoluteOnly: codeAsIs);
                }
            ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
            for (int d = 0; d < data.Length; d++)
                if (data[d].RelocationCount > 0)
                    linker.Apply(image.RelocationsOf(data[d]), (int)data[d].FirstRelocation, canonical.DataObjectAddress(data[d]), (int)data[d].Symbol);
            // A refused body never runs: it becomes "jmp stub" followed by int3.
            foreach (var (f, stub) in stubOf)
                BlockRefusedBody(mem, canonical.FunctionAddress(functions[f]), (int)functions[f].CodeSize, baseAddress, (nint)links.Stub(stub));

            SwapState? swap = hotSwap ? CreateSwapState(image, links, memory, region, layout, refused, options.Tools) : null;

            // Only now: code and stubs read+execute, read-only data, slots and the handler read-only. Writable data
            // (and swap slots) stay read-write, never executable; mapped code that needed no write already is read+execute.
            foreach (var (offset, length, protection) in layout.Segments())
            {
                if (protection == PageProtection.ReadWrite) continue;
                if (codeMapped && !codeWrites && offset == canonical.CodeOffset)
                {
                    memory.Protect(region, offset + codeFull, length - codeFull, protection);
                    continue;
                }
                memory.Protect(region, offset, length, protection);
            }
            int[]? stubFunction = null;
            if (!hotSwap && stubOf.Count > 0)
            {
                stubFunction = new int[stubOf.Count];
                foreach (var (f, stub) in stubOf) stubFunction[stub] = f;
            }
            var module = new LoadedModule(image, ownsImage, memory, region, links, refused, stubs, id, swap)
            {
                _onRefusedCall = options.OnRefusedCall,
                _compileOnCall = options.CompileOnCall,
                _stubFunction = stubFunction,
                _directArena = compiles ? new CodeArena(memory, region, layout.TotalSize, memory.PageSize) : null,
                _imports = options.Imports,
                _tools = options.Tools,
                CodeMappedFromFile = codeMapped && codeFull > 0,
            };
            // Only now, before any of it can run: the unwinder (and, if asked, profilers and debuggers) learn the code [LOAD-10].
            // The file's CFI is registered where it lies: its pc_begin values are relative to the code, not to the file.
            module._registration = CodeRegistration.Create(options.Tools, region.Address + (nint)canonical.CodeOffset, canonical.CodeSize,
                image.UnwindCfi, cfiInPlace: true, () => FileFunctions(image));
            s_live[id] = module;
            return module;
        }
        catch
        {
            memory.Free(region);
            throw;
        }
    }

    /// <summary>Each function of the file: name, code offset and size, for the perf map and the debugger's symbol file.</summary>
    private static List<(string Name, long Offset, long Size)> FileFunctions(CacheImage image)
    {
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        var list = new List<(string, long, long)>(functions.Length);
        foreach (ref readonly FunctionRecord f in functions) list.Add((image.SymbolName((int)f.Symbol), f.CodeOffset, f.CodeSize));
        return list;
    }

    /// <summary>Address space a hot-swappable module reserves beyond its own pages for new bodies, all within rel32
    /// reach. The default shrinks to what fits; an explicit one that does not fit is refused [REL-9].</summary>
    private static long HotSwapReserve(CacheImage image, LoadOptions options, ModuleLayout layout, IExecutableMemory memory)
    {
        long codeSize = layout.Canonical.End - layout.Canonical.CodeOffset;
        long reserve = options.CodeReserve > 0 ? Math.Min(options.CodeReserve, int.MaxValue)
            : Math.Min(Math.Max(64L << 20, 4 * codeSize), (int.MaxValue - layout.TotalSize) / memory.PageSize * memory.PageSize);
        reserve = ModuleLayout.AlignUp(Math.Max(reserve, memory.PageSize), memory.PageSize);
        // A reserve that fits beside no module is the caller's mistake; one that does not fit beside this file's
        // module is this file's size, refused before anything is mapped [REL-9].
        if (reserve + memory.PageSize > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), options.CodeReserve, "LoadOptions.CodeReserve leaves no room for any module below 2 GiB (rel32 reach)");
        CheckModuleSize(image, layout, reserve);
        return reserve;
    }

    /// <summary>
    /// The module's one region must stay below 2 GiB: every rel32 between its code, data and slots must reach
    /// [REL-9], and the loader addresses the region as one span. A valid file can still exceed it (code and data
    /// below 2 GiB, plus a zero-fill area of up to 2 GiB), and is refused before anything is mapped.
    /// </summary>
    private static void CheckModuleSize(CacheImage image, ModuleLayout layout, long reserve)
    {
        if (layout.TotalSize + reserve <= int.MaxValue) return;
        long at = -1;
        ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
        if (data.Length > 0 && data[^1].Kind == DataKind.ZeroFilled) // the zero-fill area's size is its last object's end
            at = image.SectionOffset(SectionKind.DataObjects) + (long)(data.Length - 1) * DataObjectRecord.RecordSize + 12;
        throw new AotCacheException(ErrorCode.RelocationOverflow, at,
            $"the module needs a {layout.TotalSize}-byte region (code {image.Code.Length}, data {image.Data.Length}, zero-fill {image.ZeroFillSize}, " +
            $"loader thunks, stubs and slots){(reserve > 0 ? $" and {reserve} bytes reserved for new code" : "")}; one module must fit in 2 GiB so that every rel32 inside it reaches");
    }

    private static void CheckTarget(CacheImage image, HostEnvironment host)
    {
        if (image.Architecture != host.Architecture || image.Abi != host.Abi || image.Os != host.Os)
            throw new AotCacheException(ErrorCode.TargetMismatch, 32,
                $"the file is for {image.Architecture} {image.Abi} {image.Os}; this host is {host.Architecture} {host.Abi} {host.Os}");
    }

    private static void CheckFileCpuFeatures(CacheImage image, HostEnvironment host)
    {
        CpuFeatures missing = image.RequiredCpuFeatures & ~host.CpuFeatures;
        if (missing != CpuFeatures.None)
            throw new AotCacheException(ErrorCode.MissingCpuFeatures, 48, $"every function of the file needs CPU features this host lacks: {HostEnvironment.Describe(missing)}");
    }

    private static void CheckFingerprint(CacheImage image, HostEnvironment host)
    {
        var problems = new List<string>();
        foreach (FingerprintComponent c in image.Fingerprint)
        {
            if (c.Match == MatchRule.Informational) continue;
            string key = image.GetString(c.Key);
            string fileValue = c.ValueKind == FingerprintValueKind.String
                ? $"\"{Names.Escape(image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32))))}\""
                : c.ValueKind == FingerprintValueKind.FeatureSet ? $"0x{c.Value:x}" : c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!host.Fingerprint.TryGetValue(key, out FingerprintValue hostValue))
            {
                problems.Add($"{Names.Escape(key)}: the file requires {fileValue} ({c.Match}) and the host provides no value");
                continue;
            }
            bool ok = c.Match switch
            {
                MatchRule.Superset => hostValue.Kind == FingerprintValueKind.FeatureSet && (c.Value & ~hostValue.Number) == 0,
                _ => c.ValueKind == hostValue.Kind && (c.ValueKind == FingerprintValueKind.String
                    ? image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32))) == hostValue.Text
                    : c.Value == hostValue.Number),
            };
            if (!ok) problems.Add($"{Names.Escape(key)}: the file has {fileValue}, the host {hostValue} ({c.Match})");
        }
        if (problems.Count > 0)
            throw new AotCacheException(ErrorCode.FingerprintMismatch, image.SectionOffset(SectionKind.Fingerprint), "codegen fingerprint does not match: " + Join(problems));
    }

    /// <summary>The host's address of every import, indexed by the import's canonical slot (imports take the first
    /// slots, in symbol order): the only name lookups of a load [LOAD-4].</summary>
    private static nint[] ResolveImports(CacheImage image, IImportResolver? resolver, CanonicalLayout canonical)
    {
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        var addresses = new nint[canonical.ImportCount];
        List<string>? unresolved = null, mismatched = null;
        for (int slot = 0; slot < addresses.Length; slot++)
        {
            int s = canonical.SlotSymbol(slot);
            ref readonly SymbolRecord sym = ref symbols[s];
            Signature? signature = sym.Kind == SymbolKind.ImportFunction ? image.GetSignature((int)sym.Declaration) : null;
            var request = new ImportRequest(image.SymbolName(s), sym.Kind, signature);
            if (resolver is not null && resolver.TryResolve(request, out nint address) && address != 0)
                addresses[slot] = address;
            else if (resolver?.DescribeMiss(request) is { } reason)
                (mismatched ??= []).Add($"{Names.Escape(request.Name)}: the file expects {signature?.ToString() ?? "data"}, the host has it {reason}");
            else
                (unresolved ??= []).Add(signature is null ? $"{Names.Escape(request.Name)} (data)" : $"{Names.Escape(request.Name)}: {signature}");
        }
        if (unresolved is not null || mismatched is not null)
        {
            // Missing imports and imports the host offers with another signature are different mistakes: name each.
            var parts = new List<string>(2);
            if (unresolved is not null)
                parts.Add($"{unresolved.Count} unresolved import{(unresolved.Count == 1 ? "" : "s")}: {Join(unresolved)}");
            if (mismatched is not null)
                parts.Add($"{mismatched.Count} import{(mismatched.Count == 1 ? "" : "s")} with another signature: {Join(mismatched)}");
            throw new AotCacheException(ErrorCode.UnresolvedImports, -1, string.Join(". ", parts));
        }
        return addresses;
    }

    /// <summary>Slots (each symbol's address), import thunks (<c>jmp [rip + slot]</c>), the refused-call handler's
    /// address and the refusal stubs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteSlotsThunksAndStubs(Span<byte> mem, ModuleLinks links, int stubCount, long moduleId)
    {
        ModuleLayout layout = links.Layout;
        CanonicalLayout canonical = layout.Canonical;
        for (int slot = 0; slot < canonical.SlotCount; slot++)
        {
            int symbol = canonical.SlotSymbol(slot);
            BinaryPrimitives.WriteInt64LittleEndian(mem[(int)canonical.SlotAddress(slot)..], links.SymbolAddress(symbol));
        }
        for (int thunk = 0; thunk < canonical.ThunkCount; thunk++)
        {
            // jmp qword [rip + disp32]: the slot is in the same mapping, so disp32 always reaches.
            long at = canonical.ThunkAddress(thunk);
            long slot = canonical.SlotAddress(canonical.SlotOf(canonical.ThunkSymbol(thunk)));
            Span<byte> t = mem[(int)at..];
            t[0] = 0xFF; t[1] = 0x25;
            BinaryPrimitives.WriteInt32LittleEndian(t[2..], checked((int)(slot - (at + 6))));
            t[6] = 0xCC; t[7] = 0xCC;
        }
        long handlerSlot = layout.HandlerSlotOffset;
        BinaryPrimitives.WriteInt64LittleEndian(mem[(int)handlerSlot..], RefusedCallTrap.HandlerAddress);
        if (stubCount == 0) return;
        for (int i = 0; i < stubCount; i++)
        {
            long at = layout.StubsOffset + (long)i * ModuleLayout.StubSize;
            long slot = layout.StubSlotsOffset + 8L * i;
            StubCode.WriteStub(mem, at, i, slot, layout.CommonStubOffset);
            BinaryPrimitives.WriteInt64LittleEndian(mem[(int)slot..], links.BaseAddress + at + StubCode.ResolveOffset); // until it has a body
        }
        StubCode.WriteCommon(mem, layout.CommonStubOffset, handlerSlot, moduleId);
    }

    private static void BlockRefusedBody(Span<byte> mem, long bodyOffset, int size, long baseAddress, nint stubAddress)
    {
        Span<byte> body = mem.Slice((int)bodyOffset, size);
        body.Fill(0xCC);
        if (body.Length >= 5)
        {
            body[0] = 0xE9;
            BinaryPrimitives.WriteInt32LittleEndian(body[1..], checked((int)(stubAddress - (baseAddress + bodyOffset + 5))));
        }
    }
}
