"""An AotCache writer written from spec/FORMAT.md alone: a second, independent emitter.

A Module collects declarations, functions (machine code with relocations), data objects, imports,
fingerprint components and dependencies; build() lays the file out as annotated fields
(fields.FieldList), from which come the bytes and the annotated hex of spec/vectors.

Layout choices the spec leaves to the writer, and what this writer does:
- section order: §2's recommendation (Strings ... Dependencies, then Code, Data; Signature last);
  empty sections are left out;
- alignment: 8 for table sections, `code_alignment` (default 4096) for Code, the largest object
  alignment (at least 8) for Data;
- string table: each distinct string once, in first-use order: producer, module name, symbol names
  in symbol order, then fingerprint keys and string values component by component;
- declarations: in the order they were declared; functions and data objects: in the order added
  (data grouped ReadOnly, Writable, ZeroFilled as [DAT-2] requires).

Prelinked files (`Module.prelinked`, FORMAT.md §3 optional flag bit 1, [REL-10], format 1.2): every
FunctionPcRel32, DataPcRel32, SlotPcRel32 and ThunkPcRel32 field of every function holds its value in
the canonical layout (§16.2, canonical.py); Absolute64 fields and the fields of data objects are left
as the code or data gives them. The annotated hex of a prelinked file puts each relocation field on a
line of its own, with the arithmetic of its value. A value that cannot fit 32 bits cannot be prelinked:
build() refuses (write the file unprelinked). Without the flag (the default) every field is left as the
code gives it, and the minor version is 0, or 1 for a signed file, as before.
"""

from dataclasses import dataclass, field
import hashlib
import hmac

from . import canonical, spec, unwind
from .fields import Field, FieldList, u8, u16, u32, u64, i64
from .xxh3 import xxh3_64


# ---- signatures (§6.2) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Signature:
    convention: int
    params: tuple
    results: tuple

    @staticmethod
    def sysv(params, results):
        return Signature(spec.CONV_SYSV, tuple(params), tuple(results))

    @property
    def encoding(self) -> bytes:
        return bytes([self.convention, len(self.params), *self.params, len(self.results), *self.results])

    @property
    def hash(self) -> int:
        return xxh3_64(self.encoding)

    def __str__(self):
        params = ", ".join(spec.TYPE_NAMES.get(t, str(t)) for t in self.params)
        result = spec.TYPE_NAMES.get(self.results[0], str(self.results[0])) if self.results else "void"
        return f"{spec.CONV_NAMES.get(self.convention, str(self.convention))} ({params}) -> {result}"


# ---- the module model ----------------------------------------------------------------------------

AUTO = object()  # expected_signature_hash: the target's declaration hash, as §10 recommends


@dataclass
class Relocation:
    offset: int
    kind: int
    target: str
    addend: int
    expected_signature_hash: object = AUTO


@dataclass
class Function:
    name: str
    declaration: int
    code: bytes
    relocations: list
    alignment: int = 16
    linkage: int = spec.LINK_EXPORT
    cpu_features: int = 0
    content_hash: int = 0  # 128-bit; 0 = none
    unwind: bytes | None = None  # the CFA program (§19.3); None: no unwind information


@dataclass
class DataObject:
    name: str
    kind: int
    data: bytes  # for ZeroFilled: only the length matters
    relocations: list
    alignment: int = 8
    linkage: int = spec.LINK_LOCAL
    content_hash: int = 0


@dataclass
class Import:
    name: str
    kind: int  # SYM_IMPORT_FUNCTION or SYM_IMPORT_DATA
    declaration: int = spec.NONE


@dataclass
class FingerprintComponent:
    key: str
    value_kind: int
    match: int
    value: object  # int, or str for VALUE_STRING


@dataclass
class Dependency:
    function: str
    target: str
    kind: int
    expected_content_hash: int


@dataclass
class RawSection:
    """A section this writer knows nothing about: for files of a later minor version."""
    kind: int
    data: bytes
    required: bool
    alignment: int = 8
    comment: str = "contents"


