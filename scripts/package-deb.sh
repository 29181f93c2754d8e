#!/usr/bin/env bash
# Build the Debian package build/qatmgr-ts_<version>_<arch>.deb from the built tree (npm run package:deb).
#
# Layout: program in /usr/lib/qatmgr-ts (dist + production node_modules), /usr/sbin/qatmgr and /usr/bin/qatctl,
# units in /usr/lib/systemd/system, sysusers.d/tmpfiles.d entries, the udev rule, /etc/sysconfig/qat (conffile),
# qatmgr(8)/qatctl(8) generated from the --help texts, bash completion, docs in /usr/share/doc/qatmgr-ts.
# Needs dpkg-deb and npm (production dependencies come from the npm registry or npm's cache); no other network.
# Options: --out DIR (default build/), --version-suffix SUFFIX (e.g. +e2e1, for the e2e's upgrade test).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$REPO/build"
SUFFIX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --version-suffix) SUFFIX="$2"; shift 2 ;;
    *) echo "package-deb: unknown option $1 (use --out DIR, --version-suffix S)" >&2; exit 1 ;;
  esac
done
command -v dpkg-deb >/dev/null || { echo "package-deb: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
[ -f "$REPO/dist/daemon/qatmgr.js" ] || { echo "package-deb: build first (npm run build)" >&2; exit 1; }

VERSION="$(node -p "require('$REPO/package.json').version")$SUFFIX"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d /tmp/qatmgr-deb.XXXXXX)"
trap 'rm -rf "$STAGE"' EXIT
ROOT="$STAGE/root"
LIB="$ROOT/usr/lib/qatmgr-ts"
DOC="$ROOT/usr/share/doc/qatmgr-ts"
install -d "$LIB" "$ROOT/usr/sbin" "$ROOT/usr/bin" "$ROOT/usr/lib/systemd/system" "$ROOT/usr/lib/sysusers.d" \
  "$ROOT/usr/lib/tmpfiles.d" "$ROOT/usr/lib/udev/rules.d" "$ROOT/etc/sysconfig" "$ROOT/usr/share/man/man8" \
  "$ROOT/usr/share/bash-completion/completions" "$DOC/docs" "$ROOT/DEBIAN"

# the program: compiled JavaScript whose source still exists (a stale file of an older build is left out), no maps
(cd "$REPO" && find dist/daemon dist/src -name '*.js' | while read -r f; do
  src="${f#dist/}"; src="${src%.js}.ts"
  [ -f "$src" ] && install -D -m 0644 "$f" "$LIB/$f"
done)
chmod 0755 "$LIB/dist/daemon/qatmgr.js" "$LIB/dist/daemon/qatctl.js"
cp "$REPO/package.json" "$REPO/package-lock.json" "$LIB/"
# the kubelet APIs' gRPC definitions, read at run time by the device plugin (beside dist/, where it looks)
cp -r "$REPO/proto" "$LIB/proto"
# production dependencies only, exactly as locked; no install scripts (koffi's binary comes in its platform package)
(cd "$LIB" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
rm -f "$LIB/package-lock.json"

# the commands: pinned to Debian's /usr/bin/node (the packaged dependency), whatever else is first on PATH
for pair in sbin/qatmgr:qatmgr bin/qatctl:qatctl; do
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/qatmgr-ts/dist/daemon/%s.js "$@"\n' "${pair#*:}" >"$ROOT/usr/${pair%%:*}"
  chmod 0755 "$ROOT/usr/${pair%%:*}"
done

install -m 0644 "$REPO/units/qat.service" "$REPO/units/qat.socket" "$REPO/units/qat-metrics.socket" "$REPO/units/qat-heartbeat.service" "$ROOT/usr/lib/systemd/system/"
install -m 0644 "$REPO/units/qat.sysusers" "$ROOT/usr/lib/sysusers.d/qat.conf"
install -m 0644 "$REPO/units/qat.tmpfiles" "$ROOT/usr/lib/tmpfiles.d/qat.conf"
install -m 0644 "$REPO/etc/udev/90-qat-vfio.rules" "$ROOT/usr/lib/udev/rules.d/"
install -m 0644 "$REPO/etc/qat" "$ROOT/etc/sysconfig/qat"
node "$REPO/scripts/manpages.mjs" "$STAGE/man" >/dev/null
gzip -9n -c "$STAGE/man/qatmgr.8" >"$ROOT/usr/share/man/man8/qatmgr.8.gz"
gzip -9n -c "$STAGE/man/qatctl.8" >"$ROOT/usr/share/man/man8/qatctl.8.gz"
node "$REPO/dist/daemon/qatctl.js" completion bash >"$ROOT/usr/share/bash-completion/completions/qatctl"
# Documentation= of the units points here
install -m 0644 "$REPO/README.md" "$DOC/"
install -m 0644 "$REPO"/docs/*.md "$DOC/docs/"
ln -s docs/systemd.md "$DOC/systemd.md"
printf 'qatmgr-ts %s\n\nLicense: BSD-3-Clause (see package.json); bundled npm modules keep their own licenses (LICENSE files under /usr/lib/qatmgr-ts/node_modules).\n' "$VERSION" >"$DOC/copyright"

echo "/etc/sysconfig/qat" >"$ROOT/DEBIAN/conffiles"
SIZE="$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)"
cat >"$ROOT/DEBIAN/control" <<CONTROL
Package: qatmgr-ts
Version: $VERSION
Architecture: $ARCH
Maintainer: qatmgr-ts developers <root@localhost>
Installed-Size: $SIZE
Depends: nodejs (>= 20.19), systemd
Section: admin
Priority: optional
Homepage: file:///usr/share/doc/qatmgr-ts/README.md
Description: libqat-compatible Intel QuickAssist (QAT) manager daemon
 qatmgr hands Intel QuickAssist virtual functions to libqat processes over
 /run/qat/qatmgr.sock (qatlib 26.08 wire protocol); qatctl shows who holds
 what, provisions the PFs, checks a host (doctor) and runs selftests.
 Socket-activated, unprivileged and sandboxed under systemd; allocations
 survive restarts.
CONTROL
install -m 0755 "$REPO/scripts/deb/postinst" "$REPO/scripts/deb/prerm" "$REPO/scripts/deb/postrm" "$ROOT/DEBIAN/"

mkdir -p "$OUT"
DEB="$OUT/qatmgr-ts_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "package-deb: $DEB ($(du -h "$DEB" | cut -f1), installed ${SIZE} KiB)"
