#!/usr/bin/env bash
# Install what native/libqat-sim needs to build (gcc, make, zlib and OpenSSL headers) when any is missing.
set -euo pipefail
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
if [ ${#need[@]} -eq 0 ]; then
  echo "libqat-sim build dependencies present"
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
