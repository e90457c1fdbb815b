namespace AotCache.Format;

/// <summary>Fixed numbers of format version 1 (see FORMAT.md §2 and §12).</summary>
public static class FormatConstants
{
    /// <summary>
    /// The 8 magic bytes <c>89 41 4F 54 0D 0A 1A 0A</c>. As in PNG: the high-bit first byte catches 7-bit
    /// transports, CR LF and the lone LF catch line-ending conversion in either direction, 1A stops DOS
    /// <c>type</c>. "AOT" names the format.
    /// </summary>
    public static ReadOnlySpan<byte> Magic => [0x89, 0x41, 0x4F, 0x54, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The major version this library reads and writes. A different major is refused [HDR-2].</summary>
    public const ushort MajorVersion = 1;

    /// <summary>The newest minor version this library writes: 1.1 added the optional signature section, 1.2 the
    /// optional prelinked flag, 1.3 the optional unwind section. A writer writes the lowest minor whose features a file uses. Readers accept any
    /// minor of their major [HDR-2].</summary>
    public const ushort MinorVersion = 3;

    /// <summary>Size of the file header in bytes [HDR-3].</summary>
    public const int HeaderSize = 128;

    /// <summary>Offset of the section directory: right after the header [HDR-8].</summary>
    public const int DirectoryOffset = HeaderSize;

    /// <summary>Byte offset of the file checksum field inside the header [INT-1].</summary>
    public const int FileChecksumOffset = 24;

    /// <summary>Largest file, so that every offset fits a signed 32-bit integer and all code of a
    /// module stays within rel32 reach [LIM-2].</summary>
    public const long MaxFileSize = int.MaxValue;

    /// <summary>Most sections one file may list [HDR-9].</summary>
    public const int MaxSectionCount = 64;

    /// <summary>Smallest alignment of a section in the file [SEC-1]: every table can be viewed in place.</summary>
    public const int MinSectionAlignment = 8;

    /// <summary>Largest alignment of a section, function or data object: one page [SEC-1] [FUN-3] [DAT-3].</summary>
    public const int MaxAlignment = 4096;

    /// <summary>Value of an index field that refers to nothing.</summary>
    public const uint NoIndex = uint.MaxValue;

    /// <summary>Seed of every XxHash3 in the format: 0.</summary>
    public const long HashSeed = 0;

    /// <summary>Byte the writer uses to pad between functions in the code section: <c>int3</c>.</summary>
    public const byte CodePadding = 0xCC;
}
