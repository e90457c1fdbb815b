namespace AotCache.Format;

/// <summary>
/// Stable error codes (FORMAT.md §15). Numbers never change meaning; new codes get new numbers.
/// Codes below 200 mean the file breaks the format; 200 and above mean a well-formed file cannot be
/// loaded on this host or with this host's imports.
/// </summary>
public enum ErrorCode
{
    // Header
    /// <summary>The file does not start with the magic number [HDR-1].</summary>
    BadMagic = 1,
    /// <summary>The major version is one this reader does not support [HDR-2].</summary>
    UnsupportedMajorVersion = 2,
    /// <summary>The header size field is not 128 [HDR-3].</summary>
    BadHeaderSize = 3,
    /// <summary>The header's file size differs from the file's length [HDR-4].</summary>
    FileSizeMismatch = 4,
    /// <summary>The file ends before a structure it declares [HDR-4].</summary>
    Truncated = 5,
    /// <summary>A reserved field is not zero [LIM-1].</summary>
    ReservedNotZero = 6,
    /// <summary>A required flag this reader does not know is set [HDR-6].</summary>
    UnknownRequiredFlag = 7,
    /// <summary>The architecture, ABI or OS field has a value the format does not define [HDR-7].</summary>
    UnknownTarget = 8,
    /// <summary>The section directory does not follow the header [HDR-8].</summary>
    BadDirectoryOffset = 9,
    /// <summary>The directory lists more than 64 sections [HDR-9].</summary>
    TooManySections = 10,
    /// <summary>The file is larger than the format allows (2^31 − 1 bytes) [LIM-2].</summary>
    FileTooLarge = 11,

    // Integrity
    /// <summary>The file's XxHash3 checksum does not match its bytes [INT-1].</summary>
    FileChecksumMismatch = 20,
    /// <summary>A section's checksum does not match its bytes [INT-2].</summary>
    SectionChecksumMismatch = 21,

    // Sections
    /// <summary>A section's offset or alignment breaks the alignment rules [SEC-1].</summary>
    BadSectionAlignment = 30,
    /// <summary>A section extends past the end of the file [SEC-2].</summary>
    SectionOutOfBounds = 31,
    /// <summary>Two sections overlap [SEC-3].</summary>
    SectionOverlap = 32,
    /// <summary>A section kind appears twice [SEC-4].</summary>
    DuplicateSection = 33,
    /// <summary>A section of unknown kind is marked required [SEC-5].</summary>
    UnknownRequiredSection = 34,
    /// <summary>A known section's required flag differs from the one the format assigns its kind [SEC-6].</summary>
    SectionFlagMismatch = 35,
    /// <summary>A table section's size is not a whole number of records [SEC-7].</summary>
    BadTableSize = 36,
    /// <summary>Padding between sections is not zero [SEC-8].</summary>
    NonZeroPadding = 37,

    // Strings
    /// <summary>A string is not valid UTF-8 [STR-1].</summary>
    BadUtf8 = 40,
    /// <summary>A string reference points outside the string section [STR-2].</summary>
    BadStringRef = 41,
    /// <summary>A name that must not be empty is empty [STR-3].</summary>
    EmptyName = 42,

    // Signatures and declarations
    /// <summary>A signature encoding is malformed [SIG-1].</summary>
    BadSignature = 50,
    /// <summary>A declaration's signature hash does not match its encoding [SIG-2].</summary>
    SignatureHashMismatch = 51,
    /// <summary>A declaration's signature reference points outside the signatures section [SIG-3].</summary>
    BadSignatureRef = 52,

    // Symbols
    /// <summary>A symbol has an unknown kind, or a linkage its kind does not allow [SYM-1].</summary>
    BadSymbolKind = 60,
    /// <summary>The symbol table is not sorted by name [SYM-2].</summary>
    SymbolsNotSorted = 61,
    /// <summary>Two symbols have the same name [SYM-2].</summary>
    DuplicateSymbolName = 62,
    /// <summary>A symbol's declaration index is out of range or of the wrong kind [SYM-3].</summary>
    BadDeclarationIndex = 63,
    /// <summary>A symbol's definition index is out of range or does not point back at it [SYM-4].</summary>
    BadDefinitionIndex = 64,

    // Functions
    /// <summary>A function's code extends past the code section [FUN-1].</summary>
    FunctionOutOfBounds = 70,
    /// <summary>Two functions overlap in the code section [FUN-2].</summary>
    FunctionOverlap = 71,
    /// <summary>A function's alignment is not a supported power of two, or its code is not placed on it [FUN-3].</summary>
    BadFunctionAlignment = 72,
    /// <summary>A function has no code [FUN-5].</summary>
    EmptyFunction = 73,
    /// <summary>A function or the header requires a CPU feature bit the format does not define [FUN-6].</summary>
    UnknownCpuFeature = 74,
    /// <summary>A function record's symbol is not a defined function that points back at it [FUN-4].</summary>
    BadFunctionSymbol = 75,

