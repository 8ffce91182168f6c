#!/usr/bin/env bash
# Build the registry-free base images the tests use, from Debian packages (debootstrap + docker import):
#   picoclaw-test/python:3.13-trixie  Debian 13 minbase + python3, python3-venv, ca-certificates.
#                                     Stands in for the official python:3.13-slim as the gateway base.
#   picoclaw-test/host:trixie         Debian 13 with systemd as PID 1: the molecule "server" platform.
# Each image carries a label with a hash of its recipe; an image is rebuilt only when it is missing
# or its recipe changed (or with --force). Safe to run concurrently (flock).
#
# Usage: build-test-images.sh [--only python|host] [--force] [--save-python TARBALL]
#   --save-python TARBALL  also `docker save` the python image to TARBALL (rewritten only when the
#                          image id changed; the id is kept in TARBALL.id) for `docker load` elsewhere.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), PYTHON_IMAGE, HOST_IMAGE.
# Prints the image names, one per line, on stdout at the end; progress and timings go to stderr.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
PYTHON_IMAGE="${PYTHON_IMAGE:-picoclaw-test/python:3.13-trixie}"
HOST_IMAGE="${HOST_IMAGE:-picoclaw-test/host:trixie}"
LOCK_FILE=/var/tmp/picoclaw-test-images.lock
RECIPE_LABEL=org.picoclaw.test.recipe
# Bump when the post-bootstrap steps below change, so cached images get rebuilt.
RECIPE_REVISION=1

PYTHON_PACKAGES=python3,python3-venv,ca-certificates
HOST_PACKAGES=python3,systemd,systemd-sysv,dbus,ca-certificates,procps,iproute2,python3-apt,python3-requests,iptables,kmod

only=""
force=0
save_python=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="${2:?--only needs python or host}"; shift 2 ;;
    --force) force=1; shift ;;
    --save-python) save_python="${2:?--save-python needs a tarball path}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in ""|python|host) ;; *) echo "--only must be python or host, got: $only" >&2; exit 2 ;; esac

