#!/usr/bin/env bash
# Molecule dependency step of every scenario, run on the controller before create/converge/destroy:
#   - the registry-free test images (systemd servers, controller, gateway base image) and a `docker save` tarball of
#     the base image for the role's air-gapped load path (all cached: fast when present);
#   - a snapshot of gateway_src taken once per run (see below).
# picoclaw.stack resolves to this checkout through the committed .collections link
# (ANSIBLE_COLLECTIONS_PATH in .config/molecule/config.yml).
# Usage: controller-setup.sh SCENARIO   (molecule passes its scenario name)
set -euo pipefail
project="$(cd "$(dirname "$0")/../.." && pwd)"
scenario="${1:?usage: controller-setup.sh SCENARIO}"

bash "$project/scripts/images/build-test-images.sh" \
  --save-python "$project/.cache/images/python-3.13-trixie.tar" >/dev/null

# A snapshot of the gateway sources for this run: the image hash covers the sources, so edits made in
# the checkout while the scenario runs (converge, then idempotence) would otherwise rebuild the image.
# One snapshot per scenario, so two scenarios can run side by side (read by inventory group_vars).
snapshot="$project/.cache/molecule-$scenario-gateway-src"
rm -rf "$snapshot.new"
mkdir -p "$snapshot.new"
tar -C "$project/gateway_src" --exclude=./tests --exclude=./bench --exclude=./wheelhouse \
  --exclude=__pycache__ --exclude='*.egg-info' --exclude=.venv -cf - . | tar -C "$snapshot.new" -xf -
rm -rf "$snapshot"
mv "$snapshot.new" "$snapshot"

# The stand-in for PyPI that a host builds the gateway image from when the controller has no pip.
bash "$project/molecule/shared/package-index.sh" "$project/.cache/molecule-package-index"
