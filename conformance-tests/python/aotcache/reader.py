"""Reads the tables of a file the canonical layout needs (FORMAT.md §3, §4, §7-§10), from its bytes
alone, and checks [REL-10] when the header says the file is prelinked.

This is not a validator: it trusts everything but what [REL-10] checks, so it is meant for files that
are otherwise valid (the valid vectors, and malformed vectors whose only breach is a prelinked field).
A reader that ignores the prelinked flag accepts prelinked files as they are: the flag is optional.
"""

from dataclasses import dataclass
import struct

from . import canonical, spec

OPTIONAL_FLAG_PRELINKED = 1 << 1  # §3, bit 1 (since 1.2)


@dataclass
class File:
    minor_version: int
    optional_flags: int
    view: canonical.View
    code: bytes
    code_offset: int  # of the Code section in the file

    @property
    def prelinked(self) -> bool:
        return bool(self.optional_flags & OPTIONAL_FLAG_PRELINKED)


def read(data: bytes) -> File:
    if len(data) < spec.HEADER_SIZE or data[:8] != spec.MAGIC:
        raise ValueError("not an AotCache file")
    minor, = struct.unpack_from("<H", data, 10)
    optional_flags, = struct.unpack_from("<I", data, 44)
    count, = struct.unpack_from("<I", data, 80)
    sections = {}
    for i in range(count):
        kind, _flags, offset, size = struct.unpack_from("<IIQQ", data, spec.DIRECTORY_OFFSET + i * spec.DIRECTORY_ENTRY_SIZE)
        sections[kind] = (offset, size)

    def records(kind, fmt):
        offset, size = sections.get(kind, (0, 0))
        n = struct.calcsize(fmt)
        return [struct.unpack_from(fmt, data, offset + k * n) for k in range(size // n)]

    strings_at, _ = sections.get(spec.STRINGS, (0, 0))
    relocations = [canonical.Reloc(offset, kind, target, addend)
                   for offset, kind, _r0, target, _r1, addend, _hash in records(spec.RELOCATIONS, "<IHHIIqQ")]
    symbols = [canonical.Symbol(data[strings_at + name_at:strings_at + name_at + name_length].decode("utf-8"), kind, definition)
               for name_at, name_length, kind, _linkage, _r0, _declaration, definition, _r1 in records(spec.SYMBOLS, "<IIBBHIII")]
    functions = [canonical.Func(symbol, code_offset, code_size, relocations[first:first + n])
                 for symbol, code_offset, code_size, _alignment, first, n, _cpu, _hash in records(spec.FUNCTIONS, "<IIIIIIQ16s")]
    data_objects = [canonical.Datum(symbol, kind, offset, size, relocations[first:first + n])
                    for symbol, kind, offset, size, _alignment, first, n, _r, _hash in records(spec.DATA_OBJECTS, "<IB3xIIIIII16s")]
    code_at, code_size = sections.get(spec.CODE, (0, 0))
    view = canonical.View(symbols, functions, data_objects, code_size)
    return File(minor, optional_flags, view, data[code_at:code_at + code_size], code_at)


def has_prelinked_flag(data: bytes) -> bool:
    """Whether the header's optional_flags has bit 1 (reads nothing else)."""
    return len(data) >= spec.HEADER_SIZE and bool(struct.unpack_from("<I", data, 44)[0] & OPTIONAL_FLAG_PRELINKED)


def check_prelinked(data: bytes):
    """None when the file is not prelinked or every prelinked field holds its canonical value;
    else (file offset of the first field that breaks [REL-10], message)."""
    f = read(data)
    if not f.prelinked:
        return None
    return canonical.first_mismatch(f.view, f.code, f.code_offset)