log() { printf '[build-test-images] %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || { log "docker does not answer: run scripts/ci/install-docker.sh first"; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { log "debootstrap missing: run scripts/ci/install-docker.sh first"; exit 1; }

recipe_hash() {  # $1 = package list, $2 = extra recipe text
  printf '%s\n' "$RECIPE_REVISION" "$SUITE" "$MIRROR" "$1" "$2" | sha256sum | cut -c1-16
}

image_is_current() {  # $1 = image, $2 = recipe hash
  local have
  have="$(docker image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null || true)"
  [ "$force" -eq 0 ] && [ "$have" = "$2" ]
}

# Fill $1 with a minimal Debian rootfs holding the given packages, without caches or docs.
bootstrap_rootfs() {  # $1 = dir, $2 = comma-separated packages
  local blog="$1.debootstrap.log"
  WORKDIRS+=("$blog")
  if ! debootstrap --variant=minbase --include="$2" "$SUITE" "$1" "$MIRROR" >"$blog" 2>&1; then
    log "debootstrap failed; last lines of its log:"; tail -n 30 "$blog" >&2
    [ -f "$1/debootstrap/debootstrap.log" ] && tail -n 30 "$1/debootstrap/debootstrap.log" >&2
    exit 1
  fi
  chroot "$1" apt-get clean
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log \
         "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/*
  # Each container must get its own machine id (systemd generates one when the file is empty).
  : >"$1/etc/machine-id"
  rm -f "$1/var/lib/dbus/machine-id"
}

import_rootfs() {  # $1 = dir, $2 = image, then --change arguments
  local dir="$1" image="$2"
  shift 2
  tar --numeric-owner -C "$dir" -c . | docker import "$@" - "$image" >/dev/null
}

build_python() {
  local hash
  hash="$(recipe_hash "$PYTHON_PACKAGES" "python-links-v1")"
  if image_is_current "$PYTHON_IMAGE" "$hash"; then log "$PYTHON_IMAGE is current (cached)"; return; fi
  local start=$SECONDS dir
  dir="$(mktemp -d /var/tmp/picoclaw-rootfs.XXXXXX)"
  WORKDIRS+=("$dir")
  log "building $PYTHON_IMAGE from $SUITE ($MIRROR)"
  bootstrap_rootfs "$dir" "$PYTHON_PACKAGES"
  # The official python image has its interpreter in /usr/local/bin; offer the same paths here so
  # a Dockerfile works unchanged on both bases.
  ln -sf /usr/bin/python3 "$dir/usr/local/bin/python3"
  ln -sf /usr/bin/python3 "$dir/usr/local/bin/python"
  chroot "$dir" python3 -m venv /tmp/venv-check >/dev/null
  rm -rf "$dir/tmp/venv-check"
  import_rootfs "$dir" "$PYTHON_IMAGE" \
    --change "LABEL $RECIPE_LABEL=$hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]'
  rm -rf "$dir"
  log "built $PYTHON_IMAGE in $((SECONDS - start))s"
}

build_host() {
  local hash
  hash="$(recipe_hash "$HOST_PACKAGES" "systemd-host-v1")"
  if image_is_current "$HOST_IMAGE" "$hash"; then log "$HOST_IMAGE is current (cached)"; return; fi
  local start=$SECONDS dir
  dir="$(mktemp -d /var/tmp/picoclaw-rootfs.XXXXXX)"
  WORKDIRS+=("$dir")
  log "building $HOST_IMAGE from $SUITE ($MIRROR)"
  bootstrap_rootfs "$dir" "$HOST_PACKAGES"
  # Units that only make sense on real hardware or a console; masking them keeps boot quiet.
  local unit
  for unit in getty.target console-getty.service systemd-firstboot.service \
              systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
              sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount; do
    ln -sf /dev/null "$dir/etc/systemd/system/$unit"
  done
  local staging="$HOST_IMAGE-import"
  import_rootfs "$dir" "$staging" \
    --change 'ENV container=docker' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/lib/systemd/systemd"]'
  rm -rf "$dir"
  # `docker import --change` rejects STOPSIGNAL; systemd shuts down cleanly on SIGRTMIN+3, so add it
  # (and the recipe label, last, so a failed step leaves no "current" image) with a one-line build.
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL %s=%s\n' "$staging" "$RECIPE_LABEL" "$hash" \
    | docker build --quiet --tag "$HOST_IMAGE" - >/dev/null
  docker rmi "$staging" >/dev/null
  log "built $HOST_IMAGE in $((SECONDS - start))s"
}

save_python_image() {  # $1 = tarball path
  local id
  id="$(docker image inspect --format '{{.Id}}' "$PYTHON_IMAGE")"
  if [ -s "$1" ] && [ "$(cat "$1.id" 2>/dev/null || true)" = "$id" ]; then
    log "$1 already holds $PYTHON_IMAGE ($id)"; return
  fi
  local start=$SECONDS
  mkdir -p "$(dirname "$1")"
  docker save -o "$1.partial" "$PYTHON_IMAGE"
  mv "$1.partial" "$1"
  printf '%s\n' "$id" >"$1.id"
  log "saved $PYTHON_IMAGE to $1 ($(du -h "$1" | cut -f1)) in $((SECONDS - start))s"
}

WORKDIRS=()
cleanup() { local d; for d in "${WORKDIRS[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT

total_start=$SECONDS
exec 9>"$LOCK_FILE"
flock 9
built=()
if [ -z "$only" ] || [ "$only" = python ]; then build_python; built+=("$PYTHON_IMAGE"); fi
if [ -z "$only" ] || [ "$only" = host ]; then build_host; built+=("$HOST_IMAGE"); fi
if [ -n "$save_python" ]; then
  docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1 || build_python
  save_python_image "$save_python"
fi
log "done in $((SECONDS - total_start))s"
printf '%s\n' "${built[@]}"
