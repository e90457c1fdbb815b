"""Writes the second writer's programs: `python3 emit_programs.py OUTDIR [NAME...]`.

For each program, OUTDIR/NAME.aotc is the file and OUTDIR/NAME.fields.tsv lists its fields
(offset, length, key, one a line), so that a test can say which field a differing byte belongs to.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from aotcache import programs  # noqa: E402


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = pathlib.Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    names = argv[2:] or list(programs.ALL)
    for name in names:
        fields = programs.ALL[name]().build()
        fields.renumber()
        (out / f"{name}.aotc").write_bytes(fields.to_bytes())
        (out / f"{name}.fields.tsv").write_text(
            "".join(f"{f.offset}\t{len(f.data)}\t{f.key}\n" for f in fields.fields), encoding="utf-8")
        print(f"{name}.aotc")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
