#!/usr/bin/env bash
# Runs each `make <gate>` in turn, keeps going after a failure so one run shows every broken gate,
# prints the time of each, a closing "gates: N passed, N failed" line and the total wall time;
# exits 1 if any failed.
set -u
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "${REPO_ROOT}" || exit 1
passed=() failed=()
total_start=$SECONDS
for gate in "$@"; do
  printf '\n===== make %s =====\n' "$gate"
  start=$SECONDS
  if make --no-print-directory "$gate"; then
    passed+=("$gate($((SECONDS - start))s)")
  else
    failed+=("$gate($((SECONDS - start))s)")
  fi
done
printf '\npassed: %s\n' "${passed[*]:-none}"
printf 'failed: %s\n' "${failed[*]:-none}"
printf 'gates: %d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
total=$((SECONDS - total_start))
printf 'total wall time: %ds (%dm%02ds)\n' "${total}" $((total / 60)) $((total % 60))
[ "${#failed[@]}" -eq 0 ]
