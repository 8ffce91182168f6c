#!/usr/bin/env bash
# Regenerate gateway_src/requirements.lock: pip resolves picoclaw-gateway[all] for CPython PY_VERSION
# on manylinux x86_64 and aarch64 (tools/build-wheelhouse.sh with WHEELHOUSE_RESOLVE=1, i.e. without
# the lock), and every wheel's sha256 is written down (tools/requirements_lock.py write). Run it after
# changing a pin in pyproject.toml, then `make lint` (which checks pins and lock agree) and commit both.
#
# Usage: lock-requirements.sh [PY_VERSION]   (default 3.13: the python of the default base image)
# Env: PYTHON (default python3, needs pip), MAX_GLIBC (as build-wheelhouse.sh).
set -euo pipefail
py_version="${1:-3.13}"
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for arch in x86_64 aarch64; do
  WHEELHOUSE_RESOLVE=1 PYTHON="$PYTHON" bash "$tools/build-wheelhouse.sh" "$work/$arch" "$py_version" "$arch" >/dev/null
done
"$PYTHON" "$tools/requirements_lock.py" write "$tools/../requirements.lock" "$py_version" "$work/x86_64" "$work/aarch64"
"$PYTHON" "$tools/requirements_lock.py" check
