namespace AotCache.Format;

/// <summary>
/// Stable error codes (FORMAT.md §15). Numbers never change meaning; new codes get new numbers.
/// Codes below 200 mean the file breaks the format; 200 and above mean a well-formed file cannot be
/// loaded on this host or with this host's imports.
/// </summary>
public enum ErrorCode
{
    // Header
    BadMagic = 1,
    UnsupportedMajorVersion = 2,
    BadHeaderSize = 3,
    FileSizeMismatch = 4,
    Truncated = 5,
    ReservedNotZero = 6,
    UnknownRequiredFlag = 7,
    UnknownTarget = 8,
    BadDirectoryOffset = 9,
    TooManySections = 10,
    FileTooLarge = 11,

    // Integrity
    FileChecksumMismatch = 20,
    SectionChecksumMismatch = 21,

    // Sections
    BadSectionAlignment = 30,
    SectionOutOfBounds = 31,
    SectionOverlap = 32,
    DuplicateSection = 33,
    UnknownRequiredSection = 34,
    SectionFlagMismatch = 35,
    BadTableSize = 36,
    NonZeroPadding = 37,

    // Strings
    BadUtf8 = 40,
    BadStringRef = 41,
    EmptyName = 42,

    // Signatures and declarations
    BadSignature = 50,
    SignatureHashMismatch = 51,
    BadSignatureRef = 52,

    // Symbols
    BadSymbolKind = 60,
    SymbolsNotSorted = 61,
    DuplicateSymbolName = 62,
    BadDeclarationIndex = 63,
    BadDefinitionIndex = 64,

    // Functions
    FunctionOutOfBounds = 70,
    FunctionOverlap = 71,
    BadFunctionAlignment = 72,
    EmptyFunction = 73,
    UnknownCpuFeature = 74,
    BadFunctionSymbol = 75,

    // Data objects
    BadDataKind = 80,
    DataOutOfBounds = 81,
    DataOrder = 82,
    BadDataAlignment = 83,
    BadDataSymbol = 84,

    // Relocations
    UnknownRelocationKind = 90,
    BadRelocationRange = 91,
    RelocationOutOfBounds = 92,
    RelocationOverlap = 93,
    BadRelocationTarget = 94,
    RelocationTargetKindMismatch = 95,
    AddendOutOfRange = 96,
    UnexpectedSignatureHash = 97,
    PrelinkMismatch = 98,

    // Fingerprint
    BadFingerprint = 100,
    FingerprintHashMismatch = 101,

    // Dependencies
    BadDependency = 110,

    // Authentication
    BadSignatureSection = 120,
    SignatureMissing = 121,
    SignatureInvalid = 122,

    // Unwind information (since 1.3)
    BadUnwindSection = 130,
    BadUnwindRecord = 131,
    BadUnwindCie = 132,
    UnwindCoverageMismatch = 133,
    BadCfaProgram = 134,

    // Load-time (well-formed file, but not for this host)
    TargetMismatch = 200,
    FingerprintMismatch = 201,
    MissingCpuFeatures = 202,
    UnresolvedImports = 203,
    RelocationOverflow = 204,
    StaleCaller = 205,
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
