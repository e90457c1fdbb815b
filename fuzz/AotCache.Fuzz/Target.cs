using System.Buffers.Binary;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.Fuzz;

/// <summary>
/// The code under fuzzing, shared by the AFL++ harness and the in-process run: read and fully validate
/// one candidate cache file; if it is accepted, walk it as tools do and link it twice (direct and
/// hot-swappable) into <see cref="ManagedMemory"/>, which is never executable, with every import resolved
/// to a dummy address. Nothing is ever called. The only allowed outcome for bad input is
/// <see cref="AotCacheException"/>; anything else escaping is a finding.
/// </summary>
public static class Target
{
    /// <summary>Module memory one input may ask for (the real loader would map it; the harness does not lend more).</summary>
    public const long MemoryBudget = 32L << 20;

    public static void Run(ReadOnlyMemory<byte> input)
    {
        try
        {
            CacheImage image;
            ReadOnlyMemory<byte> bytes = input;
            try
            {
                image = CacheImage.Read(input, ReadOptions.Full);
            }
            catch (AotCacheException e) when (e.Code is ErrorCode.FileChecksumMismatch or ErrorCode.SectionChecksumMismatch)
            {
                // Almost every mutation breaks a checksum; read the same bytes again with the checksums
                // recomputed, so that the fuzzer reaches the structural checks and the linker behind them.
                byte[] fixedUp = input.ToArray();
                if (!FixChecksums(fixedUp)) throw;
                image = CacheImage.Read(fixedUp, ReadOptions.Full);
                bytes = fixedUp;
            }
            using (image)
            {
                Walk(image);
                AsRemoteEntry(bytes, image);
                Link(image, LinkMode.Direct, StalePolicy.Strict);
                // A host with only the file-level CPU features: functions that need more are refused [LOAD-3], and so
                // is whatever jumps into their bodies [LOAD-7].
                Link(image, LinkMode.HotSwappable, StalePolicy.Lenient, image.RequiredCpuFeatures);
            }
        }
        catch (AotCacheException)
        {
            // The one allowed outcome for bad input (and for a well-formed file this host cannot use).
        }
        catch (HarnessLimitException)
        {
            // The input asked for more memory than the harness lends; not a finding.
        }
    }

    /// <summary>Accepted inputs are walked the way tools walk them.</summary>
    private static void Walk(CacheImage image)
    {
        _ = image.ModuleName;
        _ = image.Producer;
        for (int i = 0; i < image.Symbols.Length; i++) _ = image.SymbolName(i);
        for (int i = 0; i < image.Declarations.Length; i++) _ = image.GetSignature(i);
        foreach (FunctionRecord f in image.Functions) { _ = image.FunctionCode(f); _ = image.RelocationsOf(f); }
        foreach (DataObjectRecord d in image.DataObjects) { _ = image.DataBytes(d); _ = image.RelocationsOf(d); }
    }

    /// <summary>
    /// The same bytes as a team-cache entry (spec/REMOTE.md §4): under the key of its first exported function, read
    /// against the file's own symbols. A refusal is an answer; an exception is a finding. An accepted entry must
    /// survive the round trip: written again from the body it gave, it must read back to the same body.
    /// </summary>
    private static void AsRemoteEntry(ReadOnlyMemory<byte> bytes, CacheImage image)
    {
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        int symbol = -1;
        for (int s = 0; s < symbols.Length && symbol < 0; s++)
            if (symbols[s].Linkage == Linkage.Export && symbols[s].Kind == SymbolKind.Function) symbol = s;
        if (symbol < 0 || !Enum.IsDefined(image.Architecture) || !Enum.IsDefined(image.Abi) || !Enum.IsDefined(image.Os)) return;
        FunctionRecord function = image.Functions[(int)symbols[symbol].Definition];
        if (function.ContentHash.IsNone) return; // no content hash, no key [RMT-17]
        var format = new RemoteEntryFormat(new TargetDescription(image.Architecture, image.Abi, image.Os), RemoteFingerprint.Of(image));
        RemoteKey key = format.KeyOf(function.ContentHash, function.RequiredCpuFeatures);
        string name = image.SymbolName(symbol);
        if (!format.TryRead(bytes, key, name, image, out FunctionBody? body, out _)) return;
        byte[] again = format.Write(name, body, image);
        if (!format.TryRead(again, key, name, image, out FunctionBody? back, out EntryRefusal? refusal))
            throw new InvalidOperationException($"an accepted entry, written again from its body, is refused: {refusal}");
        if (!back.Equals(body))
            throw new InvalidOperationException("an accepted entry, written again from its body, reads back to another body");
    }

