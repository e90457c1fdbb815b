"""Writes the second writer's programs: `python3 emit_programs.py OUTDIR [NAME...]`.

Each program twice: OUTDIR/NAME.aotc unprelinked (format 1.0: every relocation field as the code
gives it) and OUTDIR/NAME.prelinked.aotc prelinked (format 1.2, [REL-10]: every PC-relative field of
every function holds its value in the canonical layout, FORMAT.md §16.2). Beside each file,
NAME[.prelinked].fields.tsv lists its fields (offset, length, key, one a line), so that a test can say
which field a differing byte belongs to; NAME.layout.tsv gives the canonical layout's offset of every
defined function and data object (name, offset from the region's base, one a line), the same for both
files. Files are written with mode 0644 (no one but their owner can change them), so that a loader may
map their code pages from the file (FORMAT.md §16.3).

Before writing, each file is read back by this package's own reader (aotcache/reader.py): a prelinked
file whose fields [REL-10] would refuse, or a file whose flag is not what was asked, is an error.
"""

import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from aotcache import programs, reader  # noqa: E402

VARIANTS = (("", False), (".prelinked", True))


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = pathlib.Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    names = argv[2:] or list(programs.ALL)
    for name in names:
        for suffix, prelinked in VARIANTS:
            module = programs.ALL[name]()
            module.prelinked = prelinked
            fields = module.build()
            fields.renumber()
            data = fields.to_bytes()
            if reader.read(data).prelinked != prelinked:
                raise SystemExit(f"{name}{suffix}: the prelinked flag is not what was asked")
            mismatch = reader.check_prelinked(data)
            if mismatch is not None:
                raise SystemExit(f"{name}{suffix}: [REL-10] broken at offset {mismatch[0]}: {mismatch[1]}")
            path = out / f"{name}{suffix}.aotc"
            path.write_bytes(data)
            os.chmod(path, 0o644)
            (out / f"{name}{suffix}.fields.tsv").write_text(
                "".join(f"{f.offset}\t{len(f.data)}\t{f.key}\n" for f in fields.fields), encoding="utf-8")
            print(path.name)
        layout = programs.ALL[name]().canonical_layout()
        (out / f"{name}.layout.tsv").write_text(
            "".join(f"{s.name}\t{layout.address(i)}\n" for i, s in enumerate(layout.view.symbols) if layout.address(i) is not None),
            encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
