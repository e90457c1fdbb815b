"""Small programs for the second writer, each a Module with the results a caller must get.

Every function of calls, imports (but one), data and table carries its CFA program (FORMAT.md §19); the
all-kinds programs and Appendix B's module have no unwind information (allowed, §19), so they stay 1.0/1.2 files.
The machine code was assembled by GNU as 2.40 (Intel syntax, every target an undefined symbol so that
it keeps rel32 forms and emits relocations); the bytes and each relocation's place and addend are
copied from `objdump -d -r`. ELF's relocation types map onto AotCache's as FORMAT.md §10 says:
R_X86_64_PLT32 -> FunctionPcRel32 or ThunkPcRel32, R_X86_64_PC32 -> DataPcRel32,
R_X86_64_GOTPCREL(X) / REX_GOTPCRELX -> SlotPcRel32, R_X86_64_64 -> Absolute64; ELF's A is stored as is.
Each program is written unprelinked, but Appendix B's module, which is prelinked as the appendix prints
it; emit_programs.py writes every one both ways.
"""

from . import spec
from .unwind import frameless, rsp_frame
from .writer import Module, Signature, Relocation

I64_TO_I64 = Signature.sysv([spec.I64], [spec.I64])
NONE_TO_I64 = Signature.sysv([], [spec.I64])
I64_I64_TO_I64 = Signature.sysv([spec.I64, spec.I64], [spec.I64])

R = Relocation
FN, DATA, ABS, SLOT, THUNK = (spec.FUNCTION_PC_REL32, spec.DATA_PC_REL32, spec.ABSOLUTE64,
                              spec.SLOT_PC_REL32, spec.THUNK_PC_REL32)


def h128(text: str) -> int:
    """A content hash for a test program: any non-zero 128-bit value the front end chooses (§8)."""
    import hashlib
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "little")


# Leaf functions shared by several programs.
DOUBLE_IT = bytes.fromhex("488d043f" "c3")  # lea rax, [rdi+rdi]; ret
ADD_ONE = bytes.fromhex("488d4701" "c3")  # lea rax, [rdi+1]; ret
NEGATE = bytes.fromhex("4889f8" "48f7d8" "c3")  # mov rax, rdi; neg rax; ret


def calls() -> Module:
    """(a) Calls between functions: call and tail-call jmp (FunctionPcRel32), a jcc to a function,
    and a jmp through the thunk rule to a defined function (ThunkPcRel32: L = S)."""
    m = Module(producer="aotcache-python 1", module_name="calls")
    m.add_function("double_it", I64_TO_I64, DOUBLE_IT, content_hash=h128("double_it"), unwind=frameless())
    m.add_function("add_one", I64_TO_I64, ADD_ONE, content_hash=h128("add_one"), unwind=frameless())
    m.add_function("negate", I64_TO_I64, NEGATE, content_hash=h128("negate"), unwind=frameless())
    m.add_function("twice_plus_one", I64_TO_I64, bytes.fromhex(
        "4883ec08"        # sub rsp, 8
        "e800000000"      # call double_it          +5  FunctionPcRel32 -4
        "4883c408"        # add rsp, 8
        "4889c7"          # mov rdi, rax
        "e900000000"),    # jmp add_one (tail call) +17 FunctionPcRel32 -4
        [R(5, FN, "double_it", -4), R(17, FN, "add_one", -4)], content_hash=h128("twice_plus_one"),
        unwind=rsp_frame(after_sub=4, after_add=13))
    m.add_function("abs_or_double", I64_TO_I64, bytes.fromhex(
        "4885ff"          # test rdi, rdi
        "0f8800000000"    # js negate               +5  FunctionPcRel32 -4
        "e900000000"),    # jmp double_it           +10 FunctionPcRel32 -4
        [R(5, FN, "negate", -4), R(10, FN, "double_it", -4)], content_hash=h128("abs_or_double"), unwind=frameless())
    m.add_function("via_thunk", I64_TO_I64, bytes.fromhex(
        "e900000000"),    # jmp add_one             +1  ThunkPcRel32 -4
        [R(1, THUNK, "add_one", -4)], unwind=frameless())
    m.add_dependency("twice_plus_one", "double_it", spec.FUNCTION_CONTENT, h128("double_it"))
    m.add_fingerprint("compiler", spec.VALUE_STRING, spec.MATCH_EQUAL, "aotcache-python 1")
    m.add_fingerprint("opt.level", spec.VALUE_INTEGER, spec.MATCH_INFORMATIONAL, 2)
    return m


