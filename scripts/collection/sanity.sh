#!/usr/bin/env bash
# ansible-test sanity on the collection's plugins and unit tests, on Python 3.11, no docker.
# Usage: scripts/collection/sanity.sh [extra ansible-test args, e.g. --test pylint]
# First run creates the per-test virtualenvs from PyPI (a few minutes); later runs reuse them.
set -euo pipefail
# shellcheck source=scripts/collection/tree.sh
source "$(dirname "${BASH_SOURCE[0]}")/tree.sh"
# shellcheck source=scripts/collection/sanity-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/sanity-env.sh"

build_collection_tree
prepare_ansible_test_home
cd "${COLLECTION_TREE}"
export HOME="${ANSIBLE_TEST_HOME}"
"${REPO_ROOT}/.venv/bin/ansible-test" sanity --local --python 3.11 --color no \
    "$@" plugins/ tests/unit/ scripts/collection/

# Modules run on the managed host's Python: check they (and the shared validator)
# compile and import on the oldest target ansible-core 2.19 supports (3.8) and on
# Debian 13's (3.13), when pyenv has them.
for version in 3.8 3.13; do
    bin_dir=""
    for candidate in "${PYENV_ROOT:-/root/.pyenv}/versions/${version}".*/bin; do
        [ -x "${candidate}/python${version}" ] && bin_dir="${candidate}"
    done
    if [ -z "${bin_dir}" ]; then
        echo "WARNING: no Python ${version} under pyenv; compile/import on ${version} skipped" >&2
        continue
    fi
    PATH="${bin_dir}:${PATH}" "${REPO_ROOT}/.venv/bin/ansible-test" sanity --local --python "${version}" --color no \
        --test compile --test import plugins/
done
