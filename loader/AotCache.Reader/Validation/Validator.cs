using System.Buffers.Binary;
using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.Reader;

/// <summary>
/// Checks a file in the order of FORMAT.md §14 [HDR-5] and reports the first breach with its code, the file
/// offset of the offending field and the requirement. One partial file per step (or table) of §14; field
/// offsets come from the records' own <c>At</c> constants. Every comparison is written so that it cannot
/// overflow (64-bit sums of 32-bit fields, or subtraction from a checked bound), and nothing is allocated on
/// the success path: a forged count can only describe bytes that exist.
/// </summary>
internal ref partial struct Validator(ReadOnlySpan<byte> file, ReadOptions options)
{
    private readonly ReadOnlySpan<byte> _file = file;
    private readonly ReadOptions _options = options;

    /// <summary>Where each known section lies, filled by the directory check (step 7).</summary>
    public SectionTable Sections;

    /// <summary>Size of the zero-fill area: the end of the last zero-filled data object.</summary>
    public int ZeroFillSize;

    /// <summary>Relocations whose expected signature hash differs from their target's declaration [LOAD-5].</summary>
    public int StaleSignatureReferences;

    /// <summary>Absolute64 relocations owned by functions: fields a loader must write in code pages.</summary>
    public int CodeAbsoluteRelocations;

    /// <summary>The canonical layout, computed while checking a prelinked file's fields; null for other files.</summary>
    public CanonicalLayout? Layout;

    /// <param name="checksum">When given, computes the file checksum (§13.1) on another thread while steps 6–19 run
    /// here (FORMAT.md §14 allows it): a wrong checksum is still the breach reported, whatever those steps found,
    /// and nothing they read is used before it is verified.</param>
    public void Run(Func<ulong>? checksum = null)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("AotCache files are read in place and need a little-endian host");
        CheckFixedHeader();
        if (checksum is null)
        {
            CheckFileChecksum();
            RunStructure();
            return;
        }
        Task<ulong> hashing = Task.Run(checksum);
        AotCacheException? breach = null;
        try
        {
            RunStructure();
        }
        catch (AotCacheException e)
        {
            breach = e;
        }
        finally
        {
            hashing.Wait();
        }
        if (hashing.Result != Read64(FormatConstants.FileChecksumOffset)) CheckFileChecksum(); // throws, naming the damage
        if (breach is not null) throw breach;
    }

    /// <summary>Steps 6–19: everything after the file checksum.</summary>
    private void RunStructure()
    {
        ref readonly FileHeader h = ref MemoryMarshal.AsRef<FileHeader>(_file[..FormatConstants.HeaderSize]);
        CheckHeader(in h);
        CheckDirectory(in h);
        if (_options.VerifySectionChecksums) CheckSectionChecksums(in h);
        CheckStrings(in h);
        CheckFingerprint(in h);
        CheckDeclarations();
        CheckSymbols();
        CheckFunctions();
        CheckDataObjects();
        CheckRelocations();
        CheckDependencies();
        CheckSignature();
        CheckUnwind();
    }

    private static AotCacheException Fail(ErrorCode code, long offset, string detail) => new(code, offset, detail);

    /// <summary>The bytes of a known section (empty when it is absent).</summary>
    private readonly ReadOnlySpan<byte> Bytes(SectionKind kind)
    {
        SectionSlot slot = Sections[(int)kind];
        return _file.Slice(slot.Offset, slot.Length);
    }

    /// <summary>File offset of a known section's first byte (0 when it is absent).</summary>
    private readonly long SectionStart(SectionKind kind) => Sections[(int)kind].Offset;

    private readonly ReadOnlySpan<T> Table<T>(SectionKind kind) where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes(kind));

    private readonly ushort Read16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(_file[at..]);
    private readonly uint Read32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(_file[at..]);
    private readonly ulong Read64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(_file[at..]);

    private static bool IsPowerOfTwoUpTo(uint value, uint max) => value != 0 && value <= max && (value & (value - 1)) == 0;

    /// <summary>Name of a section kind for messages; unknown kinds by number.</summary>
    public static string KindName(uint kind) => Enum.IsDefined((SectionKind)kind) ? ((SectionKind)kind).ToString() : $"kind {kind}";
}