    /// <summary>
    /// Layout, import resolution, stale analysis and relocation, as <see cref="LoadedModule.Load"/> does them,
    /// into memory that is never made executable. The host matches the file (target, CPU features, fingerprint)
    /// so that linking is reached; every region is freed again.
    /// </summary>
    /// <param name="cpuFeatures">The host's CPU features; null: every feature.</param>
    /// <returns>The size of the module's region.</returns>
    public static long Link(CacheImage image, LinkMode mode, StalePolicy stale, CpuFeatures? cpuFeatures = null)
    {
        var memory = new ManagedMemory(MemoryBudget);
        var imports = new DummyImports(memory);
        var options = new LoadOptions
        {
            Host = HostFor(image) with { CpuFeatures = cpuFeatures ?? CpuFeatures.AllKnown },
            Imports = imports,
            Memory = memory,
            LinkMode = mode,
            StalePolicy = stale,
            AddCapacity = 4,
            CodeReserve = memory.PageSize,
        };
        long size;
        using (LoadedModule module = LoadedModule.Load(image, options))
        {
            for (int s = 0; s < image.Symbols.Length; s++) _ = module.GetSymbolAddress(image.SymbolName(s));
            _ = module.Segments;
            CheckNoJumpIntoRefusedBody(image, module);
            size = module.Region.Size;
        }
        imports.Dispose();
        if (memory.LiveRegions != 0)
            throw new InvalidOperationException($"unloading left {memory.LiveRegions} region(s) mapped");
        return size;
    }

    /// <summary>
    /// An oracle for [LOAD-7]: a refused function's body is a jump to its refusal stub, so no function that runs may
    /// jump into the middle of it. A loader that links one there (into the stubs' bytes) is a finding.
    /// </summary>
    private static void CheckNoJumpIntoRefusedBody(CacheImage image, LoadedModule module)
    {
        if (module.RefusedFunctions.Count == 0) return;
        var refused = module.RefusedFunctions.Select(r => image.FindFunction(r.Name)).ToHashSet();
        ReadOnlySpan<FunctionRecord> functions = image.Functions;
        ReadOnlySpan<SymbolRecord> symbols = image.Symbols;
        for (int f = 0; f < functions.Length; f++)
        {
            if (refused.Contains(f)) continue;
            foreach (RelocationRecord r in image.RelocationsOf(functions[f]))
                if (symbols[(int)r.Target].Kind == SymbolKind.Function && RelocationRules.IsBodyBound(r.Kind, r.Addend)
                    && refused.Contains((int)symbols[(int)r.Target].Definition))
                    throw new InvalidOperationException(
                        $"function {f} runs but jumps into the middle of refused function {symbols[(int)r.Target].Definition} [LOAD-7]");
        }
    }

    /// <summary>A host that accepts the file: its target, every CPU feature, and the file's own fingerprint values.</summary>
    private static HostEnvironment HostFor(CacheImage image)
    {
        var fingerprint = new Dictionary<string, FingerprintValue>();
        foreach (FingerprintComponent c in image.Fingerprint)
        {
            string key = image.GetString(c.Key);
            fingerprint[key] = c.ValueKind switch
            {
                FingerprintValueKind.String => FingerprintValue.String(image.GetString(new StringRef((uint)c.Value, (uint)(c.Value >> 32)))),
                FingerprintValueKind.FeatureSet => FingerprintValue.Features(c.Value),
                _ => FingerprintValue.Integer(c.Value),
            };
        }
        return new HostEnvironment
        {
            Architecture = image.Architecture,
            Abi = image.Abi,
            Os = image.Os,
            CpuFeatures = CpuFeatures.AllKnown,
            Fingerprint = fingerprint,
        };
    }

    /// <summary>
    /// Recomputes the section checksums, then the file checksum, in place (spec/vectors/README.md, "@fixup
    /// checksums"); false when there is no header or the directory is unreadable, and nothing is changed.
    /// </summary>
    public static bool FixChecksums(Span<byte> b)
    {
        if (b.Length < FormatConstants.HeaderSize) return false;
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(b[80..]);
        if (count > FormatConstants.MaxSectionCount || FormatConstants.DirectoryOffset + (long)count * SectionEntry.RecordSize > b.Length)
            return false;
        for (int i = 0; i < count; i++)
        {
            int at = FormatConstants.DirectoryOffset + i * SectionEntry.RecordSize;
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(b[(at + 8)..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(b[(at + 16)..]);
            if (offset > (ulong)b.Length || size > (ulong)b.Length - offset) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(b[(at + 32)..], Checksums.SectionChecksum(b.Slice((int)offset, (int)size)));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(b[FormatConstants.FileChecksumOffset..], Checksums.FileChecksum(b));
        return true;
    }
}
