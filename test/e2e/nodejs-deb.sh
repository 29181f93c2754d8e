#!/usr/bin/env bash
# Test rootfs only: wrap the host's node binary as a "nodejs" .deb, so that qatmgr-ts's "Depends: nodejs (>= 20.19)"
# is met in the e2e's Debian bookworm rootfs (bookworm's own nodejs is 18.x). Never for production hosts: there,
# install a nodejs >= 20.19 package from your distribution or vendor.
# Usage: test/e2e/nodejs-deb.sh OUTDIR
set -euo pipefail
OUT="$1"
NODE="$(readlink -f "$(command -v node)")"
VERSION="$("$NODE" -p 'process.versions.node')+qatmgr.e2e"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d /tmp/nodejs-deb.XXXXXX)"
trap 'rm -rf "$STAGE"' EXIT
install -D -m 0755 "$NODE" "$STAGE/usr/bin/node"
mkdir -p "$STAGE/DEBIAN"
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: nodejs
Version: $VERSION
Architecture: $ARCH
Maintainer: qatmgr-ts e2e <root@localhost>
Depends: libc6, libstdc++6
Description: Node.js runtime copied from the build host (qatmgr-ts e2e test rootfs only)
 The host's node binary, packaged so that dpkg sees the dependency of qatmgr-ts met.
CONTROL
mkdir -p "$OUT"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT/nodejs_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/nodejs_${VERSION}_${ARCH}.deb"