def imports() -> Module:
    """(b) Imports: a host function through a thunk (ThunkPcRel32) and through a slot (SlotPcRel32,
    call [rip+slot]), host data through a slot, and a slot that holds a local function's address."""
    m = Module(producer="aotcache-python 1", module_name="imports")
    m.add_import_function("host_scale", I64_TO_I64)
    m.add_import_data("host_value")
    m.add_function("double_it", I64_TO_I64, DOUBLE_IT, linkage=spec.LINK_LOCAL)  # no unwind information: allowed (§19)
    m.add_function("call_thunk", I64_TO_I64, bytes.fromhex(
        "4883ec08"        # sub rsp, 8
        "e800000000"      # call host_scale         +5  ThunkPcRel32 -4
        "4883c408"        # add rsp, 8
        "c3"),            # ret
        [R(5, THUNK, "host_scale", -4)], unwind=rsp_frame(after_sub=4, after_add=13))
    m.add_function("call_slot", I64_TO_I64, bytes.fromhex(
        "4883ec08"        # sub rsp, 8
        "ff1500000000"    # call [rip+slot(host_scale)]  +6  SlotPcRel32 -4
        "4883c408"        # add rsp, 8
        "c3"),            # ret
        [R(6, SLOT, "host_scale", -4)], unwind=rsp_frame(after_sub=4, after_add=14))
    m.add_function("read_host_value", NONE_TO_I64, bytes.fromhex(
        "488b0500000000"  # mov rax, [rip+slot(host_value)]  +3  SlotPcRel32 -4
        "488b00"          # mov rax, [rax]
        "c3"),            # ret
        [R(3, SLOT, "host_value", -4)], unwind=frameless())
    m.add_function("slot_to_local", I64_TO_I64, bytes.fromhex(
        "ff2500000000"),  # jmp [rip+slot(double_it)]     +2  SlotPcRel32 -4
        [R(2, SLOT, "double_it", -4)], unwind=frameless())
    return m


def data() -> Module:
    """(c) Read-only, writable and zero-filled data reached RIP-relative (DataPcRel32), with the
    addends of an imm32 after the field (-8), an imm8 after it (-5), and offsets into an object."""
    m = Module(producer="aotcache-python 1", module_name="data")
    m.add_data("seven", spec.READ_ONLY, (7).to_bytes(8, "little"), alignment=8, content_hash=h128("seven=7"))
    m.add_data("text", spec.READ_ONLY, b"hello", alignment=1, content_hash=h128("text=hello"))
    m.add_data("counter", spec.WRITABLE, (5).to_bytes(8, "little"), alignment=8, content_hash=h128("counter=5"))
    m.add_data("scratch", spec.ZERO_FILLED, bytes(16), alignment=8, content_hash=h128("scratch"))
    m.add_function("bump", NONE_TO_I64, bytes.fromhex(
        "48810500000000" "00100000"  # add qword [rip+counter], 0x1000  +3  DataPcRel32 -8
        "488b0500000000"             # mov rax, [rip+counter]           +14 DataPcRel32 -4
        "c3"),                       # ret
        [R(3, DATA, "counter", -8), R(14, DATA, "counter", -4)], content_hash=h128("bump"), unwind=frameless())
    m.add_function("is_seven", NONE_TO_I64, bytes.fromhex(
        "31c0"                       # xor eax, eax
        "48833d00000000" "07"        # cmp qword [rip+seven], 7         +5  DataPcRel32 -5
        "0f94c0"                     # sete al
        "c3"),                       # ret
        [R(5, DATA, "seven", -5)], content_hash=h128("is_seven"), unwind=frameless())
    m.add_function("third_char", NONE_TO_I64, bytes.fromhex(
        "0fb60500000000"             # movzx eax, byte [rip+text+2]     +3  DataPcRel32 -2
        "c3"),                       # ret
        [R(3, DATA, "text", -2)], content_hash=h128("third_char"), unwind=frameless())
    m.add_function("stash", I64_TO_I64, bytes.fromhex(
        "48893d00000000"             # mov [rip+scratch+8], rdi         +3  DataPcRel32 +4
        "488b0500000000"             # mov rax, [rip+scratch+8]         +10 DataPcRel32 +4
        "c3"),                       # ret
        [R(3, DATA, "scratch", 4), R(10, DATA, "scratch", 4)], content_hash=h128("stash"), unwind=frameless())
    m.add_dependency("is_seven", "seven", spec.DATA_CONTENT, h128("seven=7"))
    return m


