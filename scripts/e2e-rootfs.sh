#!/usr/bin/env bash
# Install systemd-nspawn/debootstrap when missing and build (or reuse) the cached Debian rootfs for the systemd e2e.
# The rootfs holds Debian's own packages only (systemd, dbus, man-db); each e2e run boots it with a throwaway
# overlay (systemd-nspawn --volatile=overlay), so the packages a run installs never stay in it.
set -euo pipefail
ROOTFS="${QATMGR_E2E_ROOTFS:-/var/cache/qatmgr-e2e/rootfs}"
# what the checks need besides the base system: man(1) for "man qatctl" and systemd-analyze verify's man check
EXTRA=man-db

if ! command -v systemd-nspawn >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container debootstrap >/dev/null
fi

if [ -x "$ROOTFS/lib/systemd/systemd" ] && [ -f "$ROOTFS/.qatmgr-e2e-complete" ]; then
  if [ ! -x "$ROOTFS/usr/bin/man" ]; then
    # a rootfs cached before man-db was needed: add it from the rootfs's own apt sources (host network, chroot)
    echo "e2e rootfs: adding $EXTRA to $ROOTFS"
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true
    chroot "$ROOTFS" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $EXTRA >/dev/null && apt-get clean"
  fi
  echo "e2e rootfs: reusing $ROOTFS"
  exit 0
fi

# the mirror this machine's apt already uses (deb822 or one-line sources); no built-in default: a host without
# apt sources has no mirror we may assume
MIRROR="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)"
if [ -z "$MIRROR" ]; then
  MIRROR="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n1 || true)"
fi
if [ -z "$MIRROR" ]; then
  echo "e2e rootfs: no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/ (URIs: or deb lines); add one, or set QATMGR_E2E_ROOTFS to a prepared rootfs" >&2
  exit 1
fi

rm -rf "$ROOTFS.partial"
mkdir -p "$(dirname "$ROOTFS")"
echo "e2e rootfs: debootstrap bookworm from $MIRROR (about a minute)"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,$EXTRA bookworm "$ROOTFS.partial" "$MIRROR" >/dev/null
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
