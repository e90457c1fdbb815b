#!/usr/bin/env bash
# nib, native: publishes the Nib front end as a NativeAOT executable the first time (and again only when a source it
# is built from changed), then runs it with the given arguments; none runs the tour. A warm `nib run` then starts in
# milliseconds instead of the JIT's few hundred. Same as: dotnet publish tools/demo -c Release -r linux-x64, then
# tools/demo/bin/Release/net10.0/linux-x64/publish/nib ARGS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
exe="$here/bin/Release/net10.0/linux-x64/publish/nib"

# Up to date when no source, project or build setting it is built from is newer than the executable.
stale() {
  [ ! -x "$exe" ] && return 0
  [ -n "$(find "$root/spec/AotCache.Format" "$root/loader/AotCache.Reader" "$root/loader/AotCache.Loader" "$root/writer" \
      "$root/tools/demo" "$root/tools/remote" "$root/Directory.Build.props" "$root/Directory.Packages.props" "$root/global.json" \
      \( -path '*/bin' -o -path '*/obj' \) -prune -o \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' -o -name '*.nib' \) -newer "$exe" -print -quit 2>/dev/null)" ]
}

if stale; then
  echo "nib.sh: publishing nib as a native executable (NativeAOT; a minute or two the first time)..." >&2
  dotnet publish "$here/AotCache.Demo.csproj" -c Release -r linux-x64 --nologo -v quiet >&2
  touch "$exe" # an up-to-date publish leaves the old file: mark it current
fi
exec "$exe" "$@"
