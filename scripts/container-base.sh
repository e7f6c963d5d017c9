#!/usr/bin/env bash
# Builds the local base image the container test builds Larder's Dockerfile on, since no image
# registry is reachable here: a minimal Debian bookworm from Debian's packages (debootstrap),
# plus this machine's Node 20 and npm, and its CA bundle (the package registry is reached
# through a proxy whose CA only this machine trusts). Idempotent: an existing image is reused;
# the debootstrap tree is cached in .cache/container/rootfs.
#   bash scripts/container-base.sh [IMAGE]      (default localhost/larder-test-base:bookworm-node20)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${1:-localhost/larder-test-base:bookworm-node20}"
CACHE="$PWD/.cache/container"
log() { echo "[container-base] $*" >&2; }

if podman image exists "$IMAGE"; then log "$IMAGE: exists"; exit 0; fi
mkdir -p "$CACHE"
if [ ! -f "$CACHE/rootfs/.complete" ]; then
  rm -rf "$CACHE/rootfs"
  log "debootstrap --variant=minbase bookworm (Debian's packages) into $CACHE/rootfs"
  debootstrap --variant=minbase bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 ||
    { log "debootstrap failed; see $CACHE/debootstrap.log"; exit 1; }
  rm -rf "$CACHE/rootfs/var/cache/apt/archives/"*.deb
  touch "$CACHE/rootfs/.complete"
fi
NODE="$(command -v node)"
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
install -m 0755 "$NODE" "$CACHE/rootfs/usr/local/bin/node"
mkdir -p "$CACHE/rootfs/usr/local/lib/node_modules"
rm -rf "$CACHE/rootfs/usr/local/lib/node_modules/npm"
cp -a "$NPM_DIR" "$CACHE/rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$CACHE/rootfs/usr/local/bin/npm"
mkdir -p "$CACHE/rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$CACHE/rootfs/etc/ssl/certs/ca-certificates.crt"
log "importing $IMAGE (node $("$NODE" -v))"
tar -C "$CACHE/rootfs" --exclude=./.complete -c . | podman import \
  --change "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin" \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  - "$IMAGE" >/dev/null
log "$IMAGE: built"
