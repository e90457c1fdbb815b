"""Writes spec/vectors: `python3 make_vectors.py [VECTORS_DIR]` (default: ../../spec/vectors).

A convenience for whoever adds vectors: the checked-in .txt files are the source of truth and may be
edited by hand. Each malformed vector starts from a small valid module built by the Python writer,
breaks one field (marked `<== BROKEN` in its comment) and states the error a reader must report:
code, number, byte offset of the offending field, requirement. Error codes and requirement IDs are
read from FORMAT.md §15. The expected `cachedump --json` of valid vectors (NAME.json) is written by
the C# harness (AOTCACHE_ACCEPT=1) and reviewed.
"""

import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aotcache import programs, spec  # noqa: E402
from aotcache.fields import Field, u8, u16, u32, u64, i64  # noqa: E402
from aotcache.vectorfile import parse  # noqa: E402
from aotcache.writer import Module, Relocation, Signature  # noqa: E402

FORMAT_MD = HERE.parent.parent / "spec" / "FORMAT.md"
ERRORS = {m[1]: (int(m[2]), m[3]) for m in re.finditer(r"^\| `(\w+)` \| (\d+) \| ([A-Z]+-\d+) \|$", FORMAT_MD.read_text(encoding="utf-8"), re.M)}

NONE_TO_I64 = Signature.sysv([], [spec.I64])
I64_TO_I64 = Signature.sysv([spec.I64], [spec.I64])
HMAC_KEY = ("vector-key", bytes(range(1, 33)))


# ---- base modules --------------------------------------------------------------------------------

def tiny() -> Module:
    """One function: the smallest useful file (six sections)."""
    m = Module(module_name="tiny", code_alignment=16)
    m.add_function("f", NONE_TO_I64, bytes.fromhex("31c0" "c3"))  # xor eax, eax; ret
    return m


def rich(**header) -> Module:
    """Two functions, an import, read-only/writable/zero-filled data, a fingerprint and dependencies:
    every table section. f calls g and the import and takes table's address; table holds g's address."""
    m = Module(module_name="rich", code_alignment=16, **header)
    m.add_import_function("host", I64_TO_I64)
    m.add_function("f", NONE_TO_I64, bytes.fromhex(
        "4883ec08"        # sub rsp, 8
        "e800000000"      # call g                  +5  FunctionPcRel32 -4
        "e800000000"      # call host               +10 ThunkPcRel32 -4
        "488d0d00000000"  # lea rcx, [rip+table]    +17 DataPcRel32 -4
        "4883c408"        # add rsp, 8
        "c3"),            # ret
        [Relocation(5, spec.FUNCTION_PC_REL32, "g", -4), Relocation(10, spec.THUNK_PC_REL32, "host", -4),
         Relocation(17, spec.DATA_PC_REL32, "table", -4)], content_hash=0xF0)
    m.add_function("g", NONE_TO_I64, bytes.fromhex("b807000000" "c3"), content_hash=0x60)  # mov eax, 7; ret
    m.add_data("table", spec.READ_ONLY, bytes(8), [Relocation(0, spec.ABSOLUTE64, "g", 0)], content_hash=0x7AB1E)
    m.add_data("counter", spec.WRITABLE, (5).to_bytes(8, "little"), content_hash=0xC0)
    m.add_data("scratch", spec.ZERO_FILLED, bytes(16))
    m.add_fingerprint("compiler", spec.VALUE_STRING, spec.MATCH_EQUAL, "rich 1")
    m.add_fingerprint("target.features", spec.VALUE_FEATURE_SET, spec.MATCH_SUPERSET, 0x3)
    m.add_dependency("f", "g", spec.FUNCTION_CONTENT, 0x60)
    m.add_dependency("f", "table", spec.DATA_CONTENT, 0x7AB1E)
    return m


def signed() -> Module:
    m = rich()
    m.module_name = "signed"
    m.signing_key = HMAC_KEY
    return m


# A section kind of a later version: the last one §4 reserves, so that no version this reader knows assigns it
# (13 served until 1.3 made it Unwind).
LATER_KIND = 0x7FFFFFFF


def later_minor(required: bool) -> Module:
    """A file of minor version 1.7 with a section kind (LATER_KIND) this reader does not know, and an
    optional header flag it does not know either: bit 31, which FORMAT.md does not define (bit 1 is
    *prelinked* since 1.2)."""
    m = tiny()
    m.module_name = "from-1.7"
    m.minor_version = 7
    m.optional_flags = 1 << 31
    m.add_raw_section(LATER_KIND, b"notes of a later minor version".ljust(32, b"\0"), required=required,
                      comment=f"contents of section kind 0x{LATER_KIND:X} (not in this version of FORMAT.md)")
    return m


def stale() -> Module:
    """caller was compiled against callee: (i64) -> i64, but callee is now () -> i64; user depends on
    data whose content hash changed. Valid files: staleness is for loaders (LOAD-5, DEP-2)."""
    m = Module(module_name="stale", code_alignment=16)
    m.add_function("callee", NONE_TO_I64, bytes.fromhex("b807000000" "c3"), content_hash=0x1)
    m.add_function("caller", NONE_TO_I64, bytes.fromhex("e900000000"),
                   [Relocation(1, spec.FUNCTION_PC_REL32, "callee", -4, expected_signature_hash=I64_TO_I64.hash)])
    m.declare(I64_TO_I64)
    m.add_data("config", spec.READ_ONLY, (3).to_bytes(8, "little"), content_hash=0x2)
    m.add_function("user", NONE_TO_I64, bytes.fromhex("488b0500000000" "c3"), [Relocation(3, spec.DATA_PC_REL32, "config", -4)])
    m.add_dependency("user", "config", spec.DATA_CONTENT, 0x1)
    return m


def prelinked(build):
    """The module `build` gives, written prelinked (format 1.2, [REL-10])."""
    def make():
        m = build()
        m.prelinked = True
        return m
    return make


def layout_notes(build) -> list:
    return build().canonical_layout().describe()


PRELINKED_NOTE = [
    "Optional flag bit 1 (prelinked): every FunctionPcRel32, DataPcRel32, SlotPcRel32 and ThunkPcRel32 field",
    "of every function holds S + A - P (G + A - P for a slot, L + A - P for a thunk) in the canonical layout",
    "(FORMAT.md §16.2, [REL-10]); the line of each such field shows its arithmetic, with P = C + the",
    "function's code offset + the field's offset. Absolute64 fields and the fields of data objects are not",
    "prelinked: they hold what the writer left.",
]


