"""Numbers of spec/FORMAT.md, transcribed from the document (not from the C# code)."""

MAGIC = bytes([0x89, 0x41, 0x4F, 0x54, 0x0D, 0x0A, 0x1A, 0x0A])  # §3
MAJOR_VERSION = 1
HEADER_SIZE = 128
DIRECTORY_OFFSET = 128
DIRECTORY_ENTRY_SIZE = 40  # §4
FILE_CHECKSUM_OFFSET = 24  # §3, §13.1
NONE = 0xFFFFFFFF  # §1

# §3 target values
ARCH_X86_64 = 1
ABI_SYSV = 1
ABI_WIN64 = 2
OS_LINUX = 1
OS_WINDOWS = 2
OS_MACOS = 3

OPTIONAL_FLAG_PREFER_HOT_SWAP = 1  # §3, bit 0

# §4 section kinds
STRINGS = 1
SIGNATURES = 2
DECLARATIONS = 3
SYMBOLS = 4
FUNCTIONS = 5
DATA_OBJECTS = 6
RELOCATIONS = 7
CODE = 8
DATA = 9
FINGERPRINT = 10
DEPENDENCIES = 11
SIGNATURE = 12
UNWIND = 13

SECTION_NAMES = {
    STRINGS: "Strings", SIGNATURES: "Signatures", DECLARATIONS: "Declarations", SYMBOLS: "Symbols",
    FUNCTIONS: "Functions", DATA_OBJECTS: "DataObjects", RELOCATIONS: "Relocations", CODE: "Code",
    DATA: "Data", FINGERPRINT: "Fingerprint", DEPENDENCIES: "Dependencies", SIGNATURE: "Signature",
    UNWIND: "Unwind",
}

FLAG_REQUIRED = 1  # §4 directory flags, bit 0

# Record sizes of table sections (§4).
RECORD_SIZE = {
    DECLARATIONS: 16, SYMBOLS: 24, FUNCTIONS: 48, DATA_OBJECTS: 48, RELOCATIONS: 32,
    FINGERPRINT: 24, DEPENDENCIES: 32, SIGNATURE: 128,
}

# §2: "strings first, code and data last"; the signature section is always last (§13.3).
SECTION_ORDER = [STRINGS, SIGNATURES, DECLARATIONS, SYMBOLS, FUNCTIONS, DATA_OBJECTS, RELOCATIONS,
                 FINGERPRINT, DEPENDENCIES, CODE, DATA]

# §5.1 fingerprint components
VALUE_INTEGER = 1
VALUE_STRING = 2
VALUE_FEATURE_SET = 3
MATCH_EQUAL = 1
MATCH_SUPERSET = 2
MATCH_INFORMATIONAL = 3
VALUE_KIND_NAMES = {1: "Integer", 2: "String", 3: "FeatureSet"}
MATCH_NAMES = {1: "Equal", 2: "Superset", 3: "Informational"}

# §6.2 signature encoding
CONV_SYSV = 1
CONV_WIN64 = 2
I32, I64, F32, F64, PTR = 1, 2, 3, 4, 5
TYPE_NAMES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", PTR: "ptr"}
CONV_NAMES = {CONV_SYSV: "sysv", CONV_WIN64: "win64"}

# §7 symbols
SYM_FUNCTION = 1
SYM_DATA = 2
SYM_IMPORT_FUNCTION = 3
SYM_IMPORT_DATA = 4
SYMBOL_KIND_NAMES = {1: "Function", 2: "Data", 3: "ImportFunction", 4: "ImportData"}
LINK_LOCAL = 1
LINK_EXPORT = 2
LINK_IMPORT = 3
LINKAGE_NAMES = {1: "Local", 2: "Export", 3: "Import"}

# §9 data objects
READ_ONLY = 1
WRITABLE = 2
ZERO_FILLED = 3
DATA_KIND_NAMES = {1: "ReadOnly", 2: "Writable", 3: "ZeroFilled"}

# §10 relocations: kind -> (name, field width)
FUNCTION_PC_REL32 = 1
DATA_PC_REL32 = 2
ABSOLUTE64 = 3
SLOT_PC_REL32 = 4
THUNK_PC_REL32 = 5
RELOCATION_KINDS = {
    FUNCTION_PC_REL32: ("FunctionPcRel32", 4),
    DATA_PC_REL32: ("DataPcRel32", 4),
    ABSOLUTE64: ("Absolute64", 8),
    SLOT_PC_REL32: ("SlotPcRel32", 4),
    THUNK_PC_REL32: ("ThunkPcRel32", 4),
}

# §11 dependencies
FUNCTION_CONTENT = 1
DATA_CONTENT = 2
DEPENDENCY_KIND_NAMES = {1: "FunctionContent", 2: "DataContent"}

# §13.3 signature algorithms
HMAC_SHA256 = 1
ECDSA_P256_SHA256 = 2