@dataclass
class Module:
    producer: str = ""
    module_name: str = ""
    architecture: int = spec.ARCH_X86_64
    abi: int = spec.ABI_SYSV
    os: int = spec.OS_LINUX
    optional_flags: int = 0            # bits other than prelinked (bit 1), which `prelinked` sets
    prelinked: bool = False            # [REL-10]: the PC-relative fields of functions hold canonical values
    cpu_features: int = 0
    minor_version: int | None = None  # None: the lowest that describes the file (§12): 2 prelinked, 1 signed, else 0
    code_alignment: int = 4096
    signing_key: tuple | None = None  # (name, secret) for HMAC-SHA256
    # Departures from the recommendations ([REC-n]), for the strict vectors; legal, and off by default.
    section_order: list | None = None  # kinds in file order (default spec.SECTION_ORDER)
    keep_empty_sections: tuple = ()    # kinds written even when empty
    extra_padding: dict = field(default_factory=dict)  # kind -> zero bytes beyond alignment before it
    dedupe_strings: bool = True
    code_padding: int = 0xCC
    # A prelinked value that cannot fit 32 bits: "refuse" (build() raises), or "wrap": store its low 32
    # bits and set the flag anyway, a file that breaks [REL-10] (for a malformed vector).
    prelink_overflow: str = "refuse"
    declarations: list = field(default_factory=list)
    functions: list = field(default_factory=list)
    data_objects: list = field(default_factory=list)
    imports: list = field(default_factory=list)
    fingerprint: list = field(default_factory=list)
    dependencies: list = field(default_factory=list)
    raw_sections: list = field(default_factory=list)

    def declare(self, signature: Signature, reuse: bool = True) -> int:
        """The index of the declaration of `signature`; each function type is stored once (§6.3)
        unless reuse is False."""
        if reuse and signature in self.declarations:
            return self.declarations.index(signature)
        self.declarations.append(signature)
        return len(self.declarations) - 1

    def add_function(self, name, signature, code, relocations=(), **options) -> None:
        self.functions.append(Function(name, self.declare(signature), bytes(code), list(relocations), **options))

    def add_data(self, name, kind, data, relocations=(), **options) -> None:
        self.data_objects.append(DataObject(name, kind, bytes(data), list(relocations), **options))

    def add_import_function(self, name, signature) -> None:
        self.imports.append(Import(name, spec.SYM_IMPORT_FUNCTION, self.declare(signature)))

    def add_import_data(self, name) -> None:
        self.imports.append(Import(name, spec.SYM_IMPORT_DATA))

    def add_fingerprint(self, key, value_kind, match, value) -> None:
        self.fingerprint.append(FingerprintComponent(key, value_kind, match, value))

    def add_dependency(self, function, target, kind, expected_content_hash) -> None:
        self.dependencies.append(Dependency(function, target, kind, expected_content_hash))

    def add_raw_section(self, kind, data, required, alignment=8, comment="contents") -> None:
        self.raw_sections.append(RawSection(kind, bytes(data), required, alignment, comment))

    def build(self) -> FieldList:
        return _Layout(self).run()

    def to_bytes(self) -> bytes:
        return self.build().to_bytes()

    def canonical_layout(self) -> canonical.CanonicalLayout:
        """The module's canonical load layout (§16.2), whether or not it is written prelinked."""
        return _Layout(self).canonical_layout()


# ---- layout --------------------------------------------------------------------------------------

def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _hash_text(h: int) -> str:
    return "none" if h == 0 else f"{h:032x}"


