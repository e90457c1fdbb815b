using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using AotCache.Format;
using AotCache.Reader.Memory;
using Architecture = AotCache.Format.Architecture;

namespace AotCache.Reader;

/// <summary>
/// A validated AotCache file, viewed in place. <see cref="Read(ReadOnlyMemory{byte}, ReadOptions?)"/>
/// checks every offset, size, count, index and checksum once; afterwards the tables are spans over
/// the file's own bytes: no record is parsed, copied or allocated.
/// </summary>
public sealed partial class CacheImage : IDisposable
{
    private readonly ReadOnlyMemory<byte> _file;
    private readonly SectionTable _sections;
    private readonly IDisposable? _owner;
    private readonly int _zeroFillSize;
    private readonly int _staleSignatureReferences;
    private CanonicalLayout? _layout;
    private readonly int _codeAbsoluteRelocations;

    private CacheImage(ReadOnlyMemory<byte> file, in Validator validator, IDisposable? owner, SignaturePolicy? verifiedPolicy)
    {
        _verifiedPolicy = verifiedPolicy;
        _file = file;
        _sections = validator.Sections;
        _zeroFillSize = validator.ZeroFillSize;
        _staleSignatureReferences = validator.StaleSignatureReferences;
        _layout = validator.Layout;
        _codeAbsoluteRelocations = validator.CodeAbsoluteRelocations;
        _owner = owner;
    }

    /// <summary>Validates <paramref name="file"/> and views it in place. The memory must stay unchanged
    /// for the image's life. Throws <see cref="AotCacheException"/> on any malformed input.</summary>
    public static CacheImage Read(ReadOnlyMemory<byte> file, ReadOptions? options = null)
    {
        options ??= ReadOptions.Default;
        var validator = new Validator(file.Span, options);
        validator.Run(ConcurrentChecksum(file));
        return new CacheImage(file, validator, owner: null, options.Signatures);
    }

    /// <summary>Files from this size up have their checksum computed on another core while the structure is checked:
    /// below it, starting a thread costs more than the overlap saves.</summary>
    private const int ConcurrentChecksumThreshold = 1 << 20;

    private static Func<ulong>? ConcurrentChecksum(ReadOnlyMemory<byte> file) =>
        file.Length >= ConcurrentChecksumThreshold && Environment.ProcessorCount > 1 ? () => Checksums.FileChecksum(file.Span) : null;

    /// <summary>Like <see cref="Read(ReadOnlyMemory{byte}, ReadOptions?)"/>, but a malformed file is a
    /// normal outcome (a cache miss) rather than an exception.</summary>
    public static bool TryRead(ReadOnlyMemory<byte> file, out CacheImage? image, out AotCacheException? error, ReadOptions? options = null)
    {
        try
        {
            image = Read(file, options);
            error = null;
            return true;
        }
        catch (AotCacheException e)
        {
            image = null;
            error = e;
            return false;
        }
    }

    /// <summary>Maps the file at <paramref name="path"/> read-only and validates it in place. The image
    /// owns the mapping; dispose it to unmap. I/O failures are <see cref="IOException"/>s (the file system
    /// is not input); malformed contents are <see cref="AotCacheException"/>s.</summary>
    public static CacheImage OpenFile(string path, ReadOptions? options = null)
    {
        options ??= ReadOptions.Default;
        MappedFile mapped = MappedFile.OpenRead(path, options.MapFiles);
        try
        {
            var validator = new Validator(mapped.Memory.Span, options);
            validator.Run(ConcurrentChecksum(mapped.Memory));
            return new CacheImage(mapped.Memory, validator, mapped, options.Signatures);
        }
        catch
        {
            mapped.Dispose();
            throw;
        }
    }

    /// <summary>The signature policy the image was read with (null: none), so that checking it again is skipped.</summary>
    private readonly SignaturePolicy? _verifiedPolicy;

