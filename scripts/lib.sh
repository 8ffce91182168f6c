#!/usr/bin/env bash
# Sourced by the scripts under scripts/: where the repository, the pinned tool venv and the machine-wide
# cache are, in one place. Puts the venv's bin first on PATH, so a script may be run by `make` (which
# exports PATH and PICOCLAW_VENV) or by hand from anywhere.
#   REPO_ROOT       the checkout this script belongs to
#   VENV_BIN        the pinned tools: ${PICOCLAW_VENV:-$REPO_ROOT/.venv}/bin
#   PICOCLAW_CACHE  survives clones and worktrees of this machine (default ~/.cache/picoclaw)
#   find_python X.Y a directory holding a real pythonX.Y (PATH, then pyenv), empty when there is none

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_BIN="${PICOCLAW_VENV:-${REPO_ROOT}/.venv}/bin"
PICOCLAW_CACHE="${PICOCLAW_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/picoclaw}"
case ":${PATH}:" in *":${VENV_BIN}:"*) ;; *) PATH="${VENV_BIN}:${PATH}" ;; esac
export REPO_ROOT VENV_BIN PICOCLAW_CACHE PATH

find_python() {
    local version="$1" candidate dir pyenv_root
    # A pyenv shim answers `command -v` even for a version it cannot run: ask the interpreter itself.
    candidate="$(command -v "python${version}" 2>/dev/null || true)"
    if [ -n "${candidate}" ] && "${candidate}" -c 'import sys' >/dev/null 2>&1 \
        && [[ "${candidate}" != */shims/* ]]; then
        dirname "${candidate}"
        return
    fi
    pyenv_root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-${HOME}/.pyenv}")"
    for dir in "${pyenv_root}/versions/${version}".*/bin; do
        [ -x "${dir}/python${version}" ] && candidate="${dir}"
    done
    [ -d "${candidate}" ] && echo "${candidate}"
    return 0
}