def _quote(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


_PRELINKED = 1 << 1  # §3 optional_flags bit 1 (since 1.2)


class _Strings:
    """The Strings section: each distinct string once, in first-use order (§6.1 SHOULD)."""

    def __init__(self, dedupe=True):
        self.dedupe = dedupe
        self.data = bytearray()
        self.order = []  # (offset, text)
        self._at = {}

    def ref(self, text: str) -> tuple:
        if text == "":
            return (0, 0)
        raw = text.encode("utf-8")
        if text not in self._at or not self.dedupe:
            self._at[text] = len(self.data)
            self.order.append((len(self.data), text))
            self.data += raw
        return (self._at[text], len(raw))


class _Section:
    def __init__(self, kind, alignment, required=True):
        self.kind = kind
        self.alignment = alignment
        self.required = required
        self.fields = []  # (key, bytes, comment, is_padding)
        self.offset = 0

    def add(self, key, data, comment, is_padding=False):
        self.fields.append((key, bytes(data), comment, is_padding))

    @property
    def size(self):
        return sum(len(f[1]) for f in self.fields)

    def bytes(self):
        return b"".join(f[1] for f in self.fields)


class _Layout:
    def __init__(self, module: Module):
        self.m = module
        self.strings = _Strings(module.dedupe_strings)
        # Symbols: every defined function, data object and import, sorted by UTF-8 name (§7, [SYM-2]).
        entries = [(f.name, spec.SYM_FUNCTION, f) for f in module.functions]
        entries += [(d.name, spec.SYM_DATA, d) for d in module.data_objects]
        entries += [(i.name, i.kind, i) for i in module.imports]
        self.symbols = sorted(entries, key=lambda e: e[0].encode("utf-8"))
        self.symbol_index = {name: i for i, (name, _k, _o) in enumerate(self.symbols)}
        self.symbol_kind = {name: kind for name, kind, _o in self.symbols}
        # Data objects in [DAT-2] order: ReadOnly, Writable, ZeroFilled, each kind in the order added.
        self.data = [d for k in (spec.READ_ONLY, spec.WRITABLE, spec.ZERO_FILLED) for d in module.data_objects if d.kind == k]
        self.function_index = {f.name: i for i, f in enumerate(module.functions)}
        self.data_index = {d.name: i for i, d in enumerate(self.data)}

    def declaration_of(self, name):
        _n, kind, obj = self.symbols[self.symbol_index[name]]
        return obj.declaration if kind in (spec.SYM_FUNCTION, spec.SYM_IMPORT_FUNCTION) else None

    def run(self) -> FieldList:
        m = self.m
        producer = self.strings.ref(m.producer)
        module_name = self.strings.ref(m.module_name)
        symbol_names = [self.strings.ref(name) for name, _k, _o in self.symbols]
        components = sorted(m.fingerprint, key=lambda c: c.key.encode("utf-8"))
        fingerprint_refs = []
        for c in components:
            key = self.strings.ref(c.key)
            value = self.strings.ref(c.value) if c.value_kind == spec.VALUE_STRING else None
            fingerprint_refs.append((key, value))

        data, data_offsets, zero_offsets = self.data_section()
        code, code_offsets = self.code_section(data_offsets, zero_offsets)
        relocations, first_relocation = self.relocations_section(code_offsets)
        sections = [
            self.strings_section(),
            self.signatures_section(),
            self.declarations_section(),
            self.symbols_section(symbol_names),
            self.functions_section(code_offsets, first_relocation),
            self.data_objects_section(data_offsets, zero_offsets, first_relocation),
            relocations,
            self.fingerprint_section(components, fingerprint_refs),
            self.dependencies_section(),
            code,
            data,
            self.unwind_section(code_offsets),
        ]
        sections += [self.raw_section(r) for r in m.raw_sections]
        sections = [s for s in sections if s.size > 0 or s.kind in m.keep_empty_sections]
        if m.section_order is not None:
            sections.sort(key=lambda s: m.section_order.index(s.kind))
        if m.signing_key is not None:
            sig = _Section(spec.SIGNATURE, 8, required=False)
            sig.add("Signature.record", bytes(128), "signature record (filled in below)")
            sections.append(sig)

        at = spec.DIRECTORY_OFFSET + len(sections) * spec.DIRECTORY_ENTRY_SIZE
        for s in sections:
            s.offset = _align(at + m.extra_padding.get(s.kind, 0), s.alignment)
            at = s.offset + s.size
        file_size = at

        out = FieldList()
        has_unwind = any(f.unwind is not None for f in m.functions)  # §12: the Unwind section makes a file 1.3
        minor = m.minor_version if m.minor_version is not None else (
            3 if has_unwind else 2 if m.prelinked else 1 if m.signing_key is not None else 0)
        self.header(out, minor, file_size, producer, module_name, len(sections))
        for i, s in enumerate(sections):
            self.directory_entry(out, i, s)
        at = spec.DIRECTORY_OFFSET + len(sections) * spec.DIRECTORY_ENTRY_SIZE
        for s in sections:
            if s.offset > at:
                out.add(f"pad@{at:x}", bytes(s.offset - at), "padding", is_padding=True)
            for key, data_bytes, comment, is_padding in s.fields:
                out.add(key, data_bytes, comment, is_padding)
            at = s.offset + s.size
        out.renumber()
        out.refresh_fingerprint()
        if m.signing_key is not None:
            out.refresh_section_checksums(skip_kind=spec.SIGNATURE)
            self.sign(out, sections)
        out.refresh_section_checksums()
        out.refresh_file_checksum()
        return out

    # ---- header and directory (§3, §4) ----

    def header(self, out, minor, file_size, producer, module_name, count):
        m = self.m
        out.add("header.magic", spec.MAGIC, "magic: 89 'A' 'O' 'T' CR LF SUB LF")
        out.add("header.major_version", u16(spec.MAJOR_VERSION), f"major version {spec.MAJOR_VERSION}")
        out.add("header.minor_version", u16(minor), f"minor version {minor}")
        out.add("header.header_size", u32(spec.HEADER_SIZE), f"header size {spec.HEADER_SIZE}")
        out.add("header.file_size", u64(file_size), f"file size {file_size}")
        out.add("header.file_checksum", u64(0), "file checksum")
        out.add("header.architecture", u16(m.architecture), f"architecture {m.architecture} = x86-64")
        out.add("header.abi", u16(m.abi), f"ABI {m.abi} = {'System V' if m.abi == spec.ABI_SYSV else 'Microsoft x64'}")
        out.add("header.os", u16(m.os), f"OS {m.os} = {({1: 'Linux', 2: 'Windows', 3: 'macOS'}).get(m.os, '?')}")
        out.add("header.reserved0", u16(0), "reserved")
        out.add("header.required_flags", u32(0), "required flags: none")
        flags = m.optional_flags | (_PRELINKED if m.prelinked else 0)
        names = [n for bit, n in ((1, "bit 0: prefers hot-swappable linking"), (_PRELINKED, "bit 1: prelinked")) if flags & bit]
        names += [f"bit {b}: unknown to this version" for b in range(2, 32) if flags >> b & 1]
        out.add("header.optional_flags", u32(flags), f"optional flags 0x{flags:x}" + (f" ({'; '.join(names)})" if names else ""))
        out.add("header.required_cpu_features", u64(m.cpu_features), f"required CPU features 0x{m.cpu_features:x}")
        out.add("header.codegen_fingerprint", u64(0), "codegen fingerprint")
        out.add("header.producer", u32(producer[0]) + u32(producer[1]), f"producer: string {producer[0]}+{producer[1]} {_quote(m.producer)}")
        out.add("header.module_name", u32(module_name[0]) + u32(module_name[1]),
                f"module name: string {module_name[0]}+{module_name[1]} {_quote(m.module_name)}")
        out.add("header.section_count", u32(count), f"section count {count}")
        out.add("header.directory_offset", u32(spec.DIRECTORY_OFFSET), f"directory offset {spec.DIRECTORY_OFFSET}")
        out.add("header.reserved1", bytes(40), "reserved")

    def directory_entry(self, out, i, s):
        name = spec.SECTION_NAMES.get(s.kind, "unknown to this writer")
        flags = spec.FLAG_REQUIRED if s.required else 0
        out.add(f"directory[{i}].kind", u32(s.kind), f"section {i}: kind {s.kind} = {name}")
        out.add(f"directory[{i}].flags", u32(flags), f"  flags {flags} ({'required' if flags else 'optional'})")
        out.add(f"directory[{i}].offset", u64(s.offset), f"  offset 0x{s.offset:x}")
        out.add(f"directory[{i}].size", u64(s.size), f"  size {s.size}")
        out.add(f"directory[{i}].alignment", u32(s.alignment), f"  alignment {s.alignment}")
        out.add(f"directory[{i}].reserved", u32(0), "  reserved")
        out.add(f"directory[{i}].checksum", u64(0), "  checksum")

    # ---- sections ----

    def strings_section(self):
        s = _Section(spec.STRINGS, 8)
        for offset, text in self.strings.order:
            raw = text.encode("utf-8")
            s.add(f"Strings@{offset}", raw, f"string {offset}+{len(raw)} {_quote(text)}")
        return s

    def signatures_section(self):
        s = _Section(spec.SIGNATURES, 8)
        for i, sig in enumerate(self.m.declarations):
            s.add(f"Signatures[{i}]", sig.encoding, f"encoding of declaration {i}: {sig}")
        return s

    def declarations_section(self):
        s = _Section(spec.DECLARATIONS, 8)
        at = 0
        for i, sig in enumerate(self.m.declarations):
            n = len(sig.encoding)
            s.add(f"Declarations[{i}].signature_offset", u32(at), f"declaration {i}: signature at {at}")
            s.add(f"Declarations[{i}].signature_length", u32(n), f"  length {n}")
            s.add(f"Declarations[{i}].signature_hash", u64(sig.hash), f"  signature hash 0x{sig.hash:016x} ({sig})")
            at += n
        return s

    def symbols_section(self, names):
        s = _Section(spec.SYMBOLS, 8)
        for i, (name, kind, obj) in enumerate(self.symbols):
            ref = names[i]
            if kind == spec.SYM_FUNCTION:
                linkage, declaration, definition = obj.linkage, obj.declaration, self.function_index[name]
            elif kind == spec.SYM_DATA:
                linkage, declaration, definition = obj.linkage, spec.NONE, self.data_index[name]
            else:
                linkage, declaration, definition = spec.LINK_IMPORT, obj.declaration, spec.NONE
            s.add(f"Symbols[{i}].name", u32(ref[0]) + u32(ref[1]), f"symbol {i}: name {ref[0]}+{ref[1]} {_quote(name)}")
            s.add(f"Symbols[{i}].kind", u8(kind), f"  kind {kind} = {spec.SYMBOL_KIND_NAMES[kind]}")
            s.add(f"Symbols[{i}].linkage", u8(linkage), f"  linkage {linkage} = {spec.LINKAGE_NAMES[linkage]}")
            s.add(f"Symbols[{i}].reserved0", u16(0), "  reserved")
            s.add(f"Symbols[{i}].declaration", u32(declaration), "  declaration: none" if declaration == spec.NONE else f"  declaration {declaration}")
            s.add(f"Symbols[{i}].definition", u32(definition), "  definition: none" if definition == spec.NONE else
                  f"  definition: {'function' if kind == spec.SYM_FUNCTION else 'data object'} {definition}")
            s.add(f"Symbols[{i}].reserved1", u32(0), "  reserved")
        return s

    def code_offsets(self):
        offsets = []
        at = 0
        for f in self.m.functions:
            offsets.append(_align(at, f.alignment))
            at = offsets[-1] + len(f.code)
        return offsets, at

    def code_section(self, data_offsets, zero_offsets):
        s = _Section(spec.CODE, self.m.code_alignment)
        offsets, _size = self.code_offsets()
        layout = self.canonical_layout(data_offsets, zero_offsets) if self.m.prelinked else None
        at = 0
        for i, f in enumerate(self.m.functions):
            start = offsets[i]
            if start > at:
                s.add(f"Code.pad@{at}", bytes([self.m.code_padding]) * (start - at),
                      "padding (int3)" if self.m.code_padding == 0xCC else f"padding ({self.m.code_padding:02X})")
            if layout is None:
                s.add(f"Code.{f.name}", f.code, f"code of {f.name}")
            else:
                self.prelinked_pieces(s, layout, layout.view.functions[i], f)
            at = start + len(f.code)
        return s, offsets

    def data_pieces(self, s, d: DataObject):
        """d's bytes, with each relocation field on a line of its own (annotated hex of prelinked files)."""
        at = 0
        for r in sorted(d.relocations, key=lambda r: r.offset):
            name, width = spec.RELOCATION_KINDS[r.kind]
            if r.offset > at:
                s.add(f"Data.{d.name}" if at == 0 else f"Data.{d.name}@{at}", d.data[at:r.offset],
                      f"data of {d.name}" if at == 0 else f"  {d.name}, continued")
            s.add(f"Data.{d.name}" if r.offset == 0 else f"Data.{d.name}@{r.offset}", d.data[r.offset:r.offset + width],
                  ("  " if r.offset else f"data of {d.name}: ") + f"{d.name}+{r.offset}: {name} to {r.target}, A = {r.addend}: as written "
                  "(not prelinked: [REL-10] fixes the fields of functions only)")
            at = r.offset + width
        if at < len(d.data):
            s.add(f"Data.{d.name}@{at}", d.data[at:], f"  {d.name}, continued")

    # ---- the canonical layout (§16.2) and prelinked fields ([REL-10]) ----

    def view(self, data_offsets, zero_offsets) -> canonical.View:
        """The tables the canonical layout is computed from, as this writer lays them out."""
        def relocations(owner):
            return [canonical.Reloc(r.offset, r.kind, self.symbol_index[r.target], r.addend)
                    for r in sorted(owner.relocations, key=lambda r: r.offset)]
        symbols = [canonical.Symbol(name, kind, self.function_index[name] if kind == spec.SYM_FUNCTION
                                    else self.data_index[name] if kind == spec.SYM_DATA else spec.NONE)
                   for name, kind, _o in self.symbols]
        offsets, code_size = self.code_offsets()
        functions = [canonical.Func(self.symbol_index[f.name], offsets[i], len(f.code), relocations(f))
                     for i, f in enumerate(self.m.functions)]
        data = [canonical.Datum(self.symbol_index[d.name], d.kind,
                                zero_offsets[d.name] if d.kind == spec.ZERO_FILLED else data_offsets[d.name],
                                len(d.data), relocations(d))
                for d in self.data]
        return canonical.View(symbols, functions, data, code_size)

    def canonical_layout(self, data_offsets=None, zero_offsets=None) -> canonical.CanonicalLayout:
        if data_offsets is None:
            _s, data_offsets, zero_offsets = self.data_section()
        return canonical.CanonicalLayout(self.view(data_offsets, zero_offsets))

    def prelinked_pieces(self, s, layout, fv: canonical.Func, f: Function):
        """f's code with its PC-relative fields set to their canonical values, one field per piece."""
        at = 0
        first = True

        def piece(end, data, comment):
            nonlocal at, first
            s.add(f"Code.{f.name}" if first else f"Code.{f.name}@{at}", data, comment)
            first = False
            at = end

        for r in fv.relocations:
            name, width = spec.RELOCATION_KINDS[r.kind]
            if r.offset > at:
                piece(r.offset, f.code[at:r.offset], f"code of {f.name}" if first else f"  {f.name}, continued")
            target = layout.view.symbols[r.target].name
            if r.kind in canonical.PC_RELATIVE:
                value = layout.value(fv, r)
                if not canonical.fits_i32(value) and self.m.prelink_overflow == "wrap":
                    piece(r.offset + 4, (value & 0xFFFFFFFF).to_bytes(4, "little"),
                          f"  {f.name}+{r.offset}: {name} to {target}: {layout.explain(fv, r)}; its low 32 bits")
                    continue
                if not canonical.fits_i32(value):
                    raise ValueError(f"{f.name}+{r.offset}: the canonical value {value} of its {name} to {target} does not fit "
                                     "32 bits, so the file cannot be prelinked ([REL-10]); write it unprelinked")
                piece(r.offset + 4, value.to_bytes(4, "little", signed=True),
                      f"  {f.name}+{r.offset}: {name} to {target}, prelinked: {layout.explain(fv, r)}")
            else:
                piece(r.offset + width, f.code[r.offset:r.offset + width],
                      f"  {f.name}+{r.offset}: {name} to {target}, A = {r.addend}: as the code gives it (not prelinked: "
                      "its value depends on where the module lands)")
        if at < len(f.code):
            piece(len(f.code), f.code[at:], f"code of {f.name}" if first else f"  {f.name}, continued")

    def data_section(self):
        s = _Section(spec.DATA, max([8] + [d.alignment for d in self.data if d.kind != spec.ZERO_FILLED]))
        offsets, zero_offsets = {}, {}
        at = 0
        zero_at = 0
        for d in self.data:
            if d.kind == spec.ZERO_FILLED:
                zero_at = _align(zero_at, d.alignment)
                zero_offsets[d.name] = zero_at
                zero_at += len(d.data)
                continue
            start = _align(at, d.alignment)
            if start > at:
                s.add(f"Data.pad@{at}", bytes(start - at), "padding")
            if self.m.prelinked and d.relocations:
                self.data_pieces(s, d)
            else:
                s.add(f"Data.{d.name}", d.data, f"data of {d.name}")
            offsets[d.name] = start
            at = start + len(d.data)
        return s, offsets, zero_offsets

    def relocations_section(self, code_offsets):
        s = _Section(spec.RELOCATIONS, 8)
        first = {}
        index = 0
        owners = [("function", f) for f in self.m.functions] + [("data", d) for d in self.data]
        for owner_kind, owner in owners:
            first[(owner_kind, owner.name)] = index
            for r in sorted(owner.relocations, key=lambda r: r.offset):
                name, _width = spec.RELOCATION_KINDS.get(r.kind, (f"kind {r.kind}", 4))
                target = self.symbol_index[r.target]
                expected = r.expected_signature_hash
                if expected is AUTO:
                    declaration = self.declaration_of(r.target)
                    expected = self.m.declarations[declaration].hash if declaration is not None else 0
                s.add(f"Relocations[{index}].offset", u32(r.offset), f"relocation {index} ({owner.name}): patch offset +{r.offset}")
                s.add(f"Relocations[{index}].kind", u16(r.kind), f"  kind {r.kind} = {name}")
                s.add(f"Relocations[{index}].reserved0", u16(0), "  reserved")
                s.add(f"Relocations[{index}].target", u32(target), f"  target symbol {target} ({r.target})")
                s.add(f"Relocations[{index}].reserved1", u32(0), "  reserved")
                s.add(f"Relocations[{index}].addend", i64(r.addend), f"  addend {r.addend}")
                s.add(f"Relocations[{index}].expected_signature_hash", u64(expected),
                      "  expected signature hash: none" if expected == 0 else f"  expected signature hash 0x{expected:016x}")
                index += 1
        self.relocation_first = first
        return s, first

    def functions_section(self, code_offsets, first):
        s = _Section(spec.FUNCTIONS, 8)
        for i, f in enumerate(self.m.functions):
            sym = self.symbol_index[f.name]
            n = len(f.relocations)
            fr = first[("function", f.name)]
            s.add(f"Functions[{i}].symbol", u32(sym), f"function {i}: symbol {sym} ({f.name})")
            s.add(f"Functions[{i}].code_offset", u32(code_offsets[i]), f"  code offset {code_offsets[i]}")
            s.add(f"Functions[{i}].code_size", u32(len(f.code)), f"  code size {len(f.code)}")
            s.add(f"Functions[{i}].alignment", u32(f.alignment), f"  alignment {f.alignment}")
            s.add(f"Functions[{i}].first_relocation", u32(fr), f"  first relocation {fr}")
            s.add(f"Functions[{i}].relocation_count", u32(n), f"  relocation count {n}")
            s.add(f"Functions[{i}].required_cpu_features", u64(f.cpu_features), f"  required CPU features 0x{f.cpu_features:x}")
            s.add(f"Functions[{i}].content_hash", f.content_hash.to_bytes(16, "little"), f"  content hash {_hash_text(f.content_hash)}")
        return s

    def data_objects_section(self, offsets, zero_offsets, first):
        s = _Section(spec.DATA_OBJECTS, 8)
        for i, d in enumerate(self.data):
            sym = self.symbol_index[d.name]
            n = len(d.relocations)
            fr = first[("data", d.name)]
            offset = zero_offsets[d.name] if d.kind == spec.ZERO_FILLED else offsets[d.name]
            s.add(f"DataObjects[{i}].symbol", u32(sym), f"data object {i}: symbol {sym} ({d.name})")
            s.add(f"DataObjects[{i}].kind", u8(d.kind), f"  kind {d.kind} = {spec.DATA_KIND_NAMES[d.kind]}")
            s.add(f"DataObjects[{i}].reserved0", bytes(3), "  reserved")
            s.add(f"DataObjects[{i}].offset", u32(offset), f"  offset {offset}" + (" (in the zero-fill area)" if d.kind == spec.ZERO_FILLED else ""))
            s.add(f"DataObjects[{i}].size", u32(len(d.data)), f"  size {len(d.data)}")
            s.add(f"DataObjects[{i}].alignment", u32(d.alignment), f"  alignment {d.alignment}")
            s.add(f"DataObjects[{i}].first_relocation", u32(fr), f"  first relocation {fr}")
            s.add(f"DataObjects[{i}].relocation_count", u32(n), f"  relocation count {n}")
            s.add(f"DataObjects[{i}].reserved1", u32(0), "  reserved")
            s.add(f"DataObjects[{i}].content_hash", d.content_hash.to_bytes(16, "little"), f"  content hash {_hash_text(d.content_hash)}")
        return s

    def fingerprint_section(self, components, refs):
        s = _Section(spec.FINGERPRINT, 8)
        for i, (c, (key, value_ref)) in enumerate(zip(components, refs)):
            if c.value_kind == spec.VALUE_STRING:
                value, text = value_ref[0] | (value_ref[1] << 32), f"string {value_ref[0]}+{value_ref[1]} {_quote(c.value)}"
            else:
                value, text = c.value, (f"0x{c.value:x}" if c.value_kind == spec.VALUE_FEATURE_SET else str(c.value))
            s.add(f"Fingerprint[{i}].key", u32(key[0]) + u32(key[1]), f"fingerprint {i}: key {key[0]}+{key[1]} {_quote(c.key)}")
            s.add(f"Fingerprint[{i}].value_kind", u8(c.value_kind), f"  value kind {c.value_kind} = {spec.VALUE_KIND_NAMES.get(c.value_kind, '?')}")
            s.add(f"Fingerprint[{i}].match", u8(c.match), f"  match {c.match} = {spec.MATCH_NAMES.get(c.match, '?')}")
            s.add(f"Fingerprint[{i}].reserved", bytes(6), "  reserved")
            s.add(f"Fingerprint[{i}].value", u64(value), f"  value: {text}")
        return s

    def dependencies_section(self):
        s = _Section(spec.DEPENDENCIES, 8)
        deps = sorted(self.m.dependencies, key=lambda d: (self.function_index[d.function], self.symbol_index[d.target]))
        for i, d in enumerate(deps):
            fn, target = self.function_index[d.function], self.symbol_index[d.target]
            s.add(f"Dependencies[{i}].function", u32(fn), f"dependency {i}: function {fn} ({d.function})")
            s.add(f"Dependencies[{i}].target", u32(target), f"  target symbol {target} ({d.target})")
            s.add(f"Dependencies[{i}].kind", u16(d.kind), f"  kind {d.kind} = {spec.DEPENDENCY_KIND_NAMES.get(d.kind, '?')}")
            s.add(f"Dependencies[{i}].reserved", bytes(6), "  reserved")
            s.add(f"Dependencies[{i}].expected_content_hash", d.expected_content_hash.to_bytes(16, "little"),
                  f"  expected content hash {_hash_text(d.expected_content_hash)}")
        return s

    def unwind_section(self, code_offsets):
        """§19: written when some function has unwind information; optional (required flag clear)."""
        s = _Section(spec.UNWIND, 8, required=False)
        if any(f.unwind is not None for f in self.m.functions):
            for key, data, comment in unwind.fields(self.m.functions, code_offsets):
                s.add(key, data, comment)
        return s

    def raw_section(self, r: RawSection):
        s = _Section(r.kind, r.alignment, required=r.required)
        s.add(f"Raw{r.kind}", r.data, r.comment)
        return s

    # ---- signature (§13.3) ----

    def sign(self, out: FieldList, sections) -> None:
        name, secret = self.m.signing_key
        sig_index = len(sections) - 1
        sig_section = sections[-1]
        b = bytearray(out.to_bytes())
        # The signed message: every byte before the section, with the file checksum and the Signature
        # entry's directory checksum taken as zero.
        message = bytearray(b[:sig_section.offset])
        message[spec.FILE_CHECKSUM_OFFSET:spec.FILE_CHECKSUM_OFFSET + 8] = bytes(8)
        entry_checksum = spec.DIRECTORY_OFFSET + sig_index * spec.DIRECTORY_ENTRY_SIZE + 32
        message[entry_checksum:entry_checksum + 8] = bytes(8)
        signature = hmac.new(secret, bytes(message), hashlib.sha256).digest()
        key_id = hashlib.sha256(name.encode("utf-8")).digest()
        i = out.index("Signature.record")
        del out.fields[i]
        record = [
            ("Signature.algorithm", u16(spec.HMAC_SHA256), "signature: algorithm 1 = HMAC-SHA256"),
            ("Signature.reserved0", u16(0), "  reserved"),
            ("Signature.signature_length", u32(32), "  signature length 32"),
            ("Signature.key_id", key_id, f"  key id: SHA-256 of the key name {_quote(name)}"),
            ("Signature.signature", signature + bytes(32), "  HMAC-SHA256 of the bytes before this section (zero-padded to 64)"),
            ("Signature.reserved1", bytes(24), "  reserved"),
        ]
        for k, (key, data, comment) in enumerate(record):
            out.fields.insert(i + k, Field(key, data, comment))
        out.renumber()
