"""The canonical load layout (FORMAT.md §16.2) and the values of prelinked fields ([REL-10]),
written from the text of FORMAT.md alone.

The layout is computed from a `View` of a module's tables: the writer builds one from its model
(writer.py), the independent checker from a file's bytes (reader.py). Offsets are from the base of
the module's region; Python's integers never wrap, so a value that cannot fit 32 bits is seen as such.

Where §16.2 says nothing, this module decides, and says so:
- `ro_end` with no read-only object is 0 (the part is empty);
- `rw_start` and `rw_end` with no writable object are both 0, so the writable part is empty and
  ZF = RW (Appendix B has no writable data and places its code at 0x2000 = RW, which agrees);
- `zero_fill_size` (named in §16.2, not in §9) is §9's "end of the last" zero-filled object, 0 when
  there is none.
"""

from dataclasses import dataclass, field

from . import spec

PAGE = 4096
THUNK_SIZE = 8
SLOT_SIZE = 8
PC_RELATIVE = (spec.FUNCTION_PC_REL32, spec.DATA_PC_REL32, spec.SLOT_PC_REL32, spec.THUNK_PC_REL32)


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def align_down(value: int, alignment: int) -> int:
    return value // alignment * alignment


def fits_i32(value: int) -> bool:
    return -(1 << 31) <= value < (1 << 31)


# ---- what the layout is computed from ------------------------------------------------------------

@dataclass
class Symbol:
    name: str
    kind: int
    definition: int


@dataclass
class Reloc:
    offset: int
    kind: int
    target: int   # symbol index
    addend: int


@dataclass
class Func:
    symbol: int
    code_offset: int
    code_size: int
    relocations: list = field(default_factory=list)  # Reloc, in table order


@dataclass
class Datum:
    symbol: int
    kind: int
    offset: int
    size: int
    relocations: list = field(default_factory=list)


@dataclass
class View:
    symbols: list    # Symbol, in symbol-table order
    functions: list  # Func, in function-table order
    data: list       # Datum, in data-table order
    code_size: int   # the Code section's size


# ---- the layout ----------------------------------------------------------------------------------

