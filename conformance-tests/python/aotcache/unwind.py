"""Unwind information (FORMAT.md §19), written from the spec: the Unwind section's index, its one CIE
and an FDE per function that has a CFA program, as annotated fields.

A function's `unwind` is its CFA program (bytes of the §19.3 subset), or None for no unwind
information. `frameless()` and `rsp_frame(...)` give the programs of the second writer's functions.
"""

from . import spec
from .fields import u32, u64

TEXT_BIAS = 0x1000  # §19.2: pc_begin = 0x1000 + code offset
# §19.2, byte for byte.
CIE = bytes.fromhex("14000000" "00000000" "01" "7a5200" "01" "78" "10" "01" "24" "0c0708" "9001" "0000")
FDE_HEADER = 25


def frameless() -> bytes:
    """A function that never moves rsp: the CIE's rules hold throughout."""
    return b""


def advance(delta: int) -> bytes:
    """The shortest DW_CFA_advance_loc form."""
    if delta < 64:
        return bytes([0x40 | delta])
    if delta < 0x100:
        return bytes([0x02, delta])
    if delta < 0x10000:
        return bytes([0x03]) + delta.to_bytes(2, "little")
    return bytes([0x04]) + delta.to_bytes(4, "little")


def rsp_frame(after_sub: int, after_add: int, size: int = 8) -> bytes:
    """`sub rsp, size` ending at after_sub, `add rsp, size` ending at after_add: CFA = rsp + 8 + size
    between them (DW_CFA_def_cfa_offset), rsp + 8 again after."""
    return advance(after_sub) + bytes([0x0E, 8 + size]) + advance(after_add - after_sub) + bytes([0x0E, 8])


def describe(program: bytes) -> str:
    """The program's instructions, for a vector's comment."""
    out, i = [], 0
    while i < len(program):
        op = program[i]
        i += 1
        if op & 0xC0 == 0x40:
            out.append(f"advance {op & 0x3F}")
        elif op & 0xC0 == 0x80:
            out.append(f"r{op & 0x3F} at cfa-{8 * program[i]}")
            i += 1
        elif op & 0xC0 == 0xC0:
            out.append(f"restore r{op & 0x3F}")
        elif op == 0x0E:
            out.append(f"cfa offset {program[i]}")
            i += 1
        elif op == 0x0D:
            out.append(f"cfa register r{program[i]}")
            i += 1
        elif op == 0x0C:
            out.append(f"cfa r{program[i]}+{program[i + 1]}")
            i += 2
        elif op == 0x02:
            out.append(f"advance {program[i]}")
            i += 1
        else:
            out.append(f"op 0x{op:02x}")
    return "; ".join(out)


def fields(functions, code_offsets):
    """(key, bytes, comment) of the Unwind section for the file's functions, in function-table order."""
    n = len(functions)
    start = (4 * n + 7) // 8 * 8
    offsets, at = [], len(CIE)
    for f in functions:
        if f.unwind is None:
            offsets.append(None)
            continue
        offsets.append(at)
        at += (FDE_HEADER + len(f.unwind) + 7) // 8 * 8
    out = []
    for k, f in enumerate(functions):
        o = offsets[k]
        out.append((f"Unwind.index[{k}]", u32(spec.NONE if o is None else o),
                    f"unwind entry of function {k} ({f.name}): " + ("none" if o is None else f"FDE at +{o}")))
    if start > 4 * n:
        out.append(("Unwind.padding", bytes(start - 4 * n), "padding"))
    out.append(("Unwind.cie", CIE, "CIE: length 20, id 0, version 1, \"zR\", code align 1, data align -8, "
                                   "return address r16, pointers textrel udata8, cfa rsp+8, r16 at cfa-8, nop nop"))
    for k, f in enumerate(functions):
        o = offsets[k]
        if o is None:
            continue
        size = (FDE_HEADER + len(f.unwind) + 7) // 8 * 8
        out += [
            (f"Unwind.fde[{k}].length", u32(size - 4), f"FDE of {f.name} at +{o}: length {size - 4}"),
            (f"Unwind.fde[{k}].cie_pointer", u32(o + 4), f"  CIE pointer {o + 4} (back to the CIE at +0)"),
            (f"Unwind.fde[{k}].pc_begin", u64(TEXT_BIAS + code_offsets[k]), f"  pc_begin 0x1000 + code offset {code_offsets[k]}"),
            (f"Unwind.fde[{k}].pc_range", u64(len(f.code)), f"  pc_range {len(f.code)}"),
            (f"Unwind.fde[{k}].augmentation", bytes([0]), "  augmentation data length 0"),
        ]
        if f.unwind:
            out.append((f"Unwind.fde[{k}].program", f.unwind, "  CFA program: " + describe(f.unwind)))
        if size > FDE_HEADER + len(f.unwind):
            out.append((f"Unwind.fde[{k}].padding", bytes(size - FDE_HEADER - len(f.unwind)), "  DW_CFA_nop padding"))
    out.append(("Unwind.terminator", u32(0), "terminator"))
    return out