def left_as_written() -> Module:
    """A prelinked file whose unprelinked fields hold something else than zero: an Absolute64 field in
    code, and a SlotPcRel32 field owned by a data object."""
    m = Module(module_name="left-as-written", code_alignment=16, prelinked=True)
    m.add_data("cell", spec.READ_ONLY, bytes.fromhex("efbeadde") + bytes(4), [Relocation(0, spec.SLOT_PC_REL32, "f", 0)],
               content_hash=0xCE11)
    m.add_function("f", NONE_TO_I64, bytes.fromhex(
        "488d0500000000"         # lea rax, [rip+cell]   +3  DataPcRel32 -4 (prelinked)
        "48b98877665544332211"   # movabs rcx, cell      +9  Absolute64 (holds 0x1122334455667788)
        "c3"),                   # ret
        [Relocation(3, spec.DATA_PC_REL32, "cell", -4), Relocation(9, spec.ABSOLUTE64, "cell", 0)], content_hash=0xF)
    return m


def unfit() -> Module:
    """A prelinked file with a field whose canonical value cannot fit 32 bits: DataPcRel32 to data
    below the code, with the lowest addend [REL-7] allows, -2^31."""
    m = Module(module_name="unfit", code_alignment=16, prelinked=True, prelink_overflow="wrap")
    m.add_data("d", spec.READ_ONLY, (7).to_bytes(8, "little"), content_hash=0xD)
    m.add_function("f", NONE_TO_I64, bytes.fromhex("488b0500000000" "c3"),  # mov rax, [rip+d-0x80000000]; ret
                   [Relocation(3, spec.DATA_PC_REL32, "d", -(1 << 31))], content_hash=0xF)
    return m


# ---- drafting a vector ---------------------------------------------------------------------------

class Draft:
    def __init__(self, name, title, base, notes=()):
        self.name, self.title, self.notes = name, title, list(notes)
        self.fields = base().build()
        self.fields.renumber()
        self.fixup = "checksums"
        self.refresh_fingerprint = True
        self.expect = None
        self.requirements = []
        self.findings = None  # recommendation IDs `cachedump --verify --strict` reports, or None: not stated
        self.extra = []

    def at(self, key, delta=0):
        self.fields.renumber()
        return self.fields.get(key).offset + delta

    def section_at(self, kind, delta=0):
        for _i, k, offset, _size in self.fields.directory():
            if k == kind:
                return offset + delta
        raise KeyError(kind)

    def entry(self, kind):
        for i, k, _o, _s in self.fields.directory():
            if k == kind:
                return i
        raise KeyError(kind)

    def brk(self, key, data, comment):
        self.fields.set(key, data, comment + "  <== BROKEN")
        return self

    def error(self, code, offset):
        number, requirement = ERRORS[code]
        self.expect = f"error {code} {number} at 0x{offset:08X}"
        self.requirements = [requirement]
        return self

    def valid(self, *requirements, findings=()):
        self.expect = "valid"
        self.requirements = list(requirements)
        self.findings = sorted(findings)
        return self

    def text(self):
        f = self.fields
        f.renumber()
        if self.refresh_fingerprint:
            f.refresh_fingerprint()
        if self.fixup == "checksums":
            f.refresh_section_checksums(placeholder=True)
            f.refresh_file_checksum(placeholder=True)
        elif self.fixup == "file-checksum":
            f.refresh_file_checksum(placeholder=True)
        head = [f"# {self.title}"] + [f"# {n}" for n in self.notes]
        head += [f"@expect {self.expect}"]
        if self.requirements:
            head.append("@requirement " + " ".join(self.requirements))
        head.append(f"@fixup {self.fixup}")
        if self.findings is not None:
            head.append("@findings " + (" ".join(self.findings) if self.findings else "none"))
        head += self.extra
        return "\n".join(head) + "\n\n" + f.render()


def reseal(d: Draft):
    """Literal checksums (for vectors that test checksums themselves)."""
    d.fields.refresh_fingerprint()
    d.fields.refresh_section_checksums()
    d.fields.refresh_file_checksum()
    d.refresh_fingerprint = False
    d.fixup = "none"


# ---- the vectors ---------------------------------------------------------------------------------

def valid_vectors():
    yield Draft("tiny", "The smallest useful file: one function, six sections, checksums written out.", tiny).valid(
        "HDR-1", "INT-1", "INT-2", findings=["REC-7"])
    yield Draft("rich", "Every table section, an import, three data kinds, fingerprint and dependencies.", rich).valid(
        "SEC-3", "DAT-2", "REL-2", "DEP-1", "FPR-1", findings=["REC-7"])
    d = Draft("signed", "rich, signed with HMAC-SHA256 (format 1.1): all twelve section kinds.", signed,
              [f"Key name {HMAC_KEY[0]!r}; secret bytes 01..20. A reader that trusts the key verifies the signature."])
    d.extra.append(f"@trust hmac-sha256 {HMAC_KEY[0]} {HMAC_KEY[1].hex()}")
    yield d.valid("AUTH-1", "AUTH-2", "SEC-6", findings=["REC-7"])
    d = Draft("later-minor-optional-section", "Minor version 1.7 with an optional section of unknown kind 0x7FFFFFFF and an unknown optional flag.",
              lambda: later_minor(required=False),
              ["A 1.x reader reads every minor of its major (§12): it skips the unknown section, whose required flag",
               "is clear, after checking its bounds, padding and checksum (SEC-5), and ignores the optional flag (bit 31,",
               "which no version of FORMAT.md defines; bit 1 would be 1.2's prelinked flag).",
               "A minor version above the reader's own is no strict finding: the file may use features the reader cannot see."])
    yield d.valid("SEC-5", "HDR-2", findings=["REC-7"])
    yield Draft("stale", "A valid file whose loader must refuse functions: a stale call and a stale dependency.", stale,
                ["caller was compiled against callee: (i64) -> i64; user's dependency on config expects another content hash."]).valid(
        "LOAD-5", "DEP-2", findings=["REC-7", "REC-7"])
    counts = {"calls": 1, "imports": 5, "data": 0, "table": 6, "spec-example": 2}  # functions and data without content hashes
    for name in ("calls", "imports", "data", "table", "spec-example"):
        module = programs.ALL[name]
        notes = PRELINKED_NOTE + layout_notes(module) if module().prelinked else []
        yield Draft(name, f"The second writer's program '{name}' ({module.__doc__.splitlines()[0].strip()})", module, notes).valid(
            *(["REL-10"] if module().prelinked else []), findings=["REC-7"] * counts[name])
    module = prelinked(programs.all_kinds)
    yield Draft("prelinked-all-kinds", "A prelinked file (format 1.2): every relocation kind, with imports, the three data kinds and "
                "data relocations, under the canonical layout.", module,
                ["The second writer's program 'all-kinds' (conformance-tests/python/aotcache/programs.py), which its tests run,",
                 "prelinked and not; its docstring says what each function does.",
                 "add_one's slot exists only because rel_table, a data object, has a SlotPcRel32 to it: the slots of counter",
                 "and negate come after it. host_value, an imported datum, has a slot but no thunk: host_xor's thunk is the",
                 "second (8), not the third.", *PRELINKED_NOTE, *layout_notes(module)]).valid(
        "REL-10", "REL-6", "DAT-2", findings=[])
    yield Draft("prelinked-fields-left-as-written", "A prelinked file whose Absolute64 field in code and whose data object's "
                "SlotPcRel32 field hold arbitrary values.", left_as_written,
                ["[REL-10] fixes the PC-relative fields of functions only: a reader accepts whatever the others hold",
                 "(here 0x1122334455667788 and 0xDEADBEEF); a loader overwrites them.", *PRELINKED_NOTE,
                 *layout_notes(left_as_written)]).valid("REL-10", findings=[])


