#!/usr/bin/env bash
# A stand-in for PyPI, for a deploy whose controller has no pip (the gateway role's `host` image route:
# the host's image build installs from a package index). Fills OUT_DIR/simple/<project>/ (PEP 503 layout:
# a directory listing served by `python3 -m http.server` is a valid project page) with exactly the
# locked wheels for the gateway image (gateway_src/tools/build-wheelhouse.sh, hashes checked) and the
# build backend the gateway's pyproject.toml asks for. Built on this machine (it has pip), cached:
# rebuilt only when requirements.lock or this script changes.
# Usage: package-index.sh OUT_DIR [PY_VERSION] [ARCH]   (defaults 3.13 x86_64)
set -euo pipefail
out="${1:?usage: package-index.sh OUT_DIR [PY_VERSION] [ARCH]}"
py_version="${2:-3.13}"
arch="${3:-x86_64}"
project="$(cd "$(dirname "$0")/../.." && pwd)"
stamp="$(cat "$project/gateway_src/requirements.lock" "$0" | sha256sum | cut -c1-16)-$py_version-$arch"
if [ "$(cat "$out/.stamp" 2>/dev/null || true)" = "$stamp" ]; then exit 0; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash "$project/gateway_src/tools/build-wheelhouse.sh" "$work/wheels" "$py_version" "$arch" >/dev/null
# The gateway itself is built from source on the host; only its build backend comes from the index.
rm -f "$work/wheels"/picoclaw_gateway-*.whl
python3 -m pip download --quiet --only-binary=:all: --no-deps --dest "$work/wheels" 'setuptools>=68' wheel packaging  # wheel needs packaging
for wheel in "$work/wheels"/*.whl; do
  name="$(basename "$wheel" | cut -d- -f1 | tr '[:upper:]_.' '[:lower:]--')"
  mkdir -p "$work/index/simple/$name"
  cp "$wheel" "$work/index/simple/$name/"
done
printf '%s\n' "$stamp" >"$work/index/.stamp"
rm -rf "$out.new"
mkdir -p "$(dirname "$out")"
cp -r "$work/index" "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
echo "package-index.sh: $(find "$out/simple" -name '*.whl' | wc -l) wheels in $out" >&2
