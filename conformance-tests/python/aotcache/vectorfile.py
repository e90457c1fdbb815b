"""Reads the annotated-hex vector files of spec/vectors (their grammar is in spec/vectors/README.md):
directives, then one hex line per field; assembles the bytes and applies the @fixup directive."""

from dataclasses import dataclass, field
import re
import struct

from .xxh3 import xxh3_64

_DATA = re.compile(r"^(?P<offset>[0-9A-Fa-f]{8}):\s+(?P<body>[^;]*?)\s*(?:;.*)?$")
_ZERO_RUN = re.compile(r"^\.\.\s+(?P<n>\d+)\s+zero bytes\s+\.\.$")
_HEX = re.compile(r"^[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})*$")


class VectorSyntaxError(ValueError):
    pass


@dataclass
class Vector:
    name: str
    data: bytes = b""
    expect: str = ""              # "valid" or "error"
    error_code: str = ""
    error_number: int = 0
    error_offset: int = 0
    requirements: list = field(default_factory=list)
    fixup: str = "none"           # "none", "checksums" or "file-checksum"
    trusted_hmac_keys: list = field(default_factory=list)  # (name, secret bytes)
    require_signature: bool = False
    message_contains: list = field(default_factory=list)
    findings: list | None = None  # recommendation IDs of --verify --strict, or None: not stated


def parse(text: str, name: str = "vector") -> Vector:
    v = Vector(name)
    out = bytearray()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        if line.startswith("@"):
            _directive(v, line[1:].split(), where, line)
            continue
        m = _DATA.match(line)
        if not m:
            raise VectorSyntaxError(f"{where}: not a directive, comment or data line: {raw}")
        offset = int(m["offset"], 16)
        if offset != len(out):
            raise VectorSyntaxError(f"{where}: line says offset 0x{offset:X}, but {len(out)} (0x{len(out):X}) bytes precede it")
        body = m["body"].strip()
        run = _ZERO_RUN.match(body)
        if run:
            out += bytes(int(run["n"]))
        elif _HEX.match(body):
            out += bytes.fromhex(body)
        else:
            raise VectorSyntaxError(f"{where}: neither hex bytes nor a zero run: {body!r}")
    if v.expect not in ("valid", "error"):
        raise VectorSyntaxError(f"{name}: no @expect directive")
    v.data = apply_fixup(bytes(out), v.fixup)
    return v


def _directive(v: Vector, words, where, line):
    kind = words[0] if words else ""
    args = words[1:]
    if kind == "expect" and args == ["valid"]:
        v.expect = "valid"
    elif kind == "expect" and len(args) == 5 and args[0] == "error" and args[3] == "at":
        v.expect, v.error_code, v.error_number, v.error_offset = "error", args[1], int(args[2]), int(args[4], 0)
    elif kind == "requirement" and args:
        v.requirements += args
    elif kind == "fixup" and len(args) == 1 and args[0] in ("none", "checksums", "file-checksum"):
        v.fixup = args[0]
    elif kind == "trust" and len(args) == 3 and args[0] == "hmac-sha256":
        v.trusted_hmac_keys.append((args[1], bytes.fromhex(args[2])))
    elif kind == "require-signature" and not args:
        v.require_signature = True
    elif kind == "findings" and args:
        v.findings = [] if args == ["none"] else sorted(args)
    elif kind == "message-contains" and args:
        v.message_contains.append(line[len("@message-contains"):].strip())
    else:
        raise VectorSyntaxError(f"{where}: unknown or malformed directive: {line}")


def apply_fixup(data: bytes, fixup: str) -> bytes:
    """@fixup checksums: each directory entry's checksum (in directory order, for sections that lie
    inside the file), then the file checksum. @fixup file-checksum: the file checksum only. Files shorter
    than the 128-byte header are left as they are."""
    b = bytearray(data)
    if fixup == "checksums" and len(b) >= 128:
        count = struct.unpack_from("<I", b, 80)[0]
        if count > 64 or 128 + 40 * count > len(b):
            raise VectorSyntaxError("@fixup checksums needs a readable directory; write the section checksums out and use @fixup file-checksum")
        for i in range(count):
            at = 128 + 40 * i
            offset, size = struct.unpack_from("<QQ", b, at + 8)
            if offset + size <= len(b):
                struct.pack_into("<Q", b, at + 32, xxh3_64(bytes(b[offset:offset + size])))
    if fixup in ("checksums", "file-checksum") and len(b) >= 128:
        b[24:32] = bytes(8)
        struct.pack_into("<Q", b, 24, xxh3_64(bytes(b)))
    return bytes(b)