def clean() -> Module:
    """A file a careful writer produces: no SHOULD-level findings."""
    m = tiny()
    m.module_name = "clean"
    m.functions[0].content_hash = 0xC1EA4
    return m


def strict_vectors():
    """Valid files that break one recommendation each: `cachedump --verify --strict` names it."""
    yield Draft("clean", "Nothing for --verify --strict to report.", clean).valid(findings=[])

    def variant(**changes):
        def build():
            m = clean()
            for k, v in changes.items():
                setattr(m, k, v)
            return m
        return build
    yield Draft("rec-1-section-order", "Code before the tables.",
                variant(section_order=[spec.CODE] + [k for k in spec.SECTION_ORDER if k != spec.CODE])).valid(findings=["REC-1"])
    yield Draft("rec-2-empty-section", "An empty Dependencies section.", variant(keep_empty_sections=(spec.DEPENDENCIES,))).valid(findings=["REC-2"])
    yield Draft("rec-3-padding", "32 bytes of padding more than the Code section's alignment needs.",
                variant(extra_padding={spec.CODE: 32})).valid(findings=["REC-3"])

    def duplicate_string():
        m = clean()
        m.dedupe_strings = False
        m.producer = "clean"  # the module name again
        return m
    yield Draft("rec-4-duplicate-string", "The producer and the module name are the same string, stored twice.", duplicate_string).valid(findings=["REC-4"])

    def duplicate_declaration():
        m = clean()
        m.declare(NONE_TO_I64, reuse=False)
        return m
    yield Draft("rec-5-duplicate-declaration", "The same function type declared twice.", duplicate_declaration).valid(findings=["REC-5"])

    def padding_90():
        m = clean()
        m.code_padding = 0x90
        m.add_function("g", NONE_TO_I64, bytes.fromhex("31c0" "c3"), content_hash=0x6)
        return m
    yield Draft("rec-8-code-padding", "Padding between functions is nop (90), not int3 (CC).", padding_90).valid(findings=["REC-8"])

    def unrecorded():
        m = clean()
        m.add_function("g", NONE_TO_I64, bytes.fromhex("e900000000"),
                       [Relocation(1, spec.FUNCTION_PC_REL32, "f", -4, expected_signature_hash=0)], content_hash=0x6)
        return m
    yield Draft("rec-9-unrecorded-signature", "A call that does not record the signature it was compiled against.", unrecorded).valid(
        findings=["REC-9"])
    yield Draft("rec-10-minor-1-unsigned", "Minor version 1, but no 1.1 feature (the Signature section) is used.",
                variant(minor_version=1)).valid(findings=["REC-10"])