    /// <summary>
    /// Checks the image's signature against <paramref name="policy"/> as reading with that policy would have
    /// (FORMAT.md §13.3, step 18 of §14): a file signed by an untrusted key or changed after signing is refused
    /// [AUTH-2], an unsigned file too when the policy requires a signature [AUTH-3]. For an image read without the
    /// policy, e.g. by <see cref="Read(ReadOnlyMemory{byte}, ReadOptions?)"/> with default options; an image read with
    /// an equal policy is not checked twice. Throws <see cref="AotCacheException"/>.
    /// </summary>
    public void CheckSignature(SignaturePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Equals(_verifiedPolicy)) return;
        var validator = new Validator(File, new ReadOptions { Signatures = policy }) { Sections = _sections };
        validator.CheckSignatureStep();
    }

    /// <summary>Name of a section kind for messages; unknown kinds by number.</summary>
    public static string KindName(uint kind) => Validator.KindName(kind);

    /// <summary>
    /// The open file behind this image when its bytes are a mapping of a file no other user can change (see
    /// <see cref="ReadOptions.MapFiles"/>), for a loader that maps the code pages again; false for images read from
    /// memory or copied from a file.
    /// </summary>
    internal bool TryGetMappedFile([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Microsoft.Win32.SafeHandles.SafeFileHandle? handle)
    {
        handle = (_owner as MappedFile)?.Handle;
        return handle is not null;
    }

    /// <summary>Releases the file mapping, when the image owns one.</summary>
    public void Dispose() => _owner?.Dispose();

    /// <summary>The whole file.</summary>
    public ReadOnlySpan<byte> File => _file.Span;

    /// <summary>The whole file's bytes.</summary>
    public ReadOnlyMemory<byte> FileMemory => _file;

    /// <summary>The file header (FORMAT.md §3), viewed in place.</summary>
    public ref readonly FileHeader Header => ref MemoryMarshal.AsRef<FileHeader>(File[..FormatConstants.HeaderSize]);

    /// <summary>The section directory as written, including sections this reader does not know.</summary>
    public ReadOnlySpan<SectionEntry> Directory =>
        MemoryMarshal.Cast<byte, SectionEntry>(File.Slice(FormatConstants.DirectoryOffset, (int)Header.SectionCount * SectionEntry.RecordSize));

    /// <summary>The architecture the code is for [HDR-7].</summary>
    public Architecture Architecture => (Architecture)Header.Architecture;
    /// <summary>The ABI the code follows [HDR-7].</summary>
    public Abi Abi => (Abi)Header.Abi;
    /// <summary>The operating system the code is for [HDR-7].</summary>
    public TargetOs Os => (TargetOs)Header.Os;
    /// <summary>CPU features every function of the file needs [FUN-6].</summary>
    public CpuFeatures RequiredCpuFeatures => (CpuFeatures)Header.RequiredCpuFeatures;
    /// <summary>Name and version of the program that wrote the file.</summary>
    public string Producer => GetString(Header.Producer);
    /// <summary>The module's name.</summary>
    public string ModuleName => GetString(Header.ModuleName);

    /// <summary>Size of the zero-fill area: the end of the last zero-filled data object.</summary>
    public int ZeroFillSize => _zeroFillSize;

    /// <summary>How many Absolute64 relocations lie in code (counted during validation): fields whose value depends
    /// on where the module lands, so a loader must write those code pages.</summary>
    public int CodeAbsoluteRelocations => _codeAbsoluteRelocations;

    /// <summary>True when the file says its code is prelinked for the canonical layout (checked by validation [REL-10]).</summary>
    public bool IsPrelinked => (Header.OptionalFlags & (uint)OptionalFlags.Prelinked) != 0;

    /// <summary>Where this module's parts go in the canonical layout (FORMAT.md §16.2).</summary>
    public CanonicalLayout CanonicalLayout => _layout ??= CanonicalLayout.Compute(Code.Length, Symbols, DataObjects, ZeroFillSize, Relocations);

    /// <summary>How many relocations carry an expected signature hash that differs from their target's
    /// declaration (each makes its owner stale [LOAD-5]); counted during validation.</summary>
    public int StaleSignatureReferences => _staleSignatureReferences;

    /// <summary>The strings section's bytes (FORMAT.md §7).</summary>
    public ReadOnlySpan<byte> Strings => Section(SectionKind.Strings);
    /// <summary>The signatures section's bytes: canonical signature encodings (FORMAT.md §6).</summary>
    public ReadOnlySpan<byte> SignatureBytes => Section(SectionKind.Signatures);
    /// <summary>The declaration table, viewed in place.</summary>
    public ReadOnlySpan<DeclarationRecord> Declarations => Table<DeclarationRecord>(SectionKind.Declarations);
    /// <summary>The symbol table, sorted by name, viewed in place.</summary>
    public ReadOnlySpan<SymbolRecord> Symbols => Table<SymbolRecord>(SectionKind.Symbols);
    /// <summary>The function table, viewed in place.</summary>
    public ReadOnlySpan<FunctionRecord> Functions => Table<FunctionRecord>(SectionKind.Functions);
    /// <summary>The data object table, viewed in place.</summary>
    public ReadOnlySpan<DataObjectRecord> DataObjects => Table<DataObjectRecord>(SectionKind.DataObjects);
    /// <summary>The relocation table, viewed in place.</summary>
    public ReadOnlySpan<RelocationRecord> Relocations => Table<RelocationRecord>(SectionKind.Relocations);
    /// <summary>The fingerprint components, viewed in place (empty without a fingerprint section).</summary>
    public ReadOnlySpan<FingerprintComponent> Fingerprint => Table<FingerprintComponent>(SectionKind.Fingerprint);
    /// <summary>The content dependency table, viewed in place (empty without one).</summary>
    public ReadOnlySpan<DependencyRecord> Dependencies => Table<DependencyRecord>(SectionKind.Dependencies);
    /// <summary>The code section's bytes.</summary>
    public ReadOnlySpan<byte> Code => Section(SectionKind.Code);
    /// <summary>The data section's bytes (read-only and writable objects).</summary>
    public ReadOnlySpan<byte> Data => Section(SectionKind.Data);

    /// <summary>File offset of a known section (0 when it is absent), for diagnostics.</summary>
    public int SectionOffset(SectionKind kind) => _sections[(int)kind].Offset;

    /// <summary>Whether the file has a section of <paramref name="kind"/>.</summary>
    public bool HasSection(SectionKind kind) => _sections[(int)kind].Present;

    /// <summary>The bytes of the first section of <paramref name="kind"/>, known or not (e.g. a producer-private
    /// section, FORMAT.md §4), or false. Every section was bounds- and checksum-checked with the file.</summary>
    public bool TryGetSection(uint kind, out ReadOnlySpan<byte> bytes)
    {
        bool found = TryGetSectionMemory(kind, out ReadOnlyMemory<byte> memory);
        bytes = memory.Span;
        return found;
    }

    /// <summary>Like <see cref="TryGetSection"/>, as memory that can be kept while the image is open.</summary>
    public bool TryGetSectionMemory(uint kind, out ReadOnlyMemory<byte> bytes)
    {
        foreach (SectionEntry entry in Directory)
            if (entry.Kind == kind)
            {
                bytes = _file.Slice((int)entry.Offset, (int)entry.Size);
                return true;
            }
        bytes = default;
        return false;
    }

    private ReadOnlySpan<byte> Section(SectionKind kind)
    {
        SectionSlot s = _sections[(int)kind];
        return File.Slice(s.Offset, s.Length);
    }

    private ReadOnlySpan<T> Table<T>(SectionKind kind) where T : unmanaged => MemoryMarshal.Cast<byte, T>(Section(kind));

    /// <summary>The UTF-8 bytes of a string; the reference was validated with the file.</summary>
    public ReadOnlySpan<byte> GetUtf8(StringRef s) => Strings.Slice((int)s.Offset, (int)s.Length);

    /// <summary>A string, decoded. Allocates: for tools and diagnostics, not for loading.</summary>
    public string GetString(StringRef s) => Encoding.UTF8.GetString(GetUtf8(s));


    /// <summary>The canonical signature encoding of a declaration.</summary>
    public ReadOnlySpan<byte> GetSignatureEncoding(int declaration)
    {
        DeclarationRecord d = Declarations[declaration];
        return SignatureBytes.Slice((int)d.SignatureOffset, (int)d.SignatureLength);
    }


    /// <summary>The code bytes of a function.</summary>
    public ReadOnlySpan<byte> FunctionCode(in FunctionRecord f) => Code.Slice((int)f.CodeOffset, (int)f.CodeSize);

    /// <summary>The relocations of a function, in offset order.</summary>
    public ReadOnlySpan<RelocationRecord> RelocationsOf(in FunctionRecord f) => Relocations.Slice((int)f.FirstRelocation, (int)f.RelocationCount);

    /// <summary>The relocations of a data object, in offset order.</summary>
    public ReadOnlySpan<RelocationRecord> RelocationsOf(in DataObjectRecord d) => Relocations.Slice((int)d.FirstRelocation, (int)d.RelocationCount);

    /// <summary>The initial bytes of a read-only or writable data object; empty for zero-filled ones.</summary>
    public ReadOnlySpan<byte> DataBytes(in DataObjectRecord d) =>
        d.Kind == DataKind.ZeroFilled ? default : Data.Slice((int)d.Offset, (int)d.Size);

    /// <summary>Finds a symbol by its UTF-8 name: a binary search over the sorted table [SYM-2], no hashing, no allocation.</summary>
    public int FindSymbol(ReadOnlySpan<byte> utf8Name)
    {
        ReadOnlySpan<SymbolRecord> symbols = Symbols;
        int lo = 0, hi = symbols.Length - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            int c = GetUtf8(symbols[mid].Name).SequenceCompareTo(utf8Name);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>Finds a symbol by name; −1 when there is none.</summary>
    public int FindSymbol(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        byte[]? rented = max > 256 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> buffer = rented ?? stackalloc byte[256];
        try
        {
            int n = Encoding.UTF8.GetBytes(name, buffer);
            return FindSymbol(buffer[..n]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
