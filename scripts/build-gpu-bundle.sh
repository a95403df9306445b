#!/usr/bin/env bash
# Builds what a GPU machine (no Swift toolchain, at most 64 MiB copied over) needs to run
# scripts/gpu-check.sh, into gpu-bundle/ (ignored by git; carry it along with the tree):
#
#   scripts/build-gpu-bundle.sh
#
#   gpu-bundle/ks.gz         ks built with `KS_STATIC_LIBEDIT=1 swift build -c release
#                            --static-swift-stdlib` (in .build-gpu/), stripped, then gzip -9: the
#                            Foundation in ks links ICU's data (the stripped binary is ~60 MB),
#                            which gzip brings to ~24 MB; gpu-check.sh unpacks it with gzip, which
#                            every Linux has.
#   gpu-bundle/conformance/  the conformance cases of ../shared/conformance as self-checking ks
#                            scripts (scripts/make-gpu-cases.py; needs python3 with numpy here only)
#
# It fails when the binary needs a shared library beyond libc, libm, libstdc++, libgcc_s, libdl,
# libpthread and the loader, and prints the sizes and `ldd`. Environment: CONFORMANCE_RUNNER (the
# conformance runner whose cases/ to copy, default ../shared/conformance/run), GPU_BUNDLE (the
# output folder, default gpu-bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${GPU_BUNDLE:-gpu-bundle}
runner=${CONFORMANCE_RUNNER:-../shared/conformance/run}
build=.build-gpu

echo "== building ks (release, static Swift stdlib, static libedit) in $build/"
KS_STATIC_LIBEDIT=1 swift build -c release --static-swift-stdlib --build-path "$build" --product ks

rm -rf "$out"
mkdir -p "$out"
strip -o "$out/ks" "$build/release/ks"

echo "== ldd $out/ks"
ldd "$out/ks" | sed 's/^/  /'
extra=$(ldd "$out/ks" | awk '{print $1}' \
  | grep -Ev '^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libdl\.so\.2|libpthread\.so\.0|/lib6?4?/ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$' || true)
if [ -n "$extra" ]; then
  echo "build-gpu-bundle: FAIL: ks needs shared libraries a bare GPU machine may lack: $(echo $extra)" >&2
  exit 1
fi
"$out/ks" -c 'print("ks runs:", 6 * 7)'

binary=$(stat -c %s "$out/ks")
gzip -9 -n -c "$out/ks" >"$out/ks.gz"
rm "$out/ks"

echo "== conformance cases from $runner"
if [ ! -f "$runner" ]; then
  echo "build-gpu-bundle: FAIL: no conformance runner at $runner (set CONFORMANCE_RUNNER)" >&2
  exit 1
fi
python3 scripts/make-gpu-cases.py "$runner" "$out/conformance"

tree=$(git ls-files -z | xargs -0 cat 2>/dev/null | wc -c)
bundle=$(du -sb "$out" | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "== sizes"
echo "  ks (stripped)          $(mib "$binary")"
echo "  ks.gz                  $(mib "$(stat -c %s "$out/ks.gz")")"
echo "  conformance cases      $(mib "$(du -sb "$out/conformance" | cut -f1)")"
echo "  $out/ in all        $(mib "$bundle")"
echo "  tracked tree           $(mib "$tree")"
echo "  to copy (tree+bundle)  $(mib $((tree + bundle))) of 64 MiB"
if [ $((tree + bundle)) -ge $((48 * 1048576)) ]; then
  echo "build-gpu-bundle: FAIL: over 48 MiB, too close to the 64 MiB the GPU machine takes" >&2
  exit 1
fi
echo "Run on the GPU machine, from the repository root: scripts/gpu-check.sh all"
