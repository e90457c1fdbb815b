"""Writes the unwind-information vectors (FORMAT.md §19): `python3 make_unwind_vectors.py [VECTORS_DIR]`.

Kept apart from make_vectors.py, whose Draft machinery it uses: one valid file with an Unwind section
(a frame-pointer function with a mid-function epilogue, a function without unwind information, a leaf)
and a malformed file per rule [UNW-1] to [UNW-5], each breaking one field (`<== BROKEN`). The expected
`cachedump --json` of the valid one (unwind.json) is written by the C# harness (AOTCACHE_ACCEPT=1).
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aotcache import spec, unwind  # noqa: E402
from aotcache.fields import u8, u32, u64  # noqa: E402
from aotcache.vectorfile import parse  # noqa: E402
from aotcache.writer import Module  # noqa: E402
from make_vectors import Draft, I64_TO_I64  # noqa: E402

# framed(x): x ? x : 0, with an rbp frame and two epilogues (gcc -O0 -fno-omit-frame-pointer style).
FRAMED = bytes.fromhex(
    "55"        # 0  push rbp
    "4889e5"    # 1  mov rbp, rsp
    "4885ff"    # 4  test rdi, rdi
    "7405"      # 7  jz 14
    "4889f8"    # 9  mov rax, rdi
    "5d"        # 12 pop rbp
    "c3"        # 13 ret
    "31c0"      # 14 xor eax, eax
    "5d"        # 16 pop rbp
    "c3")       # 17 ret
FRAMED_CFI = bytes.fromhex(
    "41" "0e10" "8602"  # at 1: CFA = rsp+16, rbp at cfa-16
    "43" "0d06"         # at 4: CFA = rbp+16
    "49" "0a" "0c0708"  # at 13: remember; CFA = rsp+8 (after the first pop rbp)
    "41" "0b"           # at 14: restore: CFA = rbp+16 again
    "43" "0c0708")      # at 17: CFA = rsp+8


def module() -> Module:
    """Three functions: framed (rbp frame, remember/restore around its first epilogue), plain (no unwind
    information: index NONE), leaf (frameless: an FDE with an empty program)."""
    m = Module(module_name="unwind", code_alignment=16)
    m.add_function("framed", I64_TO_I64, FRAMED, unwind=FRAMED_CFI)
    m.add_function("plain", I64_TO_I64, bytes.fromhex("b801000000" "c3"))  # mov eax, 1; ret
    m.add_function("leaf", I64_TO_I64, bytes.fromhex("31c0" "c3"), unwind=unwind.frameless())  # xor eax, eax; ret
    return m


def program_byte(d: Draft, k: int, at: int) -> int:
    return d.at(f"Unwind.fde[{k}].program", at)


def patch_program(d: Draft, k: int, at: int, data: bytes, comment: str) -> Draft:
    key = f"Unwind.fde[{k}].program"
    old = d.fields.get(key).data
    return d.brk(key, old[:at] + data + old[at + len(data):], comment)


def unwind_entry(d: Draft) -> int:
    return d.entry(spec.UNWIND)


def vectors():
    yield Draft("unwind", "Unwind information (format 1.3): a frame-pointer function, one without unwind information, a leaf.", module,
                ["framed's CFA program remembers the state before its first epilogue and restores it after the ret;",
                 "plain has no unwind entry (NONE); leaf's FDE has an empty program: CFA = rsp + 8 throughout."]).valid(
        "UNW-1", "UNW-2", "UNW-3", "UNW-4", "UNW-5", "SEC-6", findings=["REC-7", "REC-7", "REC-7"])

    d = Draft("sec-6-unwind-section-required", "The Unwind section carries the required flag.", module)
    i = unwind_entry(d)
    yield d.brk(f"directory[{i}].flags", u32(1), "  flags 1 (required)").error("SectionFlagMismatch", d.at(f"directory[{i}].flags"))

    d = Draft("unw-1-section-too-small", "An Unwind section of 8 bytes, for 3 functions (index, padding and terminator need 20).", module)
    start = d.fields.index("Unwind.index[0]")
    d.fields.fields = [f for f in d.fields.fields if not f.key.startswith("Unwind.")]
    d.fields.fields.insert(start, type(d.fields.fields[0])("Unwind.index", bytes(8), "unwind entries of functions 0 and 1, then nothing  <== BROKEN"))
    i = unwind_entry(d)
    d.fields.set(f"directory[{i}].size", u64(8), "  size 8")
    d.fields.refresh_file_size()
    yield d.error("BadUnwindSection", d.at("Unwind.index"))

    d = Draft("unw-1-nonzero-padding", "The padding between the unwind index and the CFI area is not zero.", module)
    yield d.brk("Unwind.padding", u32(1), "padding").error("BadUnwindSection", d.at("Unwind.padding"))

    d = Draft("unw-2-record-not-a-multiple-of-8", "framed's FDE is 4 bytes longer than the multiple of 8 it fills.", module)
    yield d.brk("Unwind.fde[0].length", u32(48), "FDE of framed: length 48").error("BadUnwindRecord", d.at("Unwind.fde[0].length"))

    d = Draft("unw-2-record-past-the-terminator", "leaf's FDE, the last record, claims 8 bytes more than are left.", module)
    yield d.brk("Unwind.fde[2].length", u32(36), "FDE of leaf: length 36").error("BadUnwindRecord", d.at("Unwind.fde[2].length"))

    d = Draft("unw-2-no-terminator", "The CFI area's last 4 bytes are not zero.", module)
    yield d.brk("Unwind.terminator", u32(0x10), "terminator 0x10").error("BadUnwindRecord", d.at("Unwind.terminator"))

    d = Draft("unw-3-cie-with-another-encoding", "The CIE gives pointers as pcrel sdata4 (0x1B), gcc's usual choice, not textrel udata8.", module)
    cie = d.fields.get("Unwind.cie").data
    yield d.brk("Unwind.cie", cie[:16] + b"\x1b" + cie[17:], "CIE with pointer encoding 0x1B").error("BadUnwindCie", d.at("Unwind.cie", 16))

    d = Draft("unw-3-cie-pointer-elsewhere", "leaf's FDE points 8 bytes past the CIE.", module)
    ptr = int.from_bytes(d.fields.get("Unwind.fde[2].cie_pointer").data, "little")
    yield d.brk("Unwind.fde[2].cie_pointer", u32(ptr - 8), f"  CIE pointer {ptr - 8}").error("BadUnwindCie", d.at("Unwind.fde[2].cie_pointer"))

    d = Draft("unw-3-fde-augmentation-data", "framed's FDE says it has 1 byte of augmentation data.", module)
    yield d.brk("Unwind.fde[0].augmentation", u8(1), "  augmentation data length 1").error("BadUnwindCie", d.at("Unwind.fde[0].augmentation"))

    d = Draft("unw-4-pc-begin-without-the-bias", "leaf's FDE begins at its code offset, not at 0x1000 + code offset.", module)
    pc = int.from_bytes(d.fields.get("Unwind.fde[2].pc_begin").data, "little")
    yield d.brk("Unwind.fde[2].pc_begin", u64(pc - unwind.TEXT_BIAS), f"  pc_begin {pc - unwind.TEXT_BIAS}").error(
        "UnwindCoverageMismatch", d.at("Unwind.fde[2].pc_begin"))

    d = Draft("unw-4-pc-range-one-byte-short", "framed's FDE covers 17 of its 18 bytes.", module)
    yield d.brk("Unwind.fde[0].pc_range", u64(17), "  pc_range 17").error("UnwindCoverageMismatch", d.at("Unwind.fde[0].pc_range"))

    d = Draft("unw-4-fdes-out-of-order", "The index names leaf's FDE for framed and framed's for leaf.", module)
    e0, e2 = d.fields.get("Unwind.index[0]").data, d.fields.get("Unwind.index[2]").data
    d.brk("Unwind.index[0]", e2, "unwind entry of function 0 (framed): leaf's FDE")
    d.brk("Unwind.index[2]", e0, "unwind entry of function 2 (leaf): framed's FDE")
    yield d.error("UnwindCoverageMismatch", d.at("Unwind.index[0]"))

    d = Draft("unw-4-entry-names-no-fde", "plain's entry names an offset where no FDE starts.", module)
    yield d.brk("Unwind.index[1]", u32(0x100), "unwind entry of function 1 (plain): +256").error("UnwindCoverageMismatch", d.at("Unwind.index[1]"))

    d = Draft("unw-4-fde-of-no-function", "leaf's entry is NONE, but its FDE is still there.", module)
    yield d.brk("Unwind.index[2]", u32(spec.NONE), "unwind entry of function 2 (leaf): none").error(
        "UnwindCoverageMismatch", d.at("Unwind.fde[2].length"))

    d = Draft("unw-5-dwarf-expression", "framed's program uses DW_CFA_expression (0x10), outside the subset.", module)
    yield patch_program(d, 0, 6, bytes([0x10]), "  CFA program with DW_CFA_expression at +6").error("BadCfaProgram", program_byte(d, 0, 6))

    d = Draft("unw-5-cfa-from-rax", "framed's program computes the CFA from rax.", module)
    yield patch_program(d, 0, 6, bytes([0x0D, 0x00]), "  CFA program: DW_CFA_def_cfa_register rax at +6").error("BadCfaProgram", program_byte(d, 0, 6))

    d = Draft("unw-5-restore-state-without-remember", "framed's DW_CFA_remember_state became a DW_CFA_nop.", module)
    yield patch_program(d, 0, 9, bytes([0x00]), "  CFA program without its DW_CFA_remember_state").error("BadCfaProgram", program_byte(d, 0, 14))

    d = Draft("unw-5-advance-past-the-end", "leaf's program advances to +4; leaf has 3 bytes of code.", module)
    pad = d.fields.get("Unwind.fde[2].padding").data
    yield d.brk("Unwind.fde[2].padding", b"\x44" + pad[1:], "  CFA program: advance 4").error("BadCfaProgram", d.at("Unwind.fde[2].padding"))


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "spec" / "vectors"
    count = 0
    for d in vectors():
        folder = "valid" if d.expect == "valid" else "malformed"
        text = d.text()
        path = root / folder / f"{d.name}.txt"
        parse(text, str(path))  # the generator's output must read back
        path.write_text(text, encoding="utf-8")
        count += 1
    print(f"{count} vectors written to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
