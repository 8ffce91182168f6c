#!/usr/bin/env bash
# Build the registry-free base images the tests use, from Debian packages (debootstrap + docker import):
#   picoclaw-test/python:3.13-trixie  Debian 13 minbase + python3, python3-venv, ca-certificates.
#                                     Stands in for the official python:3.13-slim as the gateway base.
#   picoclaw-test/server:trixie       Debian 13 with systemd as PID 1 and sshd: the molecule "server".
#   picoclaw-test/server:bookworm     the same on Debian 12 (the oldest Debian the collection claims).
#   picoclaw-test/controller:trixie   Debian 13 with Ansible from Debian's own packages (`ansible`) and
#                                     an ssh client, and NO pip: a user's laptop/admin machine that
#                                     runs the playbook over real SSH (the build fails if pip is there).
# Each image carries a label with a hash of its recipe; an image is rebuilt only when it is missing
# or its recipe changed (or with --force). Safe to run concurrently (flock).
#
# Usage: build-test-images.sh [--only NAME[,NAME...]] [--force] [--save-python TARBALL]
#   --only NAMES           build only these: python, server, server-bookworm, controller (default: all).
#   --save-python TARBALL  also `docker save` the python image to TARBALL (rewritten only when the
#                          image id changed; the id is kept in TARBALL.id) for `docker load` elsewhere.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), PYTHON_IMAGE, SERVER_IMAGE,
#      SERVER_BOOKWORM_IMAGE, CONTROLLER_IMAGE.
# Prints the image names, one per line, on stdout at the end; progress and timings go to stderr.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PYTHON_IMAGE="${PYTHON_IMAGE:-picoclaw-test/python:3.13-trixie}"
SERVER_IMAGE="${SERVER_IMAGE:-picoclaw-test/server:trixie}"
SERVER_BOOKWORM_IMAGE="${SERVER_BOOKWORM_IMAGE:-picoclaw-test/server:bookworm}"
CONTROLLER_IMAGE="${CONTROLLER_IMAGE:-picoclaw-test/controller:trixie}"
LOCK_FILE=/var/tmp/picoclaw-test-images.lock
RECIPE_LABEL=org.picoclaw.test.recipe
# Bump when the post-bootstrap steps below change, so cached images get rebuilt.
RECIPE_REVISION=1

PYTHON_PACKAGES=python3,python3-venv,ca-certificates
# openssh-server + sudo: the molecule default scenario deploys over real SSH with a sudo user.
SERVER_PACKAGES=python3,systemd,systemd-sysv,dbus,ca-certificates,procps,iproute2,python3-apt,python3-requests,iptables,kmod,openssh-server,sudo
CONTROLLER_PACKAGES=python3,openssh-client
# Installed with apt-get in the bootstrapped rootfs (debootstrap's resolver cannot pick providers of
# virtual packages, which python3-cryptography needs), exactly as a user runs `apt install ansible`.
# `ansible`, not only ansible-core: Debian's package carries community.docker and ansible.posix.
CONTROLLER_APT_PACKAGES=ansible

only=""
force=0
save_python=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="${2:?--only needs a list of: python server server-bookworm controller}"; shift 2 ;;
    --force) force=1; shift ;;
    --save-python) save_python="${2:?--save-python needs a tarball path}"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for name in ${only//,/ }; do
  case "$name" in python|server|server-bookworm|controller) ;;
    *) echo "--only takes python, server, server-bookworm or controller, got: $name" >&2; exit 2 ;; esac
done
wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