def table() -> Module:
    """(d) A function-pointer table in read-only data (Absolute64 to functions and to an imported
    function), indexed through a DataPcRel32 lea, and an Absolute64 movabs into the table's middle."""
    m = Module(producer="aotcache-python 1", module_name="table")
    m.add_import_function("host_scale", I64_TO_I64)
    m.add_function("add_one", I64_TO_I64, ADD_ONE, linkage=spec.LINK_LOCAL, unwind=frameless())
    m.add_function("double_it", I64_TO_I64, DOUBLE_IT, linkage=spec.LINK_LOCAL, unwind=frameless())
    m.add_function("negate", I64_TO_I64, NEGATE, linkage=spec.LINK_LOCAL, unwind=frameless())
    m.add_data("ops", spec.READ_ONLY, bytes(32), [
        R(0, ABS, "add_one", 0), R(8, ABS, "double_it", 0), R(16, ABS, "negate", 0), R(24, ABS, "host_scale", 0),
    ], alignment=8)
    m.add_function("apply", I64_I64_TO_I64, bytes.fromhex(
        "488d0500000000"             # lea rax, [rip+ops]               +3  DataPcRel32 -4
        "488b04f8"                   # mov rax, [rax+rdi*8]
        "4889f7"                     # mov rdi, rsi
        "ffe0"),                     # jmp rax
        [R(3, DATA, "ops", -4)], unwind=frameless())
    m.add_function("call_second", I64_TO_I64, bytes.fromhex(
        "48b80000000000000000"       # movabs rax, ops+8                +2  Absolute64 +8
        "488b00"                     # mov rax, [rax]
        "ffe0"),                     # jmp rax
        [R(2, ABS, "ops", 8)], unwind=frameless())
    return m


def all_kinds() -> Module:
    """(e) Every relocation kind under the canonical layout (FORMAT.md §16.2): a call (FunctionPcRel32),
    a tail jump to a defined function (ThunkPcRel32, L = S) and a call to an import (ThunkPcRel32 to its
    thunk); DataPcRel32 to read-only, writable (A = -5: an imm8 follows) and zero-filled data (A = +4);
    SlotPcRel32 to an imported function, imported data, a defined function and defined data; Absolute64
    in code (A = 8) and in data; and a SlotPcRel32 owned by a data object (a table of 32-bit offsets,
    ELF's R_X86_64_GOTPCREL in .rodata), the only thing that reaches add_one's slot: the slots of
    counter and negate, after it in symbol order, are numbered with it. The imported data host_value
    sorts between the two imported functions: it has a slot and no thunk."""
    m = Module(producer="aotcache-python 1", module_name="all-kinds")
    m.add_import_function("host_scale", I64_TO_I64)
    m.add_import_data("host_value")
    m.add_import_function("host_xor", I64_TO_I64)
    m.add_data("rel_table", spec.READ_ONLY, bytes(4), [R(0, SLOT, "add_one", 0)], alignment=4, content_hash=h128("rel_table"))
    m.add_data("ops", spec.READ_ONLY, bytes(16), [R(0, ABS, "negate", 0), R(8, ABS, "host_xor", 0)], alignment=8,
               content_hash=h128("ops"))
    m.add_data("counter", spec.WRITABLE, (17).to_bytes(8, "little"), alignment=8, content_hash=h128("counter=17"))
    m.add_data("scratch", spec.ZERO_FILLED, bytes(16), alignment=8, content_hash=h128("scratch"))
    m.add_function("add_one", I64_TO_I64, ADD_ONE, linkage=spec.LINK_LOCAL, content_hash=h128("add_one"))
    m.add_function("negate", I64_TO_I64, NEGATE, linkage=spec.LINK_LOCAL, content_hash=h128("negate"))
    m.add_function("add_two", I64_TO_I64, bytes.fromhex(
        "4883ec08"                   # sub rsp, 8
        "e800000000"                 # call add_one                     +5  FunctionPcRel32 -4
        "4889c7"                     # mov rdi, rax
        "4883c408"                   # add rsp, 8
        "e900000000"),               # jmp add_one                      +17 ThunkPcRel32 -4 (L = S)
        [R(5, FN, "add_one", -4), R(17, THUNK, "add_one", -4)], content_hash=h128("add_two"))
    m.add_function("via_data_slot", I64_TO_I64, bytes.fromhex(
        "488d0500000000"             # lea rax, [rip+rel_table]         +3  DataPcRel32 -4
        "486308"                     # movsxd rcx, dword [rax]          (slot(add_one) - rel_table)
        "4801c8"                     # add rax, rcx                     (rax = slot(add_one))
        "ff20"),                     # jmp [rax]
        [R(3, DATA, "rel_table", -4)], content_hash=h128("via_data_slot"))
    m.add_function("bump", NONE_TO_I64, bytes.fromhex(
        "48830500000000" "01"        # add qword [rip+counter], 1       +3  DataPcRel32 -5
        "488b0500000000"             # mov rax, [rip+slot(counter)]     +11 SlotPcRel32 -4
        "488b00"                     # mov rax, [rax]
        "c3"),                       # ret
        [R(3, DATA, "counter", -5), R(11, SLOT, "counter", -4)], content_hash=h128("bump"))
    m.add_function("stash", I64_TO_I64, bytes.fromhex(
        "48893d00000000"             # mov [rip+scratch+8], rdi         +3  DataPcRel32 +4
        "488b0500000000"             # mov rax, [rip+scratch+8]         +10 DataPcRel32 +4
        "c3"),                       # ret
        [R(3, DATA, "scratch", 4), R(10, DATA, "scratch", 4)], content_hash=h128("stash"))
    m.add_function("call_xor", I64_TO_I64, bytes.fromhex(
        "4883ec08"                   # sub rsp, 8
        "e800000000"                 # call host_xor                    +5  ThunkPcRel32 -4
        "4883c408"                   # add rsp, 8
        "c3"),                       # ret
        [R(5, THUNK, "host_xor", -4)], content_hash=h128("call_xor"))
    m.add_function("call_scale_slot", I64_TO_I64, bytes.fromhex(
        "ff2500000000"),             # jmp [rip+slot(host_scale)]       +2  SlotPcRel32 -4
        [R(2, SLOT, "host_scale", -4)], content_hash=h128("call_scale_slot"))
    m.add_function("read_host_value", NONE_TO_I64, bytes.fromhex(
        "488b0500000000"             # mov rax, [rip+slot(host_value)]  +3  SlotPcRel32 -4
        "488b00"                     # mov rax, [rax]
        "c3"),                       # ret
        [R(3, SLOT, "host_value", -4)], content_hash=h128("read_host_value"))
    m.add_function("negate_slot", I64_TO_I64, bytes.fromhex(
        "ff2500000000"),             # jmp [rip+slot(negate)]           +2  SlotPcRel32 -4
        [R(2, SLOT, "negate", -4)], content_hash=h128("negate_slot"))
    m.add_function("dispatch", I64_I64_TO_I64, bytes.fromhex(
        "488d0500000000"             # lea rax, [rip+ops]               +3  DataPcRel32 -4
        "488b04f8"                   # mov rax, [rax+rdi*8]
        "4889f7"                     # mov rdi, rsi
        "ffe0"),                     # jmp rax
        [R(3, DATA, "ops", -4)], content_hash=h128("dispatch"))
    m.add_function("second_op", I64_TO_I64, bytes.fromhex(
        "48b80000000000000000"       # movabs rax, ops+8                +2  Absolute64 +8
        "488b00"                     # mov rax, [rax]
        "ffe0"),                     # jmp rax
        [R(2, ABS, "ops", 8)], content_hash=h128("second_op"))
    return m


