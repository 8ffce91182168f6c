#!/usr/bin/env bash
# Build the collection tarball into build/, check what it ships, install it into
# a temporary collections path and prove the installed copy works:
#   * the tarball holds roles, plugins, playbooks, site.yml, meta, README, changelogs and
#     the gateway sources, and none of the tests, molecule, benchmarks, caches or venvs;
#   * plugins/module_utils/config_validator/ (one symlink per file of the gateway's validator
#     package) ships every module, each resolving to a regular file of the tarball;
#   * `ansible-playbook picoclaw.stack.site --syntax-check` passes from the install;
#   * both modules run from the install (the validator import resolves).
# Usage: scripts/collection/build.sh
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
OUT="${REPO_ROOT}/build"
VERSION="$(sed -n 's/^version: *//p' "${REPO_ROOT}/galaxy.yml")"
TARBALL="${OUT}/picoclaw-stack-${VERSION}.tar.gz"
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

mkdir -p "${OUT}"
(cd "${REPO_ROOT}" && "${VENV_BIN}/ansible-galaxy" collection build --force --output-path "${OUT}" .)
echo "built ${TARBALL} ($(stat -c %s "${TARBALL}") bytes)"

LISTING="$(mktemp)"
WORK="$(mktemp -d)"
trap 'rm -rf "${LISTING}" "${WORK}"' EXIT
tar -tzf "${TARBALL}" | sed 's#^\./##; s#/$##' | sort > "${LISTING}"
echo "$(wc -l < "${LISTING}") entries in the tarball"

# --- must be present -------------------------------------------------------------
for path in MANIFEST.json FILES.json README.md meta/runtime.yml site.yml playbooks/site.yml \
    changelogs/config.yaml changelogs/changelog.yaml \
    plugins/modules/picoclaw_config.py plugins/modules/workspace_backup.py \
    plugins/module_utils/workspace_archive.py plugins/module_utils/config_validator/__init__.py \
    roles/docker/tasks/main.yml roles/gateway/tasks/main.yml \
    gateway_src/pyproject.toml gateway_src/Dockerfile gateway_src/README.md \
    gateway_src/src/picoclaw_gateway/__init__.py gateway_src/src/picoclaw_gateway/config_validator/__init__.py; do
    if grep -qxF "${path}" "${LISTING}"; then ok "ships ${path}"; else fail "tarball lacks ${path}"; fi
done
for dir in gateway_src/tools gateway_src/docs gateway_src/examples; do
    if grep -q "^${dir}/." "${LISTING}"; then ok "ships ${dir}/"; else fail "tarball lacks files under ${dir}/"; fi
done

# The validator package: every module of the gateway's copy is in module_utils too, and each
# module_utils entry is a regular file or a symlink to a regular file inside the tarball.
VALIDATOR_SRC="gateway_src/src/picoclaw_gateway/config_validator"
VALIDATOR_UTILS="plugins/module_utils/config_validator"
if "${VENV_BIN}/python" - "${TARBALL}" "${REPO_ROOT}/${VALIDATOR_SRC}" "${VALIDATOR_UTILS}" <<'PY'
import os.path, pathlib, sys, tarfile
tarball, package, utils = sys.argv[1:]
with tarfile.open(tarball) as tar:
    members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
bad = []
for module in sorted(pathlib.Path(package).glob("*.py")):
    entry = members.get(f"{utils}/{module.name}")
    if entry is not None and entry.issym():
        target = os.path.normpath(os.path.join(utils, entry.linkname))
        entry = members.get(target)
    if entry is None or not entry.isfile():
        bad.append(module.name)
if bad:
    sys.exit(f"validator modules missing or dangling in {utils}/: {', '.join(bad)}")
PY
then
    ok "ships the validator package: every module in ${VALIDATOR_UTILS}/ resolves to a file of the tarball"
else
    fail "the tarball's ${VALIDATOR_UTILS}/ is incomplete or has dangling links"
fi

# --- must be absent --------------------------------------------------------------
forbidden='^(tests|molecule|scripts|build|dist|\.venv|\.cache|\.ansible|\.collections|\.ci|gateway_src/tests|gateway_src/bench)(/|$)'
forbidden+='|(^|/)(__pycache__|\.pytest_cache|\.ruff_cache|\.hypothesis|\.git[^/]*)(/|$)'
forbidden+='|\.pyc$|\.egg-info(/|$)|^gateway_src/wheelhouse/.'
if grep -E "${forbidden}" "${LISTING}" > "${WORK}/forbidden.txt"; then
    fail "tarball ships $(wc -l < "${WORK}/forbidden.txt") excluded paths, e.g.:"
    head -20 "${WORK}/forbidden.txt" >&2
else
    ok "no tests, molecule, benchmarks, CI scripts, caches, venvs or wheels"
fi

