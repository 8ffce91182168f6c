#!/usr/bin/env bash
# Sourced by sanity.sh: prepares the offline-capable environment ansible-test sanity needs.
#
# * ansible-test runs every sanity test in its own virtualenv under ~/.ansible/test.
#   HOME points at $PICOCLAW_CACHE/ansible-test-home (scripts/lib.sh): those are reused by every
#   later run on this machine, from any clone or worktree (CI runs in a fresh clone). One sanity
#   run at a time uses it (a lock), so two never build the same virtualenv at once.
# * Those virtualenvs are bootstrapped with a get-pip script downloaded from
#   ci-files.testing.ansible.com, which this network cannot reach. The stand-in below
#   uses the stdlib's ensurepip, then pip installs the pinned packages from PyPI
#   (pip's global config on the machine still applies).
set -euo pipefail

ANSIBLE_TEST_HOME="${PICOCLAW_CACHE}/ansible-test-home"
export ANSIBLE_TEST_HOME

lock_ansible_test_home() {  # held until the sourcing script exits
    mkdir -p "${ANSIBLE_TEST_HOME}"
    exec {ansible_test_lock}>"${ANSIBLE_TEST_HOME}.lock"
    if ! flock -n "${ansible_test_lock}"; then
        echo "waiting for another sanity run on this machine (${ANSIBLE_TEST_HOME}.lock)" >&2
        flock "${ansible_test_lock}"
    fi
}

prepare_ansible_test_home() {
    local cache="${ANSIBLE_TEST_HOME}/.ansible/test/cache"
    local pip_version
    pip_version="$("${VENV_BIN}/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
class _P:  # minimal PythonConfig stand-in: only .version is read
    version = "3.11"
print(get_venv_packages(_P())["pip"])
PY
)"
    mkdir -p "${cache}"
    cat > "${cache}/get_pip_${pip_version//./_}.py" <<'PY'
"""Offline stand-in for ansible-test's get-pip bootstrap script."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)
PY
}
