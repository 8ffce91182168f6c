#!/usr/bin/env bash
# Regenerate the gateway's seccomp allowlist: build the image offline (as tests/image does), trace the
# whole flow with the host's strace, merge with the hand-kept sets, check the result by running the
# same flow under it, and print the counts. Run from anywhere, as root, with a Docker engine:
#   bash scripts/seccomp/generate.sh            # writes roles/gateway/files/seccomp/picoclaw.json
# Then prove it: .venv/bin/pytest tests/image/test_escape_attempts.py and `molecule test`.
# PROFILE_OUT=FILE writes the profile elsewhere (e.g. to compare before replacing the shipped one).
# On an aarch64 machine the trace lands in traced/aarch64.txt; build_profile.py merges every traced/*.txt
# (aarch64.txt into an arm64-only rule, so it never widens the x86_64 filter).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../lib.sh"
repo=$REPO_ROOT
python=${PYTHON:-$VENV_BIN/python}
arch=$(uname -m)
image=picoclaw-seccomp-trace:$(date +%s)
out=${PROFILE_OUT:-$repo/roles/gateway/files/seccomp/picoclaw.json}
sandbox_out=${SANDBOX_PROFILE_OUT:-$repo/roles/gateway/files/seccomp/picoclaw-sandbox.json}
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rmi --force "$image" >/dev/null 2>&1 || true' EXIT

bash "$repo/scripts/images/build-test-images.sh" --only python
ctx=$work/context
mkdir -p "$ctx"
for f in Dockerfile .dockerignore pyproject.toml requirements.lock README.md LICENSE; do
    [ -e "$repo/gateway_src/$f" ] && cp "$repo/gateway_src/$f" "$ctx/"
done
cp -r "$repo/gateway_src/src" "$ctx/src"
find "$ctx/src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
pyver=$(docker run --rm --network none --entrypoint python3 picoclaw-test/python:3.13-trixie \
    -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
PYTHON=$python bash "$repo/gateway_src/tools/build-wheelhouse.sh" "$ctx/wheelhouse" "$pyver" "$arch"
docker build --quiet --network none --build-arg BASE_IMAGE=picoclaw-test/python:3.13-trixie -t "$image" "$ctx"

if [ "${ONLY:-}" != sandbox ]; then
"$python" "$repo/scripts/seccomp/trace_gateway.py" --image "$image" --out "$repo/scripts/seccomp/traced/$arch.txt"
# aarch64 without an arm machine: TRACE_AARCH64=1 retraces it under qemu-user (trace_aarch64_qemu.py,
# needs qemu-user-static and debootstrap); its names are allowed on arm64 only.
if [ "${TRACE_AARCH64:-0}" = 1 ] && [ "$arch" != aarch64 ]; then
    "$python" "$repo/scripts/seccomp/trace_aarch64_qemu.py" --out "$repo/scripts/seccomp/traced/aarch64.txt"
fi
"$python" "$repo/scripts/seccomp/build_profile.py" --out "$out"
# The same flow again, under the new profile: it must work, and strace shows what the profile refused.
"$python" "$repo/scripts/seccomp/trace_gateway.py" --image "$image" \
    --seccomp "$out" --out "$work/under-profile.txt"
"$python" "$repo/scripts/seccomp/count.py" "$out"
fi

# The tools sandbox container (ONLY=sandbox: this part alone): its own trace through the tools' workloads.
# The gateway's aarch64 trace (its tools ran in-process then) feeds the arm64-only rule.
if [ "${ONLY:-}" != gateway ]; then
"$python" "$repo/scripts/seccomp/trace_sandbox.py" --image "$image" --out "$repo/scripts/seccomp/traced/sandbox/$arch.txt"
"$python" "$repo/scripts/seccomp/build_profile.py" --out "$sandbox_out" \
    --traced "$repo/scripts/seccomp/traced/sandbox/$arch.txt" "$repo/scripts/seccomp/traced/aarch64.txt" \
    --comment "PicoClaw tools sandbox allowlist; regenerate with ONLY=sandbox scripts/seccomp/generate.sh"
"$python" "$repo/scripts/seccomp/trace_sandbox.py" --image "$image" \
    --seccomp "$sandbox_out" --out "$work/sandbox-under-profile.txt"
"$python" "$repo/scripts/seccomp/count.py" "$sandbox_out"
fi
