#!/usr/bin/env bash
# Unit tests of the collection's plugins (tests/unit), run with pytest from the
# build/ansible_collections/picoclaw/stack copy so imports resolve exactly as in
# an installed collection (ansible_collections.picoclaw.stack...).
# Two processes: once a controller plugin (filter, action) is imported, ansible-core treats the
# process as the controller and module warnings go to the display instead of the module result,
# so the modules' tests (which run on the host in real life) get a process of their own.
# Usage: scripts/collection/units.sh [pytest args, e.g. -k backup]
set -euo pipefail
# shellcheck source=scripts/collection/tree.sh
source "$(dirname "${BASH_SOURCE[0]}")/tree.sh"

build_collection_tree
cd "${COLLECTION_TREE}"
status=0
for suite in "tests/unit/plugins/modules" "tests/unit/plugins/filter tests/unit/plugins/action"; do
    # shellcheck disable=SC2086  # $suite is a list of directories
    PYTHONPATH="${COLLECTION_BUILD_DIR}${PYTHONPATH:+:${PYTHONPATH}}" \
        "${VENV_BIN}/python" -m pytest -p no:cacheprovider --rootdir "${COLLECTION_TREE}" \
        ${suite} "$@" || { rc=$?; [ "${rc}" -eq 5 ] || status=${rc}; }  # 5: -k selected nothing here
done
exit "${status}"