class CanonicalLayout:
    """Where each part of the module goes (§16.2), and S, G, L and P of every relocation."""

    def __init__(self, view: View):
        self.view = view
        symbols = view.symbols
        # Import thunks at 0: one per ImportFunction symbol, in symbol-table order.
        self.thunk_symbols = [i for i, s in enumerate(symbols) if s.kind == spec.SYM_IMPORT_FUNCTION]
        self.thunk = {sym: k * THUNK_SIZE for k, sym in enumerate(self.thunk_symbols)}
        self.thunk_bytes = len(self.thunk_symbols) * THUNK_SIZE
        # Read-only data: RO = thunk bytes rounded up to a page; bytes [0, ro_end) of the Data section.
        self.ro = align_up(self.thunk_bytes, PAGE)
        read_only = [d for d in view.data if d.kind == spec.READ_ONLY]
        self.ro_end = read_only[-1].offset + read_only[-1].size if read_only else 0
        # Slots: at RO + ro_end rounded up to 8; every import, then every defined symbol that some
        # SlotPcRel32 (of any owner: a function or a data object) reaches, each group in symbol order.
        self.slots_start = self.ro + align_up(self.ro_end, SLOT_SIZE)
        reached = {r.target for owner in [*view.functions, *view.data] for r in owner.relocations
                   if r.kind == spec.SLOT_PC_REL32}
        imports = [i for i, s in enumerate(symbols) if s.kind in (spec.SYM_IMPORT_FUNCTION, spec.SYM_IMPORT_DATA)]
        defined = [i for i, s in enumerate(symbols) if s.kind in (spec.SYM_FUNCTION, spec.SYM_DATA) and i in reached]
        self.slot_symbols = imports + defined
        self.slot = {sym: self.slots_start + k * SLOT_SIZE for k, sym in enumerate(self.slot_symbols)}
        self.slots_end = self.slots_start + len(self.slot_symbols) * SLOT_SIZE
        # Writable data: RW = the slots' end rounded up to a page; each object at RW + (offset - rw_floor).
        self.rw = align_up(self.slots_end, PAGE)
        writable = [d for d in view.data if d.kind == spec.WRITABLE]
        self.rw_start = writable[0].offset if writable else 0
        self.rw_end = writable[-1].offset + writable[-1].size if writable else 0
        self.rw_floor = align_down(self.rw_start, PAGE)
        # Zero-fill: ZF = RW + (rw_end - rw_floor) rounded up to a page; the area is zero_fill_size
        # rounded up to a page.
        self.zf = self.rw + align_up(self.rw_end - self.rw_floor, PAGE)
        zero_filled = [d for d in view.data if d.kind == spec.ZERO_FILLED]
        self.zero_fill_size = zero_filled[-1].offset + zero_filled[-1].size if zero_filled else 0
        # Code: C = the zero-fill area's end; the canonical part ends at C + code size rounded up.
        self.code = self.zf + align_up(self.zero_fill_size, PAGE)
        self.end = self.code + align_up(view.code_size, PAGE)

    # ---- addresses ----

    def data_address(self, d: Datum) -> int:
        if d.kind == spec.READ_ONLY:
            return self.ro + d.offset
        if d.kind == spec.WRITABLE:
            return self.rw + d.offset - self.rw_floor
        return self.zf + d.offset

    def address(self, sym: int):
        """S of a defined symbol; None for an import (the host's address is not known to the file)."""
        s = self.view.symbols[sym]
        if s.kind == spec.SYM_FUNCTION:
            return self.code + self.view.functions[s.definition].code_offset
        if s.kind == spec.SYM_DATA:
            return self.data_address(self.view.data[s.definition])
        return None

    def target(self, r: Reloc):
        """(address, what) of the place a PC-relative relocation reaches: S, G or L."""
        name = self.view.symbols[r.target].name
        if r.kind == spec.SLOT_PC_REL32:
            k = self.slot_symbols.index(r.target)
            return self.slot[r.target], f"G = slot {k} of {name} = 0x{self.slots_start:X} + 8*{k} = 0x{self.slot[r.target]:X}"
        if r.kind == spec.THUNK_PC_REL32 and r.target in self.thunk:
            k = self.thunk_symbols.index(r.target)
            return self.thunk[r.target], f"L = thunk {k} of {name} = 8*{k} = 0x{self.thunk[r.target]:X}"
        s = self.view.symbols[r.target]
        what = "L = S" if r.kind == spec.THUNK_PC_REL32 else "S"
        if s.kind == spec.SYM_FUNCTION:
            f = self.view.functions[s.definition]
            return self.address(r.target), f"{what} = {name} = C + {f.code_offset} = 0x{self.address(r.target):X}"
        d = self.view.data[s.definition]
        part = {spec.READ_ONLY: "RO + {o}", spec.WRITABLE: "RW + {o} - rw_floor {fl}", spec.ZERO_FILLED: "ZF + {o}"}[d.kind]
        return self.address(r.target), f"{what} = {name} = {part.format(o=d.offset, fl=self.rw_floor)} = 0x{self.address(r.target):X}"

    def place(self, f: Func, r: Reloc) -> int:
        """P of a function's relocation: C + the owner's code_offset + the relocation's offset."""
        return self.code + f.code_offset + r.offset

    def value(self, f: Func, r: Reloc) -> int:
        """S + A - P (or G/L + A - P) of a PC-relative relocation of a function; may not fit 32 bits."""
        return self.target(r)[0] + r.addend - self.place(f, r)

    def explain(self, f: Func, r: Reloc) -> str:
        """The arithmetic of a prelinked value, for a reader of the spec."""
        address, what = self.target(r)
        p = self.place(f, r)
        v = address + r.addend - p
        letter = what.split(" ", 1)[0]
        shown = f"0x{v & 0xFFFFFFFF:08X}" if fits_i32(v) else "does not fit 32 bits"
        return (f"{what}; A = {r.addend}; P = C + {f.code_offset} + {r.offset} = 0x{p:X}; "
                f"{letter} + A - P = {v} ({shown})")

    def prelinked_fields(self):
        """(function index, relocation, offset of the field in the Code section, value) of every field
        [REL-10] fixes, in function-table then relocation order."""
        for i, f in enumerate(self.view.functions):
            for r in f.relocations:
                if r.kind in PC_RELATIVE:
                    yield i, r, f.code_offset + r.offset, self.value(f, r)

    # ---- a description, for the vectors' notes ----

    def describe(self) -> list:
        v = self.view
        name = lambda sym: v.symbols[sym].name  # noqa: E731
        lines = ["Canonical layout (FORMAT.md §16.2), offsets from the region's base:"]
        thunks = ", ".join(f"{name(s)} 0x{self.thunk[s]:X}" for s in self.thunk_symbols) or "none"
        lines.append(f"  import thunks at 0: {thunks}; {self.thunk_bytes} bytes, so RO = 0x{self.ro:X}")
        ro = ", ".join(f"{name(d.symbol)} 0x{self.data_address(d):X}" for d in v.data if d.kind == spec.READ_ONLY) or "none"
        lines.append(f"  read-only data at RO = 0x{self.ro:X}: {ro}; ro_end = {self.ro_end}")
        slots = ", ".join(f"{name(s)} 0x{self.slot[s]:X}" for s in self.slot_symbols) or "none"
        lines.append(f"  slots at RO + ro_end rounded up to 8 = 0x{self.slots_start:X}: {slots}")
        rw = ", ".join(f"{name(d.symbol)} 0x{self.data_address(d):X}" for d in v.data if d.kind == spec.WRITABLE) or "none"
        lines.append(f"  writable data at RW = 0x{self.rw:X} (rw_start {self.rw_start}, rw_end {self.rw_end}, rw_floor {self.rw_floor}): {rw}")
        zf = ", ".join(f"{name(d.symbol)} 0x{self.data_address(d):X}" for d in v.data if d.kind == spec.ZERO_FILLED) or "none"
        lines.append(f"  zero-fill at ZF = 0x{self.zf:X} ({self.zero_fill_size} bytes): {zf}")
        code = ", ".join(f"{name(f.symbol)} 0x{self.code + f.code_offset:X}" for f in v.functions) or "none"
        lines.append(f"  code at C = 0x{self.code:X}: {code}; the canonical part ends at 0x{self.end:X}")
        return lines


# ---- checking a file ([REL-10]) ------------------------------------------------------------------

def first_mismatch(view: View, code: bytes, code_file_offset: int):
    """The first prelinked field that breaks [REL-10], as (file offset, message), or None.
    `code` is the Code section's bytes, at `code_file_offset` in the file."""
    layout = CanonicalLayout(view)
    for i, r, at, value in layout.prelinked_fields():
        stored = int.from_bytes(code[at:at + 4], "little", signed=True)
        f = view.functions[i]
        where = f"{view.symbols[f.symbol].name}+{r.offset} ({spec.RELOCATION_KINDS[r.kind][0]} to {view.symbols[r.target].name})"
        if not fits_i32(value):
            return code_file_offset + at, f"{where}: the canonical value {value} does not fit 32 bits"
        if stored != value:
            return code_file_offset + at, f"{where}: holds {stored}, the canonical layout gives {value}: {layout.explain(f, r)}"
    return None
