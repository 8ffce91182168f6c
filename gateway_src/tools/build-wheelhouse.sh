#!/usr/bin/env bash
# Build an offline wheelhouse for the PicoClaw gateway image (stable CLI: the gateway role calls it).
#
# Usage: build-wheelhouse.sh OUT_DIR PY_VERSION ARCH
#   OUT_DIR     directory to fill (created if missing). The script owns its *.whl files: wheels that
#               are no longer needed are removed, so the directory always matches the manifest.
#   PY_VERSION  target CPython "major.minor", e.g. 3.13 (the python of the image's base).
#   ARCH        target machine: x86_64 or aarch64 (amd64 and arm64 are accepted as aliases).
#
# Result: OUT_DIR/picoclaw_gateway-*.whl (built from this gateway_src with `pip wheel --no-deps`) plus
# every runtime dependency of `picoclaw-gateway[all]` as binary wheels for the target (manylinux
# glibc 2.17-${MAX_GLIBC} tags, cpXY ABI), exactly the versions and sha256 of GATEWAY_SRC/requirements.lock
# (`pip download --require-hashes`: two controllers get the same wheels or the build stops), and
# OUT_DIR/MANIFEST.sha256: one "sha256  file" line per
# wheel, sorted by name (`sha256sum -c` format). Hash the manifest to know whether anything changed.
# The image build then installs with `pip install --no-index --find-links`, needing no package index.
# The gateway wheel is reproducible (SOURCE_DATE_EPOCH), so an unchanged source gives the same manifest.
#
# Runs on the controller with bash >= 3.2 and POSIX tools only (macOS: /bin/bash 3.2, BSD find/tar/sed);
# hashing is done by $PYTHON (no sha256sum), so no GNU tool is needed.
# Env: PYTHON (default python3; needs pip, runs on the controller), GATEWAY_SRC (default: the
#      directory above this script), MAX_GLIBC (default 36: Debian 12; Debian 13 has 2.41),
#      SOURCE_DATE_EPOCH (default 315532800), WHEELHOUSE_RESOLVE=1 (let pip resolve freely, ignoring
#      the lock: only tools/lock-requirements.sh uses it, to write the lock).
# Prints the manifest path on stdout; exit 2 on bad arguments.
set -euo pipefail

