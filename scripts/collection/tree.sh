#!/usr/bin/env bash
# Copy the collection (git-tracked and new, non-ignored files) to
# build/ansible_collections/picoclaw/stack, the layout ansible-test needs.
# Sourced by sanity.sh and units.sh; sets COLLECTION_TREE.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# COLLECTION_BUILD_DIR lets two gates run side by side without sharing a tree.
COLLECTION_BUILD_DIR="${COLLECTION_BUILD_DIR:-${REPO_ROOT}/build}"
COLLECTION_TREE="${COLLECTION_BUILD_DIR}/ansible_collections/picoclaw/stack"
export REPO_ROOT COLLECTION_BUILD_DIR COLLECTION_TREE

build_collection_tree() {
    rm -rf "${COLLECTION_TREE}"
    mkdir -p "${COLLECTION_TREE}"
    # -c tracked, -o untracked but not ignored: .venv, build/ and caches stay out.
    (cd "${REPO_ROOT}" \
        && git ls-files -z -c -o --exclude-standard --deduplicate \
        | while IFS= read -r -d '' f; do
              case "$f" in
                  # Tool caches and the clone-local collections path (a symlink back to
                  # the repo) are not part of the collection.
                  .ansible/*|.collections/*|.cache/*) continue ;;
              esac
              # Skip files deleted in the work tree but still in the index.
              if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
          done \
        | tar --null --no-recursion -T - -cf -) \
        | tar -C "${COLLECTION_TREE}" -xf -
    # ansible-test finds its files with git from the nearest .git upwards; without
    # one here it would use the project repo, where build/ is ignored. A throwaway
    # repo (nothing added or committed) makes it list this tree's files instead.
    git -C "${COLLECTION_TREE}" init -q
}