def malformed_vectors():
    T = tiny
    S = spec
    # ---- header ----
    d = Draft("hdr-1-high-bit-stripped", "The magic's first byte lost its high bit (a 7-bit transfer).", T)
    yield d.brk("header.magic", bytes([0x09]) + S.MAGIC[1:], "magic with 09 for 89").error("BadMagic", 0)
    d = Draft("hdr-4-truncated-header", "The file ends inside the header.", T)
    truncate(d, 100)
    yield d.error("Truncated", 100)
    d = Draft("hdr-2-major-version-2", "Major version 2: a 1.x reader must refuse it and say which versions it reads.", T)
    d.extra.append("@message-contains 1.x")
    yield d.brk("header.major_version", u16(2), "major version 2").error("UnsupportedMajorVersion", 8)
    d = Draft("hdr-3-header-size-64", "header_size is not 128.", T)
    yield d.brk("header.header_size", u32(64), "header size 64").error("BadHeaderSize", 12)
    d = Draft("lim-2-file-size-over-2-gib", "file_size says 2^31 bytes, beyond the 2^31 - 1 limit.", T)
    yield d.brk("header.file_size", u64(1 << 31), "file size 2147483648").error("FileTooLarge", 16)
    d = Draft("hdr-4-byte-appended", "One byte more than file_size says.", T)
    d.fields.add("pad.appended", b"\0", "one byte beyond file_size  <== BROKEN", is_padding=True)
    yield d.error("FileSizeMismatch", 16)
    d = Draft("int-1-file-checksum-wrong", "The file checksum's low bit is flipped; every section checksum is right.", T,
              ["No @fixup: the checksums are written out."])
    reseal(d)
    c = d.fields.get("header.file_checksum").data
    d.brk("header.file_checksum", bytes([c[0] ^ 1]) + c[1:], "file checksum with its low bit flipped")
    yield d.error("FileChecksumMismatch", 24)
    d = Draft("lim-1-reserved-header-bytes", "The first reserved byte of the header's tail is 1.", T)
    yield d.brk("header.reserved1", b"\x01" + bytes(39), "reserved, first byte 1").error("ReservedNotZero", 88)
    d = Draft("hdr-6-unknown-required-flag", "A required flag this version does not define.", T)
    yield d.brk("header.required_flags", u32(4), "required flags 0x4 (undefined)").error("UnknownRequiredFlag", 40)
    d = Draft("hdr-7-unknown-architecture", "Architecture 9 is not in §3's list.", T)
    yield d.brk("header.architecture", u16(9), "architecture 9").error("UnknownTarget", 32)
    d = Draft("fun-6-unknown-file-cpu-feature", "The header requires CPU feature bit 63, which §5.2 does not define.", T)
    yield d.brk("header.required_cpu_features", u64(1 << 63), "required CPU features: bit 63").error("UnknownCpuFeature", 48)
    d = Draft("hdr-8-directory-offset-136", "directory_offset is not 128.", T)
    yield d.brk("header.directory_offset", u32(136), "directory offset 136").error("BadDirectoryOffset", 84)
    d = Draft("hdr-9-65-sections", "section_count is 65, above the limit of 64.", T,
              ["@fixup file-checksum: a directory of 65 entries cannot be fixed up, so section checksums are written out."])
    d.fixup = "file-checksum"
    d.fields.refresh_section_checksums()
    yield d.brk("header.section_count", u32(65), "section count 65").error("TooManySections", 80)

    # ---- directory ----
    d = Draft("sec-1-alignment-3", "A section alignment that is not a power of two.", T)
    yield d.brk("directory[0].alignment", u32(3), "  alignment 3").error("BadSectionAlignment", d.at("directory[0].alignment"))
    d = Draft("sec-1-offset-not-aligned", "The Code section claims alignment 4096; its offset is a multiple of 16 only.", T)
    i = d.entry(S.CODE)
    assert d.section_at(S.CODE) % 4096 != 0
    yield d.brk(f"directory[{i}].alignment", u32(4096), "  alignment 4096 (the offset is not a multiple of it)").error(
        "BadSectionAlignment", d.at(f"directory[{i}].offset"))
    d = Draft("sec-2-section-past-the-end", "The last section's size runs past the end of the file.", T)
    i = d.entry(S.CODE)
    yield d.brk(f"directory[{i}].size", u64(1 << 40), "  size 2^40").error("SectionOutOfBounds", d.at(f"directory[{i}].offset"))
    d = Draft("sec-2-section-over-the-directory", "The first section starts inside the directory.", T)
    yield d.brk("directory[0].offset", u64(136), "  offset 0x88 (inside the directory)").error("SectionOutOfBounds", d.at("directory[0].offset"))
    d = Draft("sec-2-later-section-over-the-directory", "Section 1 starts inside the directory; section 0 is in place.", T,
              ["Bounds come before order (§14, step 7): this is SEC-2, not an overlap with section 0."])
    yield d.brk("directory[1].offset", u64(136), "  offset 0x88 (inside the directory)").error("SectionOutOfBounds", d.at("directory[1].offset"))
    d = Draft("sec-3-sections-overlap", "Section 1 starts where section 0 starts.", T)
    yield d.brk("directory[1].offset", d.fields.get("directory[0].offset").data, "  offset of section 0").error(
        "SectionOverlap", d.at("directory[1].offset"))
    d = Draft("sec-4-duplicate-kind", "Two Signatures sections: section 2's kind says Signatures too.", T)
    yield d.brk("directory[2].kind", u32(S.SIGNATURES), "section 2: kind 2 = Signatures (again)").error(
        "DuplicateSection", d.at("directory[2].kind"))
    d = Draft("sec-5-unknown-required-section", "A 1.7 file with a required section of kind 0x7FFFFFFF, unknown to this version.",
              lambda: later_minor(required=True),
              ["A reader must refuse it: the section changes what the file means (§12)."])
    i = d.entry(LATER_KIND)
    yield d.error("UnknownRequiredSection", d.at(f"directory[{i}].kind"))
    d = Draft("sec-6-known-section-not-required", "The Symbols section lacks the required flag.", T)
    i = d.entry(S.SYMBOLS)
    yield d.brk(f"directory[{i}].flags", u32(0), "  flags 0 (should be 1: required)").error("SectionFlagMismatch", d.at(f"directory[{i}].flags"))
    d = Draft("lim-1-unknown-section-flag", "A directory flag bit that is not defined.", T)
    yield d.brk("directory[0].flags", u32(3), "  flags 3 (bit 1 undefined)").error("ReservedNotZero", d.at("directory[0].flags"))
    d = Draft("lim-1-directory-reserved", "A directory entry's reserved field is not zero.", T)
    yield d.brk("directory[0].reserved", u32(1), "  reserved 1").error("ReservedNotZero", d.at("directory[0].reserved"))
    d = Draft("sec-7-table-not-whole-records", "The Symbols section is 23 bytes: not a whole 24-byte record.", T)
    i = d.entry(S.SYMBOLS)
    yield d.brk(f"directory[{i}].size", u64(23), "  size 23").error("BadTableSize", d.at(f"directory[{i}].size"))
    d = Draft("sec-8-nonzero-padding", "A padding byte between sections is not zero.", T)
    pad = next(f for f in d.fields.fields if f.is_padding and len(f.data) > 0)
    pad.data = b"\xCC" + pad.data[1:]
    pad.comment = "padding, first byte CC  <== BROKEN"
    yield d.error("NonZeroPadding", d.at(pad.key))
    d = Draft("int-2-section-checksum-wrong", "The Code section's checksum is wrong; the file checksum is right.", T,
              ["@fixup file-checksum: the section checksums are written out, the file checksum is computed."])
    d.fixup = "file-checksum"
    d.fields.refresh_section_checksums()
    i = d.entry(S.CODE)
    c = d.fields.get(f"directory[{i}].checksum").data
    yield d.brk(f"directory[{i}].checksum", bytes([c[0] ^ 1]) + c[1:], "  checksum with its low bit flipped").error(
        "SectionChecksumMismatch", d.at(f"directory[{i}].checksum"))

    # ---- strings ----
    d = Draft("str-1-invalid-utf8", "The string table holds a byte that is not UTF-8.", T)
    key = next(f.key for f in d.fields.fields if f.key.startswith("Strings@"))
    data = d.fields.get(key).data
    yield d.brk(key, b"\xFF" + data[1:], "string with its first byte FF").error("BadUtf8", d.at(key))
    d = Draft("str-2-name-past-the-table", "A symbol name runs past the end of the string table.", T)
    yield d.brk("Symbols[0].name", u32(0) + u32(1000), "symbol 0: name 0+1000").error("BadStringRef", d.at("Symbols[0].name"))
    d = Draft("str-2-ends-inside-a-character", "The module name ends inside the two-byte UTF-8 character of 'é'.",
              lambda: Module(module_name="modulé", code_alignment=16, functions=tiny().functions, declarations=tiny().declarations))
    ref = d.fields.get("header.module_name").data
    yield d.brk("header.module_name", ref[:4] + u32(int.from_bytes(ref[4:], "little") - 1), "module name, one byte short").error(
        "BadStringRef", d.at("header.module_name", 4))
    d = Draft("str-3-empty-symbol-name", "A symbol with an empty name.", T)
    yield d.brk("Symbols[0].name", u32(0) + u32(0), "symbol 0: name 0+0 (empty)").error("EmptyName", d.at("Symbols[0].name", 4))

    # ---- fingerprint ----
    R = rich
    d = Draft("fpr-1-unknown-value-kind", "A fingerprint component of value kind 9.", R)
    yield d.brk("Fingerprint[0].value_kind", u8(9), "  value kind 9").error("BadFingerprint", d.at("Fingerprint[0].value_kind"))
    d = Draft("fpr-1-superset-of-a-string", "Superset is only for feature sets.", R)
    yield d.brk("Fingerprint[0].match", u8(S.MATCH_SUPERSET), "  match 2 = Superset (of a String)").error("BadFingerprint", d.at("Fingerprint[0].match"))
    d = Draft("fpr-1-keys-not-sorted", "Fingerprint keys out of order: the two keys swapped.", R)
    k0, k1 = d.fields.get("Fingerprint[0].key").data, d.fields.get("Fingerprint[1].key").data
    d.brk("Fingerprint[0].key", k1, "fingerprint 0: key of component 1")
    yield d.brk("Fingerprint[1].key", k0, "fingerprint 1: key of component 0").error("BadFingerprint", d.at("Fingerprint[1].key"))
    d = Draft("fpr-2-fingerprint-hash-wrong", "codegen_fingerprint is not the hash of the Fingerprint section.", R)
    d.refresh_fingerprint = False
    d.fields.refresh_fingerprint()
    c = d.fields.get("header.codegen_fingerprint").data
    yield d.brk("header.codegen_fingerprint", bytes([c[0] ^ 1]) + c[1:], "codegen fingerprint, low bit flipped").error("FingerprintHashMismatch", 56)

    # ---- signatures and declarations ----
    d = Draft("sig-1-unknown-calling-convention", "A signature encoding with calling convention 9.", T)
    yield d.brk("Signatures[0]", bytes([9, 0, 1, 2]), "encoding of declaration 0: convention 9").error("BadSignature", d.at("Signatures[0]"))
    d = Draft("sig-1-two-results", "A signature encoding with two results.", T)
    yield d.brk("Signatures[0]", bytes([1, 0, 2, 2]), "encoding: sysv, 0 parameters, 2 results").error("BadSignature", d.at("Signatures[0]", 2))
    d = Draft("sig-1-unknown-value-type", "A signature encoding with value type 0.", T)
    yield d.brk("Signatures[0]", bytes([1, 0, 1, 0]), "encoding: sysv () -> type 0").error("BadSignature", d.at("Signatures[0]", 3))
    d = Draft("sig-2-signature-hash-wrong", "A declaration's hash is not the hash of its encoding.", T)
    yield d.brk("Declarations[0].signature_hash", u64(7), "  signature hash 7").error("SignatureHashMismatch", d.at("Declarations[0].signature_hash"))
    d = Draft("sig-3-encoding-past-the-section", "A declaration's encoding runs past the Signatures section.", T)
    yield d.brk("Declarations[0].signature_length", u32(1000), "  length 1000").error("BadSignatureRef", d.at("Declarations[0].signature_offset"))

    # ---- symbols ----
    d = Draft("sym-1-unknown-symbol-kind", "A symbol of kind 9.", T)
    yield d.brk("Symbols[0].kind", u8(9), "  kind 9").error("BadSymbolKind", d.at("Symbols[0].kind"))
    d = Draft("sym-1-exported-import", "An imported function with Export linkage.", R)
    i = sym_index(d, "host")
    yield d.brk(f"Symbols[{i}].linkage", u8(S.LINK_EXPORT), "  linkage 2 = Export (of an import)").error("BadSymbolKind", d.at(f"Symbols[{i}].linkage"))
    d = Draft("sym-2-symbols-not-sorted", "Symbols 'f' and 'g' swapped names: 'g' sorts before 'f'... after 'counter'.", R)
    a, b = sym_index(d, "f"), sym_index(d, "g")
    na, nb = d.fields.get(f"Symbols[{a}].name").data, d.fields.get(f"Symbols[{b}].name").data
    d.brk(f"Symbols[{a}].name", nb, f"symbol {a}: the name of symbol {b} ('g')")
    d.brk(f"Symbols[{b}].name", na, f"symbol {b}: the name of symbol {a} ('f')")
    yield d.error("SymbolsNotSorted", d.at(f"Symbols[{b}].name"))
    d = Draft("sym-2-duplicate-names", "Two symbols named 'f'.", R)
    a, b = sym_index(d, "f"), sym_index(d, "g")
    yield d.brk(f"Symbols[{b}].name", d.fields.get(f"Symbols[{a}].name").data, f"symbol {b}: name 'f' again").error(
        "DuplicateSymbolName", d.at(f"Symbols[{b}].name"))
    d = Draft("sym-3-declaration-out-of-range", "A function symbol names declaration 7 of 1.", T)
    yield d.brk("Symbols[0].declaration", u32(7), "  declaration 7").error("BadDeclarationIndex", d.at("Symbols[0].declaration"))
    d = Draft("sym-3-data-with-a-declaration", "A data symbol with a declaration.", R)
    i = sym_index(d, "counter")
    yield d.brk(f"Symbols[{i}].declaration", u32(0), "  declaration 0 (data has none)").error("BadDeclarationIndex", d.at(f"Symbols[{i}].declaration"))
    d = Draft("sym-4-definition-of-another-function", "Symbol 'f' claims function record 1, which is g's.", R)
    i = sym_index(d, "f")
    yield d.brk(f"Symbols[{i}].definition", u32(1), "  definition: function 1 (g's)").error("BadDefinitionIndex", d.at(f"Symbols[{i}].definition"))
    d = Draft("sym-4-import-with-a-definition", "An import with a definition.", R)
    i = sym_index(d, "host")
    yield d.brk(f"Symbols[{i}].definition", u32(0), "  definition 0 (an import has none)").error("BadDefinitionIndex", d.at(f"Symbols[{i}].definition"))

    # ---- functions ----
    d = Draft("fun-1-code-past-the-section", "Function g's code runs past the Code section.", R)
    yield d.brk("Functions[1].code_size", u32(1000), "  code size 1000").error("FunctionOutOfBounds", d.at("Functions[1].code_offset"))
    d = Draft("fun-2-functions-overlap", "Function g starts inside f.", R)
    yield d.brk("Functions[1].code_offset", u32(16), "  code offset 16 (f ends at 26)").error("FunctionOverlap", d.at("Functions[1].code_offset"))
    d = Draft("fun-3-alignment-3", "A function alignment that is not a power of two.", R)
    yield d.brk("Functions[1].alignment", u32(3), "  alignment 3").error("BadFunctionAlignment", d.at("Functions[1].alignment"))
    d = Draft("fun-4-record-without-its-symbol", "Symbol 'g' turned into an import: function record 1 has no Function symbol.", R)
    i = sym_index(d, "g")
    d.brk(f"Symbols[{i}].kind", u8(S.SYM_IMPORT_FUNCTION), "  kind 3 = ImportFunction (was Function)")
    d.brk(f"Symbols[{i}].linkage", u8(S.LINK_IMPORT), "  linkage 3 = Import")
    d.brk(f"Symbols[{i}].definition", u32(S.NONE), "  definition: none")
    yield d.error("BadFunctionSymbol", d.at("Functions[1].symbol"))
    d = Draft("fun-5-empty-function", "A function of zero bytes.", T)
    yield d.brk("Functions[0].code_size", u32(0), "  code size 0").error("EmptyFunction", d.at("Functions[0].code_size"))
    d = Draft("fun-6-unknown-function-cpu-feature", "A function requires CPU feature bit 40.", T)
    yield d.brk("Functions[0].required_cpu_features", u64(1 << 40), "  required CPU features: bit 40").error(
        "UnknownCpuFeature", d.at("Functions[0].required_cpu_features"))

    # ---- data objects ----
    d = Draft("dat-1-unknown-data-kind", "A data object of kind 7.", R)
    yield d.brk("DataObjects[0].kind", u8(7), "  kind 7").error("BadDataKind", d.at("DataObjects[0].kind"))
    d = Draft("dat-1-zero-filled-with-relocations", "A zero-filled object claims a relocation.", R)
    yield d.brk("DataObjects[2].relocation_count", u32(1), "  relocation count 1").error("BadDataKind", d.at("DataObjects[2].relocation_count"))
    d = Draft("dat-2-bytes-past-the-section", "A data object runs past the Data section.", R)
    yield d.brk("DataObjects[1].size", u32(1000), "  size 1000").error("DataOutOfBounds", d.at("DataObjects[1].offset"))
    d = Draft("dat-2-writable-before-read-only", "The writable object is listed before the read-only one.", R)
    d.brk("DataObjects[0].kind", u8(S.WRITABLE), "  kind 2 = Writable")
    yield d.brk("DataObjects[1].kind", u8(S.READ_ONLY), "  kind 1 = ReadOnly (after a Writable)").error("DataOrder", d.at("DataObjects[1].kind"))
    d = Draft("dat-2-zero-size", "A data object of size 0.", R)
    yield d.brk("DataObjects[1].size", u32(0), "  size 0").error("DataOutOfBounds", d.at("DataObjects[1].size"))
    d = Draft("dat-3-alignment-6", "A data alignment that is not a power of two.", R)
    yield d.brk("DataObjects[0].alignment", u32(6), "  alignment 6").error("BadDataAlignment", d.at("DataObjects[0].alignment"))
    d = Draft("dat-4-record-without-its-symbol", "Symbol 'table' turned into an imported datum: data record 0 has no Data symbol.", R)
    i = sym_index(d, "table")
    d.brk(f"Symbols[{i}].kind", u8(S.SYM_IMPORT_DATA), "  kind 4 = ImportData (was Data)")
    d.brk(f"Symbols[{i}].linkage", u8(S.LINK_IMPORT), "  linkage 3 = Import")
    d.brk(f"Symbols[{i}].definition", u32(S.NONE), "  definition: none")
    yield d.error("BadDataSymbol", d.at("DataObjects[0].symbol"))

    # ---- relocations ----
    d = Draft("rel-1-unknown-kind", "A relocation of kind 9.", R)
    yield d.brk("Relocations[0].kind", u16(9), "  kind 9").error("UnknownRelocationKind", d.at("Relocations[0].kind"))
    d = Draft("rel-2-ranges-do-not-tile", "Function g's relocations would start at 1, but f's end at 3.", R)
    yield d.brk("Functions[1].first_relocation", u32(1), "  first relocation 1 (should be 3)").error("BadRelocationRange", d.at("Functions[1].first_relocation"))
    d = Draft("rel-2-relocations-owned-by-nobody", "table claims none of its relocation: the last relocation belongs to no owner.", R)
    d.brk("DataObjects[0].relocation_count", u32(0), "  relocation count 0 (was 1)")
    d.brk("DataObjects[1].first_relocation", u32(3), "  first relocation 3 (consistent with the count above)")
    d.brk("DataObjects[2].first_relocation", u32(3), "  first relocation 3 (consistent with the count above)")
    yield d.error("BadRelocationRange", d.at("Relocations[3].offset"))
    d = Draft("rel-3-field-past-the-owner", "A relocation's 4-byte field ends past its 26-byte function.", R)
    yield d.brk("Relocations[2].offset", u32(23), "relocation 2 (f): patch offset +23 (ends at 27)").error("RelocationOutOfBounds", d.at("Relocations[2].offset"))
    d = Draft("rel-4-fields-overlap", "Relocation 1's field starts inside relocation 0's.", R)
    yield d.brk("Relocations[1].offset", u32(7), "relocation 1 (f): patch offset +7 (relocation 0 covers 5..8)").error("RelocationOverlap", d.at("Relocations[1].offset"))
    d = Draft("rel-5-target-out-of-range", "A relocation targets symbol 99.", R)
    yield d.brk("Relocations[0].target", u32(99), "  target symbol 99").error("BadRelocationTarget", d.at("Relocations[0].target"))
    d = Draft("rel-6-data-relocation-to-a-function", "A DataPcRel32 whose target is a function.", R)
    yield d.brk("Relocations[2].target", u32(sym_index(d, "g")), "  target: g (a Function)").error("RelocationTargetKindMismatch", d.at("Relocations[2].target"))
    d = Draft("rel-6-pc32-against-an-import", "A FunctionPcRel32 whose target is an imported function: an ELF R_X86_64_PC32 against "
              "an import has no kind of its own (FORMAT.md §10); it is a ThunkPcRel32 for a call, a SlotPcRel32 for an address.", R)
    yield d.brk("Relocations[0].target", u32(sym_index(d, "host")), "  target: host (an ImportFunction)").error("RelocationTargetKindMismatch", d.at("Relocations[0].target"))
    d = Draft("rel-7-addend-out-of-range", "A 32-bit relocation with addend 2^31.", R)
    yield d.brk("Relocations[0].addend", i64(1 << 31), "  addend 2147483648").error("AddendOutOfRange", d.at("Relocations[0].addend"))
    d = Draft("rel-8-signature-hash-on-a-data-target", "A relocation to data carries an expected signature hash.", R)
    yield d.brk("Relocations[2].expected_signature_hash", u64(0x1234), "  expected signature hash 0x1234 (target is data)").error(
        "UnexpectedSignatureHash", d.at("Relocations[2].expected_signature_hash"))

    # ---- prelinked files ([REL-10]) ----
    P = prelinked(programs.all_kinds)
    layout = P().canonical_layout()
    notes = ["The second writer's program 'all-kinds', prelinked, as valid/prelinked-all-kinds.txt, but for one field.",
             *layout_notes(P)]

    def nudge(d, key, delta, comment):
        value = int.from_bytes(d.fields.get(key).data, "little", signed=True) + delta
        return d.brk(key, (value & 0xFFFFFFFF).to_bytes(4, "little"), comment + f": holds {value}")

    d = Draft("rel-10-prelinked-field-off-by-one", "In a prelinked file, a FunctionPcRel32 field holds its canonical value plus one.", P, notes)
    yield nudge(d, "Code.add_two@5", 1, "  add_two+5: FunctionPcRel32 to add_one, the canonical value plus one").error(
        "PrelinkMismatch", d.at("Code.add_two@5"))
    d = Draft("rel-10-slot-numbered-without-data-owners", "In a prelinked file, a slot numbered as if the SlotPcRel32 of a data "
              "object reached nothing.", P,
              ["Slots go to every import, then to every defined symbol that some SlotPcRel32 of any owner reaches (§16.2):",
               "add_one's slot is there only for rel_table's SlotPcRel32, a data object's. A writer that counts the",
               "functions' relocations alone numbers counter's slot 3, not 4: bump+11 is 8 less than its canonical value.",
               *notes])
    yield nudge(d, "Code.bump@11", -8, "  bump+11: SlotPcRel32 to counter, with G = slot 3 (add_one's slot left out)").error(
        "PrelinkMismatch", d.at("Code.bump@11"))
    d = Draft("rel-10-thunk-numbered-among-all-imports", "In a prelinked file, a thunk numbered as if imported data had thunks too.", P,
              ["Thunks go to ImportFunction symbols only (§16.2): host_xor's is the second, at 8. A writer that gives",
               "host_value (ImportData) one too puts it at 16: call_xor+5 is 8 more than its canonical value.", *notes])
    yield nudge(d, "Code.call_xor@5", 8, "  call_xor+5: ThunkPcRel32 to host_xor, with L = 16 (a thunk for host_value too)").error(
        "PrelinkMismatch", d.at("Code.call_xor@5"))
    below = layout.rw_start - layout.rw_floor
    d = Draft("rel-10-writable-data-without-rw-floor", "In a prelinked file, writable data placed from RW as if rw_start were "
              "on a page boundary.", P,
              [f"Each writable object goes to RW + (its section offset - rw_floor), rw_floor being rw_start rounded down to a page",
               f"(§16.2): counter, at section offset {layout.rw_start}, goes to RW + {below}. A writer that puts the first",
               f"writable object at RW itself makes bump+3 {below} less than its canonical value.", *notes])
    assert below > 0
    yield nudge(d, "Code.bump@3", -below, f"  bump+3: DataPcRel32 to counter, with S = RW (not RW + {below})").error(
        "PrelinkMismatch", d.at("Code.bump@3"))
    d = Draft("rel-10-prelinked-value-does-not-fit", "In a prelinked file, a field whose canonical value does not fit 32 bits.", unfit,
              ["The addend -2^31 is in range (REL-7); without the prelinked flag the file is valid, and a loader that",
               "places the module so that the value cannot fit refuses it (RelocationOverflow, REL-9). With the flag,",
               "no 32-bit value is the canonical one: the field holds the value's low 32 bits, and a reader reports",
               "PrelinkMismatch at it.", *PRELINKED_NOTE, *layout_notes(unfit)])
    key = "Code.f@3"
    yield d.brk(key, d.fields.get(key).data, d.fields.get(key).comment).error("PrelinkMismatch", d.at(key))

    # ---- dependencies ----
    d = Draft("dep-1-kind-does-not-match-the-target", "A FunctionContent dependency on a data object.", R)
    yield d.brk("Dependencies[1].kind", u16(S.FUNCTION_CONTENT), "  kind 1 = FunctionContent (target is data)").error("BadDependency", d.at("Dependencies[1].kind"))
    d = Draft("dep-1-not-sorted", "Dependencies out of (function, target) order.", R)
    t0, t1 = d.fields.get("Dependencies[0].target").data, d.fields.get("Dependencies[1].target").data
    k0, k1 = d.fields.get("Dependencies[0].kind").data, d.fields.get("Dependencies[1].kind").data
    h0, h1 = d.fields.get("Dependencies[0].expected_content_hash").data, d.fields.get("Dependencies[1].expected_content_hash").data
    d.brk("Dependencies[0].target", t1, "  target: table")
    d.brk("Dependencies[0].kind", k1, "  kind 2 = DataContent")
    d.brk("Dependencies[0].expected_content_hash", h1, "  expected content hash of table")
    d.brk("Dependencies[1].target", t0, "  target: g")
    d.brk("Dependencies[1].kind", k0, "  kind 1 = FunctionContent")
    d.brk("Dependencies[1].expected_content_hash", h0, "  expected content hash of g")
    yield d.error("BadDependency", d.at("Dependencies[1].function"))
    d = Draft("dep-1-dependency-on-an-import", "A dependency of f on the import host, with kind 0.", R,
              ["An import has no content in the file, so no kind names it: kind 0 is not a kind, whatever the target. "
               "Found by AFL++ (fuzz/README.md, campaign 3): the loader's stale analysis indexed the function table with "
               "the import's definition 0xFFFFFFFF."])
    host = sym_index(d, "host")
    assert host > sym_index(d, "g"), "dependency 1 must stay sorted after dependency 0 (on g)"
    d.brk("Dependencies[1].target", u32(host), "  target: host (an import)")
    yield d.brk("Dependencies[1].kind", u16(0), "  kind 0 (none)").error("BadDependency", d.at("Dependencies[1].target"))
    d = Draft("dep-1-function-out-of-range", "A dependency of function 5, of 2.", R)
    yield d.brk("Dependencies[0].function", u32(5), "dependency 0: function 5").error("BadDependency", d.at("Dependencies[0].function"))

    # ---- which breach comes first (§14): each vector breaks two rules and expects the earlier one ----
    def with_raw_sections(*sections):
        def build():
            m = tiny()
            for kind, data in sections:
                m.add_raw_section(kind, data, required=False, comment=f"contents of section kind {kind}")
            return m
        return build
    private = 0x80000001
    d = Draft("sec-4-two-private-sections-of-one-kind", "Two sections of the private kind 0x80000001, both optional.",
              with_raw_sections((private, b"index, part 1".ljust(16, b"\0")), (private, b"index, part 2".ljust(16, b"\0"))),
              ["[SEC-4] holds for unknown and private kinds too: a later version that defines the kind must not find two of it."])
    i = d.entry(private) + 1
    yield d.brk(f"directory[{i}].kind", u32(private), f"section {i}: kind 0x80000001 (private), a second time").error(
        "DuplicateSection", d.at(f"directory[{i}].kind"))
    d = Draft("sec-4-duplicate-kind-before-nonzero-padding", "A non-zero padding byte before section 1, and section 2 is a second Signatures section.", T,
              ["Padding is step 8 of §14, checked once every directory entry has passed step 7: the duplicate kind is reported."])
    pad = next(f for f in d.fields.fields if f.is_padding and len(f.data) > 0)
    assert pad.offset < d.section_at(S.SIGNATURES)
    pad.data = b"\xCC" + pad.data[1:]
    pad.comment = "padding, first byte CC  <== BROKEN (second)"
    yield d.brk("directory[2].kind", u32(S.SIGNATURES), "section 2: kind 2 = Signatures (again)").error(
        "DuplicateSection", d.at("directory[2].kind"))
    d = Draft("sec-1-alignment-after-a-misplaced-signature-section", "A Signature section that is not the last section, and the entry after it has alignment 3.",
              with_raw_sections((S.SIGNATURE, bytes(128)), (private, b"after the signature".ljust(24, b"\0"))),
              ["The signature section's place and size are checked in step 18 of §14; the later entry's alignment in step 7."])
    i = d.entry(private)
    assert d.entry(S.SIGNATURE) < i
    yield d.brk(f"directory[{i}].alignment", u32(3), "  alignment 3").error("BadSectionAlignment", d.at(f"directory[{i}].alignment"))
    d = Draft("rel-1-unknown-kind-before-a-later-range", "Relocation 0 (of function f) has kind 9, and function g's range does not tile.", R,
              ["Step 16 of §14 goes owner by owner: f's relocations are checked before g's range."])
    d.brk("Functions[1].first_relocation", u32(1), "  first relocation 1 (should be 3)  (second)")
    yield d.brk("Relocations[0].kind", u16(9), "  kind 9").error("UnknownRelocationKind", d.at("Relocations[0].kind"))

    # ---- signature section ----
    d = Draft("auth-1-unknown-algorithm", "The signature record names algorithm 9.", signed)
    yield d.brk("Signature.algorithm", u16(9), "signature: algorithm 9").error("BadSignatureSection", d.at("Signature.algorithm"))
    d = Draft("auth-1-wrong-signature-length", "An HMAC-SHA256 signature of 64 bytes.", signed)
    yield d.brk("Signature.signature_length", u32(64), "  signature length 64 (HMAC-SHA256 has 32)").error("BadSignatureSection", d.at("Signature.signature_length"))
    d = Draft("auth-2-tampered", "signed, with one code byte changed after signing (checksums recomputed).", signed,
              ["The reader trusts the key: the signature no longer matches."])
    d.extra.append(f"@trust hmac-sha256 {HMAC_KEY[0]} {HMAC_KEY[1].hex()}")
    code = d.fields.get("Code.g").data
    d.brk("Code.g", code[:1] + b"\x2A" + code[2:], "code of g: mov eax, 42 (was 7)")
    yield d.error("SignatureInvalid", d.at("Signature.signature"))
    d = Draft("auth-2-untrusted-key", "signed, read by a reader that trusts another key.", signed)
    d.extra.append(f"@trust hmac-sha256 another-key {bytes(32).hex()}")
    yield d.error("SignatureInvalid", d.at("Signature.key_id"))
    d = Draft("auth-3-unsigned-but-required", "An unsigned file, read by a reader whose policy requires a signature.", T,
              ["The error is not at a field: the reference reader reports offset 0."])
    d.extra.append(f"@trust hmac-sha256 {HMAC_KEY[0]} {HMAC_KEY[1].hex()}")
    d.extra.append("@require-signature")
    yield d.error("SignatureMissing", 0)


def sym_index(d: Draft, name: str) -> int:
    for f in d.fields.fields:
        if f.key.startswith("Symbols[") and f.key.endswith(".name") and f'"{name}"' in f.comment:
            return int(f.key[len("Symbols["):f.key.index("]")])
    raise KeyError(name)


def truncate(d: Draft, n: int):
    """Keeps the first n bytes of the file."""
    d.fields.renumber()
    kept = []
    for f in d.fields.fields:
        if f.offset >= n:
            break
        if f.offset + len(f.data) > n:
            f = Field(f.key, f.data[:n - f.offset], f.comment + f"  <== cut after {n - f.offset} bytes", f.offset, f.is_padding)
        kept.append(f)
    d.fields.fields = kept
    d.fixup = "none"
    d.refresh_fingerprint = False


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "spec" / "vectors"
    count = 0
    for folder, drafts in (("valid", valid_vectors()), ("strict", strict_vectors()), ("malformed", malformed_vectors())):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for d in drafts:
            if d is None:
                continue
            text = d.text()
            path = root / folder / f"{d.name}.txt"
            parse(text, str(path))  # the generator's output must read back
            path.write_text(text, encoding="utf-8")
            count += 1
    print(f"{count} vectors written to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
