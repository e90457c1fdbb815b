namespace AotCache.Format;

/// <summary>Instruction set of the code in a file (header offset 32).</summary>
public enum Architecture : ushort
{
    /// <summary>AMD64 / Intel 64.</summary>
    X86_64 = 1,
}

/// <summary>Calling convention and ABI that the code follows (header offset 34).</summary>
public enum Abi : ushort
{
    /// <summary>System V AMD64 ABI (Linux, BSDs, macOS).</summary>
    SysVAmd64 = 1,
    /// <summary>Microsoft x64 calling convention.</summary>
    Win64 = 2,
}

/// <summary>Operating system the code was compiled for (header offset 36).</summary>
public enum TargetOs : ushort
{
    /// <summary>Linux.</summary>
    Linux = 1,
    /// <summary>Windows.</summary>
    Windows = 2,
    /// <summary>macOS.</summary>
    MacOS = 3,
}

/// <summary>Header flags a reader must understand; an unknown set bit makes the file unreadable [HDR-6].</summary>
[Flags]
public enum RequiredFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
}

/// <summary>Header flags a reader may ignore when it does not know them.</summary>
[Flags]
public enum OptionalFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>The producer prefers calls between functions routed through swap slots (hot-swappable linking).</summary>
    PreferHotSwap = 1,
    /// <summary>Since 1.2. Every PC-relative field of every function holds the value the canonical layout gives it
    /// (FORMAT.md §16.2) [REL-10]: a loader placing the module that way need not write its code pages.</summary>
    Prelinked = 2,
}

/// <summary>Kind of a section (directory entry offset 0).</summary>
public enum SectionKind : uint
{
    /// <summary>UTF-8 bytes that <see cref="StringRef"/> fields point into.</summary>
    Strings = 1,
    /// <summary>Canonical signature encodings that declarations point into.</summary>
    Signatures = 2,
    /// <summary>Table of <see cref="DeclarationRecord"/>.</summary>
    Declarations = 3,
    /// <summary>Table of <see cref="SymbolRecord"/>, sorted by name.</summary>
    Symbols = 4,
    /// <summary>Table of <see cref="FunctionRecord"/>, sorted by code offset.</summary>
    Functions = 5,
    /// <summary>Table of <see cref="DataObjectRecord"/>.</summary>
    DataObjects = 6,
    /// <summary>Table of <see cref="RelocationRecord"/>.</summary>
    Relocations = 7,
    /// <summary>The machine code of every function, contiguous.</summary>
    Code = 8,
    /// <summary>Initial bytes of read-only and writable data objects.</summary>
    Data = 9,
    /// <summary>Table of <see cref="FingerprintComponent"/>, sorted by key.</summary>
    Fingerprint = 10,
    /// <summary>Table of <see cref="DependencyRecord"/>, sorted by (function, target).</summary>
    Dependencies = 11,
    /// <summary>Since 1.1. One <see cref="SignatureRecord"/>: an HMAC or ECDSA signature over the file. Optional
    /// (a 1.0 reader skips it), and the last section of the file [AUTH-1].</summary>
    Signature = 12,
    /// <summary>Since 1.3. Unwind information: a per-function index and DWARF call frame information in
    /// <c>.eh_frame</c> form (FORMAT.md §19, [UNW-1] to [UNW-5]). Optional: a reader of 1.0 to 1.2 skips it.</summary>
    Unwind = 13,
}

/// <summary>Algorithm of a <see cref="SignatureRecord"/>.</summary>
public enum SignatureAlgorithm : ushort
{
    /// <summary>HMAC-SHA256 with a shared key; 32 signature bytes.</summary>
    HmacSha256 = 1,
    /// <summary>ECDSA over NIST P-256 with SHA-256; 64 signature bytes (r ‖ s, big-endian, IEEE P1363).</summary>
    EcdsaP256Sha256 = 2,
}

/// <summary>Flags of a section (directory entry offset 4).</summary>
[Flags]
public enum SectionFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>A reader that does not know the section's kind must refuse the file [SEC-5].</summary>
    Required = 1,
}

/// <summary>Types in a canonical signature encoding.</summary>
public enum ScalarType : byte
{
    /// <summary>A 32-bit integer.</summary>
    I32 = 1,
    /// <summary>A 64-bit integer.</summary>
    I64 = 2,
    /// <summary>An IEEE 754 float.</summary>
    F32 = 3,
    /// <summary>An IEEE 754 double.</summary>
    F64 = 4,
    /// <summary>A pointer-sized integer (64 bits on x86-64).</summary>
    Ptr = 5,
}

/// <summary>Calling convention byte of a canonical signature encoding.</summary>
public enum CallingConvention : byte
{
    /// <summary>System V AMD64.</summary>
    SysV = 1,
    /// <summary>Microsoft x64.</summary>
    Win64 = 2,
}

/// <summary>What a symbol names (symbol record offset 8).</summary>
public enum SymbolKind : byte
{
    /// <summary>A function defined in this file.</summary>
    Function = 1,
    /// <summary>A data object defined in this file.</summary>
    Data = 2,
    /// <summary>A function the host provides at load time.</summary>
    ImportFunction = 3,
    /// <summary>A data address the host provides at load time.</summary>
    ImportData = 4,
}

