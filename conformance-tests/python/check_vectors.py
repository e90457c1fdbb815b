"""Assembles every vector of spec/vectors with this package's parser of the text form and prints
`NAME SHA256` (NAME relative to the vectors directory, '/'-separated), so that another parser's
result can be compared byte for byte: `python3 check_vectors.py [VECTORS_DIR]`.

It also checks [REL-10] on its own (aotcache/reader.py, aotcache/canonical.py: the canonical layout as
this package reads FORMAT.md §16.2), wherever that check alone decides a vector's outcome: every valid
vector whose header has the prelinked flag must hold canonical values in all its prelinked fields, and
every malformed vector that expects PrelinkMismatch must break [REL-10] first at exactly the stated
offset. A disagreement is printed to standard error and makes the exit status 1. (Other vectors are not
validated here: their other breaches come first in FORMAT.md §14's order, or their flag is unset.)
"""

import hashlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aotcache import reader  # noqa: E402
from aotcache.vectorfile import parse  # noqa: E402


def check_rel_10(vector):
    """None when this package's [REL-10] check agrees with the vector's expectation (or does not
    decide it); else what disagrees."""
    prelinked = reader.has_prelinked_flag(vector.data)
    if vector.expect == "valid":
        if not prelinked:
            return None
        found = reader.check_prelinked(vector.data)
        return None if found is None else f"valid, but [REL-10] breaks at {found[0]} (0x{found[0]:X}): {found[1]}"
    if vector.error_code != "PrelinkMismatch":
        return None
    if not prelinked:
        return "expects PrelinkMismatch, but the prelinked flag is not set"
    found = reader.check_prelinked(vector.data)
    if found is None:
        return "expects PrelinkMismatch, but every prelinked field holds its canonical value"
    if found[0] != vector.error_offset:
        return f"expects PrelinkMismatch at {vector.error_offset} (0x{vector.error_offset:X}), but [REL-10] breaks first at {found[0]} (0x{found[0]:X}): {found[1]}"
    return None


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "spec" / "vectors"
    failures = 0
    for path in sorted(root.rglob("*.txt")):
        name = path.relative_to(root).as_posix()
        vector = parse(path.read_text(encoding="utf-8"), name)
        print(name, hashlib.sha256(vector.data).hexdigest())
        problem = check_rel_10(vector)
        if problem is not None:
            print(f"{name}: {problem}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
