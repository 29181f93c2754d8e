#!/usr/bin/env bash
# Install systemd-nspawn/debootstrap when missing and build (or reuse) the cached Debian rootfs for the systemd e2e.
set -euo pipefail
ROOTFS="${QATMGR_E2E_ROOTFS:-/var/cache/qatmgr-e2e/rootfs}"

if ! command -v systemd-nspawn >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container debootstrap >/dev/null
fi

if [ -x "$ROOTFS/lib/systemd/systemd" ] && [ -f "$ROOTFS/.qatmgr-e2e-complete" ]; then
  echo "e2e rootfs: reusing $ROOTFS"
  exit 0
fi

# the mirror the machine already uses (deb822 or one-line sources)
MIRROR="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)"
if [ -z "$MIRROR" ]; then
  MIRROR="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n1 || true)"
fi
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

rm -rf "$ROOTFS.partial"
mkdir -p "$(dirname "$ROOTFS")"
echo "e2e rootfs: debootstrap bookworm from $MIRROR (about a minute)"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$ROOTFS.partial" "$MIRROR" >/dev/null
# a volatile journal: a reused rootfs must not show the previous run's logs
mkdir -p "$ROOTFS.partial/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$ROOTFS.partial/etc/systemd/journald.conf.d/volatile.conf"
# nothing the tests do needs a login prompt or networking
ln -sf /dev/null "$ROOTFS.partial/etc/systemd/system/getty@.service" || true
ln -sf /dev/null "$ROOTFS.partial/etc/systemd/system/console-getty.service" || true
touch "$ROOTFS.partial/.qatmgr-e2e-complete"
rm -rf "$ROOTFS"
mv "$ROOTFS.partial" "$ROOTFS"
echo "e2e rootfs: ready at $ROOTFS"