    // Data objects
    /// <summary>A data object has an unknown kind, or a zero-filled one has relocations [DAT-1].</summary>
    BadDataKind = 80,
    /// <summary>A data object's bytes extend past their section [DAT-2].</summary>
    DataOutOfBounds = 81,
    /// <summary>Data objects are not read-only, then writable, then zero-filled, each in ascending offset order without overlap [DAT-2].</summary>
    DataOrder = 82,
    /// <summary>A data object's alignment is not a supported power of two, or it is not placed on it [DAT-3].</summary>
    BadDataAlignment = 83,
    /// <summary>A data object's symbol is not a defined data object that points back at it [DAT-4].</summary>
    BadDataSymbol = 84,

    // Relocations
    /// <summary>A relocation has an unknown kind [REL-1].</summary>
    UnknownRelocationKind = 90,
    /// <summary>The owners' relocation ranges do not tile the relocation table in owner order [REL-2].</summary>
    BadRelocationRange = 91,
    /// <summary>A relocation's field extends past its owner [REL-3].</summary>
    RelocationOutOfBounds = 92,
    /// <summary>Two relocation fields of one owner overlap [REL-4].</summary>
    RelocationOverlap = 93,
    /// <summary>A relocation's target symbol index is out of range [REL-5].</summary>
    BadRelocationTarget = 94,
    /// <summary>A relocation kind is applied to a kind of target it does not allow [REL-6].</summary>
    RelocationTargetKindMismatch = 95,
    /// <summary>A relocation's addend is outside the range its kind allows [REL-7].</summary>
    AddendOutOfRange = 96,
    /// <summary>A relocation to a data object records an expected signature hash [REL-8].</summary>
    UnexpectedSignatureHash = 97,
    /// <summary>A file marked prelinked has a PC-relative field that does not hold its canonical value [REL-10].</summary>
    PrelinkMismatch = 98,

    // Fingerprint
    /// <summary>The fingerprint section is malformed [FPR-1].</summary>
    BadFingerprint = 100,
    /// <summary>The header's codegen fingerprint hash does not match the fingerprint section [FPR-2].</summary>
    FingerprintHashMismatch = 101,

    // Dependencies
    /// <summary>A content dependency is malformed [DEP-1].</summary>
    BadDependency = 110,

    // Authentication
    /// <summary>The signature section is not last, not 128 bytes, of an unknown algorithm or not zero-padded [AUTH-1].</summary>
    BadSignatureSection = 120,
    /// <summary>The reader requires a signature and the file has none [AUTH-3].</summary>
    SignatureMissing = 121,
    /// <summary>The signature does not verify with a trusted key [AUTH-2].</summary>
    SignatureInvalid = 122,

    // Unwind information (since 1.3)
    /// <summary>The Unwind section's index or its padding is malformed [UNW-1].</summary>
    BadUnwindSection = 130,
    /// <summary>A record of the CFI area is framed wrongly, or the terminator is missing or misplaced [UNW-2].</summary>
    BadUnwindRecord = 131,
    /// <summary>The CIE is not the one the format fixes, an FDE's CIE pointer leads elsewhere, or an FDE has augmentation data [UNW-3].</summary>
    BadUnwindCie = 132,
    /// <summary>An FDE does not cover exactly its function's code, is out of order, or an index entry has no FDE [UNW-4].</summary>
    UnwindCoverageMismatch = 133,
    /// <summary>A CFA program leaves the subset of call frame instructions the format allows [UNW-5].</summary>
    BadCfaProgram = 134,

    // Load-time (well-formed file, but not for this host)
    /// <summary>The file's architecture, ABI or OS differ from the host's [LOAD-1].</summary>
    TargetMismatch = 200,
    /// <summary>The file's codegen fingerprint does not match the host's values [LOAD-2].</summary>
    FingerprintMismatch = 201,
    /// <summary>The file needs CPU features the host lacks [LOAD-3].</summary>
    MissingCpuFeatures = 202,
    /// <summary>Imports the host does not provide, or provides with another signature [LOAD-4].</summary>
    UnresolvedImports = 203,
    /// <summary>A relocation's value does not fit its field where the loader placed the code [REL-9].</summary>
    RelocationOverflow = 204,
    /// <summary>A caller was compiled against another signature of its callee [LOAD-5].</summary>
    StaleCaller = 205,
    /// <summary>The loader cannot run code on this platform [LOAD-6].</summary>
    UnsupportedPlatform = 206,
}

