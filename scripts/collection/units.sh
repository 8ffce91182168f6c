#!/usr/bin/env bash
# Unit tests of the collection's modules (tests/unit), run with pytest from the
# build/ansible_collections/picoclaw/stack copy so imports resolve exactly as in
# an installed collection (ansible_collections.picoclaw.stack...).
# Usage: scripts/collection/units.sh [pytest args, e.g. -k backup]
set -euo pipefail
# shellcheck source=scripts/collection/tree.sh
source "$(dirname "${BASH_SOURCE[0]}")/tree.sh"

build_collection_tree
cd "${COLLECTION_TREE}"
PYTHONPATH="${COLLECTION_BUILD_DIR}${PYTHONPATH:+:${PYTHONPATH}}" \
    "${VENV_BIN}/python" -m pytest -p no:cacheprovider --rootdir "${COLLECTION_TREE}" \
    tests/unit "$@"
