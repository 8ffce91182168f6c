#!/usr/bin/env bash
# Changelog gate: `antsibull-changelog lint` on the fragments, then a release rehearsal
# (`antsibull-changelog release`) in a throwaway copy to prove the fragments and the
# modules' version_added render into CHANGELOG.rst. The repo's changelogs are not touched.
# Usage: scripts/collection/changelog.sh
set -euo pipefail
# shellcheck source=scripts/collection/tree.sh
source "$(dirname "${BASH_SOURCE[0]}")/tree.sh"

cd "${REPO_ROOT}"
antsibull-changelog lint
echo "ok: antsibull-changelog lint"

COLLECTION_BUILD_DIR="${REPO_ROOT}/build/changelog-rehearsal"
COLLECTION_TREE="${COLLECTION_BUILD_DIR}/ansible_collections/picoclaw/stack"
build_collection_tree
version="$(sed -n 's/^version: *//p' "${REPO_ROOT}/galaxy.yml")"
cd "${COLLECTION_TREE}"
# antsibull-changelog asks ansible-doc (from the venv, first on PATH: lib.sh) about the modules.
ANSIBLE_COLLECTIONS_PATH="${COLLECTION_BUILD_DIR}" antsibull-changelog release --version "${version}"
for module in picoclaw_config workspace_backup; do
    grep -q "picoclaw.stack.${module} - " CHANGELOG.rst || { echo "FAIL: ${module} missing from CHANGELOG.rst" >&2; exit 1; }
done
echo "ok: release ${version} rehearsal lists both modules in CHANGELOG.rst"