/// <summary>What each <see cref="ErrorCode"/> means in FORMAT.md.</summary>
public static class ErrorCodes
{
    /// <summary>The requirement ID in FORMAT.md that an error code reports a breach of.</summary>
    public static string Requirement(ErrorCode code) => code switch
    {
        ErrorCode.BadMagic => "HDR-1",
        ErrorCode.UnsupportedMajorVersion => "HDR-2",
        ErrorCode.BadHeaderSize => "HDR-3",
        ErrorCode.FileSizeMismatch or ErrorCode.Truncated => "HDR-4",
        ErrorCode.ReservedNotZero => "LIM-1",
        ErrorCode.UnknownRequiredFlag => "HDR-6",
        ErrorCode.UnknownTarget => "HDR-7",
        ErrorCode.BadDirectoryOffset => "HDR-8",
        ErrorCode.TooManySections => "HDR-9",
        ErrorCode.FileTooLarge => "LIM-2",
        ErrorCode.FileChecksumMismatch => "INT-1",
        ErrorCode.SectionChecksumMismatch => "INT-2",
        ErrorCode.BadSectionAlignment => "SEC-1",
        ErrorCode.SectionOutOfBounds => "SEC-2",
        ErrorCode.SectionOverlap => "SEC-3",
        ErrorCode.DuplicateSection => "SEC-4",
        ErrorCode.UnknownRequiredSection => "SEC-5",
        ErrorCode.SectionFlagMismatch => "SEC-6",
        ErrorCode.BadTableSize => "SEC-7",
        ErrorCode.NonZeroPadding => "SEC-8",
        ErrorCode.BadUtf8 => "STR-1",
        ErrorCode.BadStringRef => "STR-2",
        ErrorCode.EmptyName => "STR-3",
        ErrorCode.BadSignature => "SIG-1",
        ErrorCode.SignatureHashMismatch => "SIG-2",
        ErrorCode.BadSignatureRef => "SIG-3",
        ErrorCode.BadSymbolKind => "SYM-1",
        ErrorCode.SymbolsNotSorted or ErrorCode.DuplicateSymbolName => "SYM-2",
        ErrorCode.BadDeclarationIndex => "SYM-3",
        ErrorCode.BadDefinitionIndex => "SYM-4",
        ErrorCode.FunctionOutOfBounds => "FUN-1",
        ErrorCode.FunctionOverlap => "FUN-2",
        ErrorCode.BadFunctionAlignment => "FUN-3",
        ErrorCode.BadFunctionSymbol => "FUN-4",
        ErrorCode.EmptyFunction => "FUN-5",
        ErrorCode.UnknownCpuFeature => "FUN-6",
        ErrorCode.BadDataKind => "DAT-1",
        ErrorCode.DataOutOfBounds or ErrorCode.DataOrder => "DAT-2",
        ErrorCode.BadDataAlignment => "DAT-3",
        ErrorCode.BadDataSymbol => "DAT-4",
        ErrorCode.UnknownRelocationKind => "REL-1",
        ErrorCode.BadRelocationRange => "REL-2",
        ErrorCode.RelocationOutOfBounds => "REL-3",
        ErrorCode.RelocationOverlap => "REL-4",
        ErrorCode.BadRelocationTarget => "REL-5",
        ErrorCode.RelocationTargetKindMismatch => "REL-6",
        ErrorCode.AddendOutOfRange => "REL-7",
        ErrorCode.UnexpectedSignatureHash => "REL-8",
        ErrorCode.PrelinkMismatch => "REL-10",
        ErrorCode.BadFingerprint => "FPR-1",
        ErrorCode.FingerprintHashMismatch => "FPR-2",
        ErrorCode.BadDependency => "DEP-1",
        ErrorCode.BadSignatureSection => "AUTH-1",
        ErrorCode.SignatureInvalid => "AUTH-2",
        ErrorCode.SignatureMissing => "AUTH-3",
        ErrorCode.BadUnwindSection => "UNW-1",
        ErrorCode.BadUnwindRecord => "UNW-2",
        ErrorCode.BadUnwindCie => "UNW-3",
        ErrorCode.UnwindCoverageMismatch => "UNW-4",
        ErrorCode.BadCfaProgram => "UNW-5",
        ErrorCode.TargetMismatch => "LOAD-1",
        ErrorCode.FingerprintMismatch => "LOAD-2",
        ErrorCode.MissingCpuFeatures => "LOAD-3",
        ErrorCode.UnresolvedImports => "LOAD-4",
        ErrorCode.RelocationOverflow => "REL-9",
        ErrorCode.StaleCaller => "LOAD-5",
        ErrorCode.UnsupportedPlatform => "LOAD-6",
        _ => "?",
    };
}
