#!/usr/bin/env bash
# ansible-lint (production profile, config in .ansible-lint) over the collection.
# Usage: scripts/collection/lint.sh [ansible-lint args]
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${REPO_ROOT}"
PATH="${REPO_ROOT}/.venv/bin:${PATH}" "${REPO_ROOT}/.venv/bin/ansible-lint" --offline --nocolor "$@"
