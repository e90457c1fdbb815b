"""A file as a list of annotated fields: the bytes and, for each field, what it means.

The writer lays a file out as fields so that the same layout gives both the bytes and the annotated
hex text of spec/vectors (one line per field, `;` comment). The vector generator edits single fields
by key to make malformed files.
"""

from dataclasses import dataclass, field as dataclass_field
import struct

from . import spec
from .xxh3 import xxh3_64

BYTES_PER_LINE = 16
ZERO_RUN_MIN = 17  # zero padding longer than one line is written as a run


@dataclass
class Field:
    """Bytes at a place in the file. `key` names the field for edits (e.g. 'Symbols[1].kind');
    padding fields have keys starting with 'pad'."""
    key: str
    data: bytes
    comment: str
    offset: int = 0
    is_padding: bool = False


def u8(v: int) -> bytes:
    return struct.pack("<B", v & 0xFF)


def u16(v: int) -> bytes:
    return struct.pack("<H", v & 0xFFFF)


def u32(v: int) -> bytes:
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v: int) -> bytes:
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def i64(v: int) -> bytes:
    return struct.pack("<q", v)


@dataclass
class FieldList:
    """The fields of a whole file, in file order; offsets follow from the sizes."""
    fields: list = dataclass_field(default_factory=list)

    def add(self, key: str, data: bytes, comment: str, is_padding: bool = False) -> Field:
        f = Field(key, bytes(data), comment, 0, is_padding)
        self.fields.append(f)
        return f

    def renumber(self) -> None:
        at = 0
        for f in self.fields:
            f.offset = at
            at += len(f.data)

    def to_bytes(self) -> bytes:
        return b"".join(f.data for f in self.fields)

    def get(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(f"no field {key!r}; fields: {', '.join(x.key for x in self.fields if not x.is_padding)}")

    def set(self, key: str, data: bytes, comment: str | None = None) -> Field:
        """Replaces a field's bytes (same length unless the caller renumbers deliberately)."""
        f = self.get(key)
        if len(data) != len(f.data):
            raise ValueError(f"{key}: {len(data)} bytes for a {len(f.data)}-byte field")
        f.data = bytes(data)
        if comment is not None:
            f.comment = comment
        return f

    def index(self, key: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f.key == key)

    # ---- derived values -----------------------------------------------------------------------

    def directory(self):
        """(index, kind, offset, size) of each directory entry the header counts, as written."""
        b = self.to_bytes()
        count = struct.unpack_from("<I", b, 80)[0]
        for i in range(count):
            at = spec.DIRECTORY_OFFSET + i * spec.DIRECTORY_ENTRY_SIZE
            if at + spec.DIRECTORY_ENTRY_SIZE > len(b):
                return
            kind, _flags, offset, size = struct.unpack_from("<IIQQ", b, at)
            yield i, kind, offset, size

    def refresh_fingerprint(self) -> None:
        """header.codegen_fingerprint = XxHash3-64 of the Fingerprint section, or 0 (§5.1, [FPR-2])."""
        b = self.to_bytes()
        value = 0
        for _i, kind, offset, size in self.directory():
            if kind == spec.FINGERPRINT:
                value = xxh3_64(b[offset:offset + size])
        self.set("header.codegen_fingerprint", u64(value),
                 f"codegen fingerprint 0x{value:016x}" + (" (XxHash3-64 of the Fingerprint section)" if value else " (no Fingerprint section)"))

    def refresh_section_checksums(self, placeholder: bool = False, skip_kind: int | None = None) -> None:
        """Directory checksums = XxHash3-64 of each section (§13.2), or zero placeholders."""
        for i, kind, offset, size in list(self.directory()):
            if kind == skip_kind:
                continue
            key = f"directory[{i}].checksum"
            if not any(f.key == key for f in self.fields):
                continue  # a count that a malformed file overstates
            if placeholder:
                self.set(key, u64(0), "  checksum (computed by the harness: @fixup)")
                continue
            b = self.to_bytes()
            if offset + size <= len(b):
                value = xxh3_64(b[offset:offset + size])
                self.set(key, u64(value), f"  checksum 0x{value:016x}")

    def refresh_file_checksum(self, placeholder: bool = False) -> None:
        """header.file_checksum = XxHash3-64 of the file with those 8 bytes zero (§13.1)."""
        if placeholder:
            self.set("header.file_checksum", u64(0), "file checksum (computed by the harness: @fixup)")
            return
        self.set("header.file_checksum", u64(0))
        value = xxh3_64(self.to_bytes())
        self.set("header.file_checksum", u64(value), f"file checksum 0x{value:016x} (XxHash3-64 of the file with these 8 bytes zero)")

    def refresh_file_size(self) -> None:
        self.renumber()
        n = len(self.to_bytes())
        self.set("header.file_size", u64(n), f"file size {n}")

    # ---- annotated hex ------------------------------------------------------------------------

    def render(self) -> str:
        """One line per field (long fields wrap at 16 bytes with empty comments); zero padding
        longer than a line as `.. N zero bytes ..`."""
        self.renumber()
        lines = []
        for f in self.fields:
            if f.is_padding and len(f.data) >= ZERO_RUN_MIN and not any(f.data):
                lines.append(f"{f.offset:08X}: .. {len(f.data)} zero bytes ..")
                continue
            for start in range(0, max(len(f.data), 1), BYTES_PER_LINE):
                chunk = f.data[start:start + BYTES_PER_LINE]
                if not chunk:
                    continue
                text = " ".join(f"{x:02X}" for x in chunk)
                comment = f.comment if start == 0 else ""
                lines.append(f"{f.offset + start:08X}: {text:<48} ; {comment}".rstrip())
        return "\n".join(lines) + "\n"
