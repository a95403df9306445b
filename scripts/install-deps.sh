#!/usr/bin/env bash
# Installs the system packages ks needs to build and test (Debian/Ubuntu, run as root or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need=()
for pkg in libedit-dev liblapacke-dev libopenblas-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# The tests cross-check .npy files and printing against numpy.
if ! python3 -c "import numpy" 2>/dev/null; then
  python3 -m pip install -q numpy || { $SUDO apt-get install -y -qq python3-numpy; }
fi
