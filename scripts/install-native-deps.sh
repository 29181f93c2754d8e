#!/usr/bin/env bash
# Install what native/libqat-sim needs to build (gcc, make, zlib and OpenSSL headers) when any is missing, and
# accel-config (test/integration/accel-config.test.ts compares its view of a simulated host with ours).
set -euo pipefail
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
command -v accel-config >/dev/null 2>&1 || need+=(accel-config)
if [ ${#need[@]} -eq 0 ]; then
  echo "libqat-sim build dependencies and accel-config present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${need[*]} and no apt-get: install them with your package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing ${need[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
