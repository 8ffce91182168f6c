#!/usr/bin/env bash
# Runs each `make <gate>` in turn, keeps going after a failure so one run shows every broken gate,
# prints the time of each and a closing "gates: N passed, N failed" line; exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."
passed=() failed=()
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
[ "${#failed[@]}" -eq 0 ]