/// <summary>Visibility of a symbol (symbol record offset 9).</summary>
public enum Linkage : byte
{
    /// <summary>Visible only inside the module; the host cannot look it up.</summary>
    Local = 1,
    /// <summary>The host can look it up by name.</summary>
    Export = 2,
    /// <summary>Provided by the host. Every import, and only imports, have this linkage [SYM-1].</summary>
    Import = 3,
}

/// <summary>Kind of a data object (data object record offset 4).</summary>
public enum DataKind : byte
{
    /// <summary>Initial bytes in the data section; read-only after relocation.</summary>
    ReadOnly = 1,
    /// <summary>Initial bytes in the data section; writable, never executable.</summary>
    Writable = 2,
    /// <summary>Writable, zero-initialized; only a size, no bytes in the file.</summary>
    ZeroFilled = 3,
}

/// <summary>
/// How a relocation computes the value stored at its patch field. S: address of the target symbol;
/// A: the addend; P: address of the patch field; G: address of the target's 8-byte slot;
/// L: address of the target's call thunk (or S itself for a defined function).
/// </summary>
public enum RelocationKind : ushort
{
    /// <summary>S + A − P, 32-bit signed; target a defined function (call, jmp, jcc, lea). ELF R_X86_64_PC32 to code.</summary>
    FunctionPcRel32 = 1,
    /// <summary>S + A − P, 32-bit signed; target a defined data object (RIP-relative access). ELF R_X86_64_PC32 to data.</summary>
    DataPcRel32 = 2,
    /// <summary>S + A, 64-bit; any target. ELF R_X86_64_64.</summary>
    Absolute64 = 3,
    /// <summary>G + A − P, 32-bit signed; any target; the loader provides the slot. ELF R_X86_64_GOTPCREL(X).</summary>
    SlotPcRel32 = 4,
    /// <summary>L + A − P, 32-bit signed; target a function or imported function. ELF R_X86_64_PLT32.</summary>
    ThunkPcRel32 = 5,
}

/// <summary>Type of a fingerprint component's value.</summary>
public enum FingerprintValueKind : byte
{
    /// <summary>A 64-bit unsigned integer.</summary>
    Integer = 1,
    /// <summary>A string: the value field is a <see cref="StringRef"/>.</summary>
    String = 2,
    /// <summary>A 64-bit set of feature bits.</summary>
    FeatureSet = 3,
}

/// <summary>How a host compares its own value with a fingerprint component.</summary>
public enum MatchRule : byte
{
    /// <summary>The host's value must equal the file's.</summary>
    Equal = 1,
    /// <summary>The host's feature set must contain every bit of the file's (only for feature sets).</summary>
    Superset = 2,
    /// <summary>Shown by tools, never compared.</summary>
    Informational = 3,
}

/// <summary>What a dependency record says a function depends on, beyond calls.</summary>
public enum DependencyKind : ushort
{
    /// <summary>The function inlined or otherwise used the target function's content.</summary>
    FunctionContent = 1,
    /// <summary>The function used the target data object's content (e.g. constant-folded it).</summary>
    DataContent = 2,
}

/// <summary>
/// x86-64 instruction-set extensions beyond the SSE2 baseline. A file or function that sets a bit
/// needs that feature on the host.
/// </summary>
[Flags]
public enum CpuFeatures : ulong
{
    /// <summary>No feature.</summary>
    None = 0,
    /// <summary>SSE3.</summary>
    Sse3 = 1UL << 0,
    /// <summary>SSSE3.</summary>
    Ssse3 = 1UL << 1,
    /// <summary>SSE4.1.</summary>
    Sse41 = 1UL << 2,
    /// <summary>SSE4.2.</summary>
    Sse42 = 1UL << 3,
    /// <summary>POPCNT.</summary>
    Popcnt = 1UL << 4,
    /// <summary>AVX.</summary>
    Avx = 1UL << 5,
    /// <summary>AVX2.</summary>
    Avx2 = 1UL << 6,
    /// <summary>FMA3.</summary>
    Fma = 1UL << 7,
    /// <summary>BMI1.</summary>
    Bmi1 = 1UL << 8,
    /// <summary>BMI2.</summary>
    Bmi2 = 1UL << 9,
    /// <summary>LZCNT.</summary>
    Lzcnt = 1UL << 10,
    /// <summary>MOVBE.</summary>
    Movbe = 1UL << 11,
    /// <summary>AES-NI.</summary>
    Aes = 1UL << 12,
    /// <summary>PCLMULQDQ.</summary>
    Pclmulqdq = 1UL << 13,
    /// <summary>AVX-512 Foundation.</summary>
    Avx512F = 1UL << 14,
    /// <summary>AVX-512 Byte and Word.</summary>
    Avx512BW = 1UL << 15,
    /// <summary>AVX-512 Conflict Detection.</summary>
    Avx512CD = 1UL << 16,
    /// <summary>AVX-512 Doubleword and Quadword.</summary>
    Avx512DQ = 1UL << 17,
    /// <summary>AVX-512 Vector Length extensions.</summary>
    Avx512VL = 1UL << 18,
    /// <summary>AVX-512 Vector Byte Manipulation.</summary>
    Avx512Vbmi = 1UL << 19,
    /// <summary>AVX-VNNI (VEX-encoded vector neural network instructions).</summary>
    AvxVnni = 1UL << 20,
    /// <summary>Every bit defined by format 1.0; any other bit is refused [FUN-6].</summary>
    AllKnown = (1UL << 21) - 1,
}