# --- the installed collection works ---------------------------------------------
# A bare directory: no ansible.cfg from the repo (its collections_path points at the clone).
cd "${WORK}"
printf '[defaults]\n' > "${WORK}/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="${WORK}/collections" ANSIBLE_CONFIG="${WORK}/ansible.cfg" ANSIBLE_NOCOLOR=1
"${VENV_BIN}/ansible-galaxy" collection install --no-deps --force -p "${WORK}/collections" "${TARBALL}" >/dev/null  # deps come with the ansible package
INSTALLED="${WORK}/collections/ansible_collections/picoclaw/stack"
unresolved=0
for module in "${REPO_ROOT}/${VALIDATOR_SRC}"/*.py; do
    installed_module="${INSTALLED}/${VALIDATOR_UTILS}/$(basename "${module}")"
    # -f follows symlinks: a dangling link fails; the content must be the package's own.
    if [ ! -f "${installed_module}" ] || ! cmp -s "${installed_module}" "${module}"; then
        fail "installed ${VALIDATOR_UTILS}/$(basename "${module}") is missing, dangling or differs from ${VALIDATOR_SRC}"
        unresolved=$((unresolved + 1))
    fi
done
[ "${unresolved}" -eq 0 ] && ok "installed ${VALIDATOR_UTILS}/ resolves to the package's files"

# Modules run with the system Python a Debian host has (not the controller venv).
TARGET_PYTHON="$(command -v /usr/bin/python3 || echo "${VENV_BIN}/python")"
if "${VENV_BIN}/ansible-playbook" -i localhost, picoclaw.stack.site --syntax-check > "${WORK}/syntax.log" 2>&1; then
    ok "ansible-playbook picoclaw.stack.site --syntax-check (installed collection)"
else
    fail "ansible-playbook picoclaw.stack.site --syntax-check failed:"
    cat "${WORK}/syntax.log" >&2
fi

# No host matched is an error, not a silent success; restore.yml refuses several hosts. Neither contacts a
# host (-c local: nothing would run anywhere else even if it did).
if "${VENV_BIN}/ansible-playbook" -i vps, -c local picoclaw.stack.site > "${WORK}/nohost.log" 2>&1; then
    fail "ansible-playbook -i vps, picoclaw.stack.site succeeded although no host is in group picoclaw"
elif grep -q "No host to run on: the host pattern 'picoclaw'" "${WORK}/nohost.log"; then
    ok "picoclaw.stack.site with no host in picoclaw_hosts fails and says why"
else
    fail "picoclaw.stack.site with no matched host failed without the expected message:"
    cat "${WORK}/nohost.log" >&2
fi
if "${VENV_BIN}/ansible-playbook" -i vps1,vps2, -c local picoclaw.stack.restore -e picoclaw_hosts=all \
        > "${WORK}/restore-many.log" 2>&1; then
    fail "picoclaw.stack.restore on two hosts was not refused"
elif grep -q "restore.yml targets 2 hosts" "${WORK}/restore-many.log" && ! grep -q "TASK \[picoclaw.stack.gateway : List" "${WORK}/restore-many.log"; then
    ok "picoclaw.stack.restore on two hosts is refused at its first task"
else
    fail "picoclaw.stack.restore on two hosts failed without the expected refusal:"
    cat "${WORK}/restore-many.log" >&2
fi

example="${INSTALLED}/gateway_src/examples/telegram-openrouter.json"
if "${VENV_BIN}/ansible" localhost -i localhost, -c local -m picoclaw.stack.picoclaw_config -e "ansible_python_interpreter=${TARGET_PYTHON}" \
        -a "path=${example}" > "${WORK}/config.log" 2>&1 && grep -q '"valid": true' "${WORK}/config.log"; then
    ok "picoclaw.stack.picoclaw_config runs from the installed collection"
else
    fail "picoclaw.stack.picoclaw_config failed from the installed collection:"
    cat "${WORK}/config.log" >&2
fi

mkdir -p "${WORK}/stack/config"
cp "${example}" "${WORK}/stack/config/config.json"
if "${VENV_BIN}/ansible" localhost -i localhost, -c local -m picoclaw.stack.workspace_backup -e "ansible_python_interpreter=${TARGET_PYTHON}" \
        -a "stack_dir=${WORK}/stack dest=${WORK}/backups" > "${WORK}/backup.log" 2>&1 \
        && [ -n "$(find "${WORK}/backups" -name 'picoclaw-*.tar.gz')" ]; then
    ok "picoclaw.stack.workspace_backup runs from the installed collection"
else
    fail "picoclaw.stack.workspace_backup failed from the installed collection:"
    cat "${WORK}/backup.log" >&2
fi

if [ "${failures}" -ne 0 ]; then
    echo "build check: ${failures} failure(s)" >&2
    exit 1
fi
echo "build check: all passed"
