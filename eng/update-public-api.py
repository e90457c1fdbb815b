#!/usr/bin/env python3
"""Brings each library's PublicAPI.Unshipped.txt in line with its code (docs/CONTRIBUTING.md, "Public API").

Rebuilds the libraries with warnings not treated as errors, then adds every symbol the public API analyzer reports as
undeclared (RS0016) to the Unshipped file of its project and removes every declared one that no longer exists
(RS0017). Run it after a change of the public surface, review `git diff`, then build normally.
"""
import collections, os, re, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Rebuilt (not incrementally: an up-to-date project reports nothing): Codegen brings Format, Reader and Writer; then Loader.
output, returncode = "", 0
for project in ["writer/AotCache.Codegen/AotCache.Codegen.csproj", "loader/AotCache.Loader/AotCache.Loader.csproj"]:
    build = subprocess.run(["dotnet", "build", os.path.join(root, project), "--no-incremental", "-p:TreatWarningsAsErrors=false",
                            "-nodeReuse:false"], capture_output=True, text=True)
    output, returncode = output + build.stdout, returncode or build.returncode
pattern = re.compile(r"warning (RS0016|RS0017): Symbol '(.*?)' is .*?\[(.*?\.csproj)")
added, removed = collections.defaultdict(set), collections.defaultdict(set)
for m in pattern.finditer(output):
    project = os.path.dirname(m.group(3).split("::")[0])
    (added if m.group(1) == "RS0016" else removed)[project].add(m.group(2))
for project in sorted(set(added) | set(removed)):
    path = os.path.join(project, "PublicAPI.Unshipped.txt")
    lines = [l for l in open(path).read().splitlines() if l and not l.startswith("#")]
    lines = (set(lines) - removed[project]) | added[project]
    with open(path, "w") as f:
        f.write("#nullable enable\n" + "".join(l + "\n" for l in sorted(lines, key=lambda x: (x.lower(), x))))
    print(f"{os.path.relpath(path, root)}: +{len(added[project])} -{len(removed[project])}")
if returncode != 0 and not (added or removed):
    sys.stdout.write(output[-4000:])
    sys.exit(returncode)
