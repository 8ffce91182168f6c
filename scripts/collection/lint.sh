#!/usr/bin/env bash
# ansible-lint (production profile, config in .ansible-lint) over the collection.
# Usage: scripts/collection/lint.sh [ansible-lint args]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "${REPO_ROOT}"
ansible-lint --offline --nocolor "$@"