log() { printf '[build-test-images] %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || { log "docker does not answer: run scripts/ci/install-docker.sh first"; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { log "debootstrap missing: run scripts/ci/install-docker.sh first"; exit 1; }

recipe_hash() {  # $1 = suite, $2 = package list, $3 = extra recipe text
  printf '%s\n' "$RECIPE_REVISION" "$1" "$MIRROR" "$2" "$3" | sha256sum | cut -c1-16
}

image_is_current() {  # $1 = image, $2 = recipe hash
  local have
  have="$(docker image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null || true)"
  [ "$force" -eq 0 ] && [ "$have" = "$2" ]
}

# Fill $1 with a minimal Debian rootfs holding the given packages, without caches or docs.
bootstrap_rootfs() {  # $1 = dir, $2 = suite, $3 = comma-separated packages
  local blog="$1.debootstrap.log"
  WORKDIRS+=("$blog")
  if ! debootstrap --variant=minbase --include="$3" "$2" "$1" "$MIRROR" >"$blog" 2>&1; then
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
  hash="$(recipe_hash trixie "$PYTHON_PACKAGES" "python-links-v1")"
  if image_is_current "$PYTHON_IMAGE" "$hash"; then log "$PYTHON_IMAGE is current (cached)"; return; fi
  local start=$SECONDS dir
  dir="$(mktemp -d /var/tmp/picoclaw-rootfs.XXXXXX)"
  WORKDIRS+=("$dir")
  log "building $PYTHON_IMAGE from trixie ($MIRROR)"
  bootstrap_rootfs "$dir" trixie "$PYTHON_PACKAGES"
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

build_server() {  # $1 = suite, $2 = image
  local suite="$1" image="$2" hash
  hash="$(recipe_hash "$suite" "$SERVER_PACKAGES" "systemd-host-v2-sshd")"
  if image_is_current "$image" "$hash"; then log "$image is current (cached)"; return; fi
  local start=$SECONDS dir
  dir="$(mktemp -d /var/tmp/picoclaw-rootfs.XXXXXX)"
  WORKDIRS+=("$dir")
  log "building $image from $suite ($MIRROR)"
  bootstrap_rootfs "$dir" "$suite" "$SERVER_PACKAGES"
  # Units that only make sense on real hardware or a console; masking them keeps boot quiet.
  local unit
  for unit in getty.target console-getty.service systemd-firstboot.service \
              systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
              sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount; do
    ln -sf /dev/null "$dir/etc/systemd/system/$unit"
  done
  # Host keys made at bootstrap would be shared by every container of the image: drop them and let
  # each container make its own on its first boot, before sshd's own config test.
  rm -f "$dir"/etc/ssh/ssh_host_*
  mkdir -p "$dir/etc/systemd/system/ssh.service.d"
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
    >"$dir/etc/systemd/system/ssh.service.d/host-keys.conf"
  local staging="$image-import"
  import_rootfs "$dir" "$staging" \
    --change 'ENV container=docker' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/lib/systemd/systemd"]'
  rm -rf "$dir"
  # `docker import --change` rejects STOPSIGNAL; systemd shuts down cleanly on SIGRTMIN+3, so add it
  # (and the recipe label, last, so a failed step leaves no "current" image) with a one-line build.
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL %s=%s\n' "$staging" "$RECIPE_LABEL" "$hash" \
    | docker build --quiet --tag "$image" - >/dev/null
  docker rmi "$staging" >/dev/null
  log "built $image in $((SECONDS - start))s"
}

build_controller() {
  local hash
  hash="$(recipe_hash trixie "$CONTROLLER_PACKAGES" "controller-v2 apt:$CONTROLLER_APT_PACKAGES")"
  if image_is_current "$CONTROLLER_IMAGE" "$hash"; then log "$CONTROLLER_IMAGE is current (cached)"; return; fi
  local start=$SECONDS dir
  dir="$(mktemp -d /var/tmp/picoclaw-rootfs.XXXXXX)"
  WORKDIRS+=("$dir")
  log "building $CONTROLLER_IMAGE from trixie ($MIRROR)"
  bootstrap_rootfs "$dir" trixie "$CONTROLLER_PACKAGES"
  local alog="$dir.apt.log"
  WORKDIRS+=("$alog")
  if ! { chroot "$dir" apt-get update && DEBIAN_FRONTEND=noninteractive chroot "$dir" \
         apt-get install -y --no-install-recommends $CONTROLLER_APT_PACKAGES; } >"$alog" 2>&1; then
    log "apt-get install $CONTROLLER_APT_PACKAGES failed; last lines:"; tail -n 30 "$alog" >&2
    exit 1
  fi
  chroot "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
  # Debian's `ansible` ships ~90 collections (~400 MB); only ansible.* and community.* can be loaded by
  # this collection's playbooks, so the vendor ones (cisco, fortinet, ...) go: a much smaller image.
  find "$dir/usr/lib/python3/dist-packages/ansible_collections" -mindepth 1 -maxdepth 1 -type d \
    ! -name ansible ! -name community -exec rm -rf {} +
  # The point of this image: a controller where the wheelhouse cannot be built with pip.
  if chroot "$dir" python3 -m pip --version >/dev/null 2>&1; then
    log "pip is importable in the controller rootfs (a package pulled it in): the no-pip proof needs it absent"
    exit 1
  fi
  log "controller: $(chroot "$dir" ansible --version | sed -n 1p)"
  import_rootfs "$dir" "$CONTROLLER_IMAGE" \
    --change "LABEL $RECIPE_LABEL=$hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["sleep", "infinity"]'
  rm -rf "$dir"
  log "built $CONTROLLER_IMAGE in $((SECONDS - start))s"
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
if wanted python; then build_python; built+=("$PYTHON_IMAGE"); fi
if wanted server; then build_server trixie "$SERVER_IMAGE"; built+=("$SERVER_IMAGE"); fi
if wanted server-bookworm; then build_server bookworm "$SERVER_BOOKWORM_IMAGE"; built+=("$SERVER_BOOKWORM_IMAGE"); fi
if wanted controller; then build_controller; built+=("$CONTROLLER_IMAGE"); fi
if [ -n "$save_python" ]; then
  docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1 || build_python
  save_python_image "$save_python"
fi
log "done in $((SECONDS - total_start))s"
printf '%s\n' "${built[@]}"