usage() { sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//' >&2; }
die_usage() { echo "build-wheelhouse.sh: $*" >&2; usage; exit 2; }

[ $# -eq 3 ] || die_usage "expected 3 arguments (OUT_DIR PY_VERSION ARCH), got $#"
out_dir="$1"
py_version="$2"
arch="$3"
[[ "$py_version" =~ ^3\.[0-9]{1,2}$ ]] || die_usage "PY_VERSION must look like 3.13, got '$py_version'"
case "$arch" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) die_usage "ARCH must be x86_64 or aarch64, got '$arch'" ;;
esac

PYTHON="${PYTHON:-python3}"
GATEWAY_SRC="${GATEWAY_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
MAX_GLIBC="${MAX_GLIBC:-36}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-315532800}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! [[ "$MAX_GLIBC" =~ ^[0-9]+$ ]] || [ "$MAX_GLIBC" -lt 17 ]; then
  die_usage "MAX_GLIBC must be a number >= 17, got '$MAX_GLIBC'"
fi
[ -f "$GATEWAY_SRC/pyproject.toml" ] || die_usage "no pyproject.toml in GATEWAY_SRC=$GATEWAY_SRC"

abi="cp${py_version/./}"
platform_args=(--platform "manylinux2014_${arch}")
for ((minor = 17; minor <= MAX_GLIBC; minor++)); do
  platform_args+=(--platform "manylinux_2_${minor}_${arch}")
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Build from a clean copy: an in-tree build would write build/ and *.egg-info into gateway_src.
mkdir -p "$work/src" "$work/wheels"
cp "$GATEWAY_SRC/pyproject.toml" "$work/src/"
for extra in README.md README.rst LICENSE; do
  [ -f "$GATEWAY_SRC/$extra" ] && cp "$GATEWAY_SRC/$extra" "$work/src/"
done
(cd "$GATEWAY_SRC" && tar --exclude='__pycache__' --exclude='*.egg-info' --exclude='*.py[cod]' -cf - src) \
  | tar -C "$work/src" -xf -

"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$work/wheels" "$work/src"
gateway_wheel="$(find "$work/wheels" -maxdepth 1 -name 'picoclaw_gateway-*.whl' | head -n1)"
[ -n "$gateway_wheel" ] || { echo "build-wheelhouse.sh: the gateway wheel was not built" >&2; exit 1; }

download() {  # binary wheels for the target only, whatever python runs pip
  "$PYTHON" -m pip download --quiet --only-binary=:all: \
    --implementation cp --python-version "$py_version" --abi "$abi" --abi abi3 --abi none \
    "${platform_args[@]}" --find-links "$work/wheels" --dest "$work/wheels" "$@"
}
lock="$GATEWAY_SRC/requirements.lock"
if [ "${WHEELHOUSE_RESOLVE:-0}" = 1 ]; then
  download "${gateway_wheel}[all]"
else
  [ -f "$lock" ] || { echo "build-wheelhouse.sh: $lock is missing — fix: run tools/lock-requirements.sh" >&2; exit 1; }
  lock_python="$(sed -n 's/^# python: *//p' "$lock")"
  if [ "$lock_python" != "$py_version" ]; then
    echo "build-wheelhouse.sh: requirements.lock is for CPython ${lock_python:-?}, not $py_version" \
      "— fix: set picoclaw_base_python_version to $lock_python (a $lock_python base image) or run" \
      "tools/lock-requirements.sh $py_version" >&2
    exit 1
  fi
  download --require-hashes --no-deps -r "$lock"
fi
# pip evaluates dependency markers with the python running it, not the target: add what the target
# needs on top (e.g. audioop-lts for python >= 3.13), until nothing is missing.
for _round in 1 2 3 4 5; do
  # One name per line; read into an array without mapfile (bash 4 only).
  missing_text="$("$PYTHON" "$(dirname "${BASH_SOURCE[0]}")/wheelhouse_missing.py" \
    "$work/wheels" "$py_version" "$arch" "picoclaw-gateway[all]")"
  lacking=()
  while IFS= read -r name; do
    [ -n "$name" ] && lacking+=("$name")
  done <<<"$missing_text"
  [ "${#lacking[@]}" -eq 0 ] && break
  if [ "${WHEELHOUSE_RESOLVE:-0}" != 1 ]; then
    echo "build-wheelhouse.sh: requirements.lock lacks ${lacking[*]} — fix: run tools/lock-requirements.sh" >&2
    exit 1
  fi
  echo "build-wheelhouse.sh: adding for python ${py_version}: ${lacking[*]}" >&2
  download "${lacking[@]}"
done
[ "${#lacking[@]}" -eq 0 ] || { echo "build-wheelhouse.sh: still missing: ${lacking[*]}" >&2; exit 1; }

# Replace OUT_DIR's wheels with exactly the new set, then write the manifest.
mkdir -p "$out_dir"
find "$out_dir" -maxdepth 1 -name '*.whl' -delete
cp "$work/wheels"/*.whl "$out_dir/"
# "sha256  file" lines sorted by file name (the `sha256sum -c` format), written by Python: sha256sum is GNU.
"$PYTHON" - "$out_dir" <<'PY'
import hashlib, os, sys
out = sys.argv[1]
lines = []
for name in sorted(n for n in os.listdir(out) if n.endswith(".whl")):
    with open(os.path.join(out, name), "rb") as handle:
        lines.append("%s  %s\n" % (hashlib.sha256(handle.read()).hexdigest(), name))
with open(os.path.join(out, "MANIFEST.sha256.new"), "w") as handle:
    handle.writelines(lines)
os.replace(os.path.join(out, "MANIFEST.sha256.new"), os.path.join(out, "MANIFEST.sha256"))
PY

echo "build-wheelhouse.sh: $(wc -l <"$out_dir/MANIFEST.sha256") wheels for cp${py_version/./}-${arch} in $out_dir" >&2
printf '%s\n' "$out_dir/MANIFEST.sha256"
