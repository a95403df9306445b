#!/usr/bin/env bash
# Installs the system packages ks needs to build and test (Debian/Ubuntu, run as root or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need=()
# ks opens LAPACKE and CBLAS with dlopen at run time (nothing links them); liblapacke-dev and
# libopenblas-dev bring the runtime libraries (liblapacke.so.3, libopenblas.so.0) that np.linalg
# and the BLAS matrix products use, and the tests compare them with numpy.
# libcairo2-dev: Cairo draws figures (savefig to SVG, PNG, PDF; inline terminal images);
# fonts-dejavu-core: the font their text uses.
# Open MPI (openmpi-bin for mpirun, libopenmpi-dev for libmpi.so.40) runs scripts across processes;
# ks opens libmpi with dlopen only under mpirun, so it builds and runs without it.
for pkg in libedit-dev liblapacke-dev libopenblas-dev libcairo2-dev fonts-dejavu-core openmpi-bin libopenmpi-dev; do
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
# The notebook tests validate the .ipynb files ks writes with nbformat's own validator.
if ! python3 -c "import nbformat" 2>/dev/null; then
  python3 -m pip install -q nbformat || { $SUDO apt-get install -y -qq python3-nbformat; }
fi
# NVRTC (from PyPI, no GPU needed) for the CUDA engine's tests: every generated kernel is compiled
# to an sm_90 CUBIN in CI. The tests find it in .cuda-venv (or through $NVRTC_LIBRARY).
cd "$(dirname "$0")/.."
if ! ls .cuda-venv/lib/python3*/site-packages/nvidia/cu13/lib/libnvrtc.so.13 >/dev/null 2>&1; then
  python3 -m venv .cuda-venv
  .cuda-venv/bin/pip install -q nvidia-cuda-nvrtc==13.5.37
fi
