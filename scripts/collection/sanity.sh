#!/usr/bin/env bash
# ansible-test sanity on the collection's plugins and unit tests, on Python 3.11, no docker; then
# compile and import of the modules on the other target Pythons (see below).
# Usage: scripts/collection/sanity.sh [extra ansible-test args, e.g. --test pylint]
# The first run on a machine creates the per-test virtualenvs from PyPI (a few minutes); later runs,
# from any clone or worktree, reuse them (sanity-env.sh).
set -euo pipefail
# shellcheck source=scripts/collection/tree.sh
source "$(dirname "${BASH_SOURCE[0]}")/tree.sh"
# shellcheck source=scripts/collection/sanity-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/sanity-env.sh"

build_collection_tree
lock_ansible_test_home
prepare_ansible_test_home
cd "${COLLECTION_TREE}"
export HOME="${ANSIBLE_TEST_HOME}"
# changelog: `make lint` already runs antsibull-changelog lint (and a release rehearsal) on the fragments.
ansible-test sanity --local --python 3.11 --color no --skip-test changelog \
    "$@" plugins/ tests/unit/ scripts/collection/ scripts/lib.sh

# Modules run on the managed host's Python: check they (and the shared validator) compile and import
# on the oldest target ansible-core 2.19 supports (3.8) and on Debian 13's (3.13); 3.11 (Debian 12)
# is the run above.
for version in 3.8 3.13; do
    bin_dir="$(find_python "${version}")"
    if [ -z "${bin_dir}" ]; then
        echo "WARNING: no Python ${version} on PATH or under pyenv; compile/import on ${version} skipped" >&2
        continue
    fi
    PATH="${bin_dir}:${PATH}" ansible-test sanity --local --python "${version}" --color no \
        --test compile --test import plugins/
done
