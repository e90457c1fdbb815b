using System.Runtime.CompilerServices;
using System.Buffers.Binary;
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
                if (!s.OwnerIsFunction)
                    throw new AotCacheException(ErrorCode.StaleCaller, -1, "stale function pointer in data: " + StaleAnalysis.Describe(image, s));
                if (!refused.ContainsKey(s.Owner))
                    refused[s.Owner] = new RefusedFunction(image.SymbolName((int)functions[s.Owner].Symbol), ErrorCode.StaleCaller, StaleAnalysis.Describe(image, s));
            }
        }
        RefuseBodyBoundReferrers(image, refused); // [LOAD-7]

        nint[] symbolAddress = ResolveImports(image, options.Imports);
        bool hotSwap = options.LinkMode == LinkMode.HotSwappable;
        int swapEntries = hotSwap ? functions.Length + (options.AddCapacity >= 0 ? options.AddCapacity : functions.Length / 4 + 64) : 0;

        // Slots and thunks: only for symbols that relocations reach through them (hot-swappable modules:
        // for every import, since new code may call any of them).
        int[] slotOf = new int[symbols.Length];
        int[] thunkOf = new int[symbols.Length];
        Array.Fill(slotOf, -1);
        Array.Fill(thunkOf, -1);
        int slotCount = 1; // slot 0: the refused-call handler
        int thunkCount = 0;
        foreach (ref readonly RelocationRecord r in image.Relocations)
        {
            if (r.Kind is not (RelocationKind.ThunkPcRel32 or RelocationKind.SlotPcRel32)) continue; // most relocations: no symbol lookup
            SymbolKind targetKind = symbols[(int)r.Target].Kind;
            bool viaThunk = r.Kind == RelocationKind.ThunkPcRel32 && targetKind == SymbolKind.ImportFunction;
            bool viaSlot = r.Kind == RelocationKind.SlotPcRel32 && !(hotSwap && targetKind == SymbolKind.Function); // functions use their swap slot
            if ((viaSlot || viaThunk) && slotOf[r.Target] < 0) slotOf[r.Target] = slotCount++;
            if (viaThunk && thunkOf[r.Target] < 0) thunkOf[r.Target] = thunkCount++;
        }
        if (hotSwap)
            for (int s = 0; s < symbols.Length; s++)
            {
                if (symbols[s].Kind is SymbolKind.ImportFunction or SymbolKind.ImportData && slotOf[s] < 0) slotOf[s] = slotCount++;
                if (symbols[s].Kind == SymbolKind.ImportFunction && thunkOf[s] < 0) thunkOf[s] = thunkCount++;
            }

        // Refusal stubs: one per refused function; in a hot-swappable module one per swap entry.
        int stubCount = hotSwap ? swapEntries : refused.Count;
        var stubs = new RefusedFunction?[stubCount];
        var stubOf = new Dictionary<int, int>();
        foreach (int f in refused.Keys.Order())
        {
            stubOf[f] = hotSwap ? f : stubOf.Count;
            stubs[stubOf[f]] = refused[f];
        }

        IExecutableMemory memory = options.Memory ?? LinuxMemory.ForHost();
        var layout = ModuleLayout.Compute(image, slotCount, thunkCount, stubCount, memory.PageSize, swapEntries);
        CheckModuleSize(image, layout, hotSwap ? memory.PageSize : 0); // a hot-swappable module reserves at least a page for new bodies
        MemoryRegion region;
        MemoryRegion reservation = default;
        if (hotSwap)
        {
            // One reservation for the module and every future body: all code stays within rel32 reach. The
            // default reserve shrinks to what fits; only an explicit one can be refused.
            // An explicit reserve that cannot fit beside any module is the caller's mistake; one that does not fit
            // beside this file's module is this file's size, refused before anything is mapped [REL-9].
            long reserve = options.CodeReserve > 0 ? Math.Min(options.CodeReserve, int.MaxValue)
                : Math.Min(Math.Max(64L << 20, 4 * layout.ExecuteSize), (int.MaxValue - layout.TotalSize) / memory.PageSize * memory.PageSize);
            reserve = ModuleLayout.AlignUp(Math.Max(reserve, memory.PageSize), memory.PageSize);
            if (reserve + memory.PageSize > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(options), options.CodeReserve, "LoadOptions.CodeReserve leaves no room for any module below 2 GiB (rel32 reach)");
            CheckModuleSize(image, layout, reserve);
            reservation = memory.Reserve(layout.TotalSize + reserve);
            memory.Commit(reservation, 0, layout.TotalSize);
            region = reservation;
        }
        else
        {
            region = memory.Allocate(layout.TotalSize);
        }
        long id = Interlocked.Increment(ref s_nextId);
        try
        {
            Span<byte> mem = RegionAccess.AsSpan(new MemoryRegion(region.Address, layout.TotalSize));
            long baseAddress = region.Address;

            // One copy per segment: code, read-only data, writable data. Zero-fill is already zero.
            image.Code.CopyTo(mem);
            image.Data[..(int)layout.ReadOnlyDataSize].CopyTo(mem[(int)layout.ReadOnlyOffset..]);
            image.Data[(int)layout.WritableDataStart..(int)layout.WritableDataEnd]
                .CopyTo(mem[(int)(layout.WritableOffset + layout.WritableDataStart - layout.WritableDataFloor)..]);

            // Addresses of every defined symbol; imports were resolved above. In a hot-swappable module a
            // function's address is its entry thunk, which follows redefinitions; its body address is kept
            // apart for the rare references into the middle of a body.
            nint[]? bodyAddress = hotSwap ? new nint[symbols.Length] : null;
            for (int s = 0; s < symbols.Length; s++)
            {
                ref readonly SymbolRecord sym = ref symbols[s];
                if (sym.Kind == SymbolKind.Function)
                {
                    int f = (int)sym.Definition;
                    nint body = stubOf.TryGetValue(f, out int stub)
                        ? (nint)(baseAddress + layout.StubsOffset + (long)stub * ModuleLayout.StubSize)
                        : (nint)(baseAddress + functions[f].CodeOffset);
                    symbolAddress[s] = hotSwap ? (nint)(baseAddress + layout.EntryThunksOffset + (long)f * ModuleLayout.ThunkSize) : body;
                    if (bodyAddress is not null) bodyAddress[s] = body;
                }
                else if (sym.Kind == SymbolKind.Data)
                    symbolAddress[s] = (nint)(baseAddress + layout.DataObjectOffset(image.DataObjects[(int)sym.Definition]));
            }

            WriteSlotsThunksAndStubs(mem, baseAddress, layout, symbols, symbolAddress, slotOf, thunkOf, stubCount, id);
            if (hotSwap) WriteEntryThunks(mem, layout);

            var linker = new Relocator(image, mem, baseAddress, layout, symbolAddress, slotOf, thunkOf, bodyAddress);
            ReadOnlySpan<RelocationRecord> relocations = image.Relocations; // sliced per owner below, without re-deriving the table
            for (int f = 0; f < functions.Length; f++)
            {
                if (stubOf.ContainsKey(f))
                {
                    // A refused body never runs: it becomes "jmp stub" followed by int3.
                    BlockRefusedBody(mem, functions[f], baseAddress, (nint)(baseAddress + layout.StubsOffset + (long)stubOf[f] * ModuleLayout.StubSize));
                    continue;
                }
                ref readonly FunctionRecord fr = ref functions[f];
                linker.Apply(relocations.Slice((int)fr.FirstRelocation, (int)fr.RelocationCount), (int)fr.FirstRelocation, fr.CodeOffset, (int)fr.Symbol);
            }
            ReadOnlySpan<DataObjectRecord> data = image.DataObjects;
            for (int d = 0; d < data.Length; d++)
                if (data[d].RelocationCount > 0)
                    linker.Apply(image.RelocationsOf(data[d]), (int)data[d].FirstRelocation, layout.DataObjectOffset(data[d]), (int)data[d].Symbol);

            var links = new ModuleLinks(image, baseAddress, layout, symbolAddress, slotOf, thunkOf);
            SwapState? swap = hotSwap ? CreateSwapState(image, links, memory, reservation, layout, refused, bodyAddress!) : null;

            // Only now: code read+execute, read-only data and slots read-only. Writable data (and swap
            // slots) stay read-write, never executable.
            memory.Protect(region, 0, layout.ExecuteSize, PageProtection.ReadExecute);
            memory.Protect(region, layout.ReadOnlyOffset, layout.ReadOnlySize, PageProtection.ReadOnly);
            var module = new LoadedModule(image, ownsImage, memory, region, links, refused, stubs, id, swap)
            {
                _onRefusedCall = options.OnRefusedCall,
                _imports = options.Imports,
            };
            s_live[id] = module;
            return module;
        }
        catch
        {
            memory.Free(region);
            throw;
        }
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
            $"the module needs a {layout.TotalSize}-byte region (code {layout.CodeSize}, data {image.Data.Length}, zero-fill {image.ZeroFillSize}, " +
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nint[] ResolveImports(CacheImage image, IImportResolver? resolver)
    {
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        var addresses = new nint[symbols.Length];
        List<string>? unresolved = null;
        for (int s = 0; s < symbols.Length; s++)
        {
            ref readonly SymbolRecord sym = ref symbols[s];
            if (sym.Kind is not (SymbolKind.ImportFunction or SymbolKind.ImportData)) continue;
            Signature? signature = sym.Kind == SymbolKind.ImportFunction ? image.GetSignature((int)sym.Declaration) : null;
            var request = new ImportRequest(image.SymbolName(s), sym.Kind, signature);
            if (resolver is not null && resolver.TryResolve(request, out nint address) && address != 0)
                addresses[s] = address;
            else
                (unresolved ??= []).Add(signature is null ? $"{Names.Escape(request.Name)} (data)" : $"{Names.Escape(request.Name)}: {signature}");
        }
        if (unresolved is not null)
            throw new AotCacheException(ErrorCode.UnresolvedImports, -1, $"{unresolved.Count} unresolved import{(unresolved.Count == 1 ? "" : "s")}: {Join(unresolved)}");
        return addresses;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteSlotsThunksAndStubs(Span<byte> mem, long baseAddress, ModuleLayout layout, ReadOnlySpan<SymbolRecord> symbols,
        nint[] symbolAddress, int[] slotOf, int[] thunkOf, int stubCount, long moduleId)
    {
        long slotsAt = layout.SlotsOffset;
        BinaryPrimitives.WriteInt64LittleEndian(mem[(int)slotsAt..], RefusedCallTrap.HandlerAddress);
        for (int s = 0; s < symbols.Length; s++)
        {
            if (slotOf[s] >= 0)
                BinaryPrimitives.WriteInt64LittleEndian(mem[(int)(slotsAt + 8L * slotOf[s])..], symbolAddress[s]);
            if (thunkOf[s] >= 0)
            {
                // jmp qword [rip + disp32]: the slot is in the same mapping, so disp32 always reaches.
                long at = layout.ThunksOffset + (long)thunkOf[s] * ModuleLayout.ThunkSize;
                Span<byte> t = mem[(int)at..];
                t[0] = 0xFF; t[1] = 0x25;
                BinaryPrimitives.WriteInt32LittleEndian(t[2..], checked((int)(slotsAt + 8L * slotOf[s] - (at + 6))));
                t[6] = 0xCC; t[7] = 0xCC;
            }
        }
        if (stubCount == 0) return;
        long common = layout.CommonStubOffset;
        for (int i = 0; i < stubCount; i++)
        {
            long at = layout.StubsOffset + (long)i * ModuleLayout.StubSize;
            Span<byte> s = mem.Slice((int)at, ModuleLayout.StubSize);
            s.Fill(0xCC);
            s[0] = 0xBE; BinaryPrimitives.WriteInt32LittleEndian(s[1..], i);                            // mov esi, i
            s[5] = 0xE9; BinaryPrimitives.WriteInt32LittleEndian(s[6..], checked((int)(common - (at + 10)))); // jmp common
        }
        Span<byte> c = mem.Slice((int)common, ModuleLayout.CommonStubSize);
        c.Fill(0xCC);
        int p = 0;
        c[p++] = 0x48; c[p++] = 0x83; c[p++] = 0xEC; c[p++] = 0x08;                // sub rsp, 8 (16-byte alignment at the call)
        c[p++] = 0x48; c[p++] = 0xBF; BinaryPrimitives.WriteInt64LittleEndian(c[p..], moduleId); p += 8; // mov rdi, module id
        c[p++] = 0xFF; c[p++] = 0x15;                                               // call [rip + handler slot]
        BinaryPrimitives.WriteInt32LittleEndian(c[p..], checked((int)(slotsAt - (common + p + 4)))); p += 4;
        c[p++] = 0x48; c[p++] = 0x83; c[p++] = 0xC4; c[p++] = 0x08;                // add rsp, 8
        c[p++] = 0x31; c[p++] = 0xC0;                                               // xor eax, eax
        c[p++] = 0x0F; c[p++] = 0x57; c[p++] = 0xC0;                                // xorps xmm0, xmm0
        c[p] = 0xC3;                                                                // ret
    }

    private static void BlockRefusedBody(Span<byte> mem, in FunctionRecord f, long baseAddress, nint stubAddress)
    {
        Span<byte> body = mem.Slice((int)f.CodeOffset, (int)f.CodeSize);
        body.Fill(0xCC);
        if (body.Length >= 5)
        {
            body[0] = 0xE9;
            BinaryPrimitives.WriteInt32LittleEndian(body[1..], checked((int)(stubAddress - (baseAddress + f.CodeOffset + 5))));
        }
    }
}