def all_kinds_paged() -> Module:
    """(f) all_kinds with its last function on a page of its own (alignment 4096): its code is more than
    a page, so that a loader can run the first page of a prelinked file's code as the file holds it,
    mapped straight from the file (FORMAT.md §16.2, "Code used as is"; §16.3)."""
    m = all_kinds()
    m.module_name = "all-kinds-paged"
    m.functions[-1].alignment = 4096
    return m


def spec_example() -> Module:
    """FORMAT.md Appendix B's module, from the appendix's prose and listing: prelinked (format 1.2),
    as the appendix prints it."""
    m = Module(producer="spec-example", module_name="example", prelinked=True)
    i64_to_void = Signature.sysv([spec.I64], [])
    m.declare(NONE_TO_I64)
    m.declare(i64_to_void)
    m.add_import_function("host_print", i64_to_void)
    m.add_data("greeting", spec.READ_ONLY, b"hello!\n\0", alignment=8)
    m.add_function("answer", NONE_TO_I64, bytes.fromhex("b82a000000" "c3"), alignment=16)
    m.add_function("main", NONE_TO_I64, bytes.fromhex(
        "4883ec08"                   # sub rsp, 8
        "488d3d00000000"             # lea rdi, [rip+greeting]          +7  DataPcRel32 -4
        "e800000000"                 # call host_print                  +12 ThunkPcRel32 -4
        "e800000000"                 # call answer                      +17 FunctionPcRel32 -4
        "4883c408"                   # add rsp, 8
        "c3"),                       # ret
        [R(7, DATA, "greeting", -4), R(12, THUNK, "host_print", -4), R(17, FN, "answer", -4)],
        alignment=16, content_hash=int("8799a08b846417097aa0ce1d74154f1e", 16))  # as the appendix prints it
    m.add_fingerprint("compiler.version", spec.VALUE_STRING, spec.MATCH_EQUAL, "1.0")
    return m


ALL = {"calls": calls, "imports": imports, "data": data, "table": table, "all-kinds": all_kinds, "all-kinds-paged": all_kinds_paged,
       "spec-example": spec_example}
