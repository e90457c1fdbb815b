"""Assembles every vector of spec/vectors with this package's parser of the text form and prints
`NAME SHA256` (NAME relative to the vectors directory, '/'-separated), so that another parser's
result can be compared byte for byte: `python3 check_vectors.py [VECTORS_DIR]`."""

import hashlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aotcache.vectorfile import parse  # noqa: E402


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "spec" / "vectors"
    for path in sorted(root.rglob("*.txt")):
        name = path.relative_to(root).as_posix()
        vector = parse(path.read_text(encoding="utf-8"), name)
        print(name, hashlib.sha256(vector.data).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
