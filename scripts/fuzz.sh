#!/usr/bin/env bash
# Builds one libFuzzer target (Fuzz/*.swift) with -sanitize=fuzzer,address and runs it.
#
#   scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   TARGET: formula | script | readers     SECONDS: default 60 (0: build only)
#
# The library modules the target needs are built by SwiftPM in their own scratch directory
# (.build-fuzz, instrumented for coverage and AddressSanitizer); the target file is then
# compiled and linked against their object files with swiftc. The corpus lives in
# .build-fuzz/corpus/TARGET (seeded from Fuzz/seeds/TARGET), crash inputs in
# .build-fuzz/artifacts/TARGET. Exit status: 0 when libFuzzer found nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh formula|script|readers [SECONDS] [libFuzzer flags...]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))

case "$target" in
  formula) file=FormulaParser.swift; modules="KSDiagnostics FormulaLanguage"; top=FormulaLanguage ;;
  readers) file=ArrayReaders.swift; modules="ArrayIO"; top=ArrayIO ;;
  script)
    file=Script.swift
    modules="KSDiagnostics FormulaLanguage ArrayIO KernelEngines CPUEngine CUDAEngine DenseLinearAlgebra KernelOperations ShellSyntax ShellRuntime NumpySubset PyKeOpsBindings MessagePassing Plotting MatplotlibSubset KSShell"
    # The figures draw with Cairo: its module map and library.
    extra=(-I Sources/CCairo $(pkg-config --cflags-only-I cairo | sed "s/-I/-Xcc -I/g") $(pkg-config --libs cairo))
    top=KSShell ;;
  *) echo "fuzz.sh: unknown target '$target' (formula, script or readers)" >&2; exit 2 ;;
esac

scratch=.build-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
swift build -c release --scratch-path "$scratch" --target "$top" "${flags[@]}" >&2
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
objects=()
for m in $modules; do objects+=("$bin/$m.build"/*.o); done
exe="$scratch/fuzz-$target"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name "Fuzz_$target" \
  -I "$bin/Modules" -I "$bin" ${extra[@]+"${extra[@]}"} "Fuzz/$file" "${objects[@]}" -o "$exe" 2>&1 | grep -v "Cannot export local symbol" >&2 || true
[ -x "$exe" ] || { echo "fuzz.sh: linking $exe failed" >&2; exit 1; }
[ "$seconds" = 0 ] && { echo "$exe"; exit 0; }

corpus="$scratch/corpus/$target"
artifacts="$scratch/artifacts/$target/"
mkdir -p "$corpus" "$artifacts"
# Seeds, and every crash found so far (Fuzz/regressions: each must now run cleanly).
for d in "Fuzz/seeds/$target" "Fuzz/regressions/$target"; do
  [ -d "$d" ] && cp -n "$d"/* "$corpus"/ 2>/dev/null || true
done
dict=()
[ -f "Fuzz/$target.dict" ] && dict=(-dict="$(realpath "Fuzz/$target.dict")")
# The script target runs in a scratch directory (it never writes files, but be safe).
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
exe=$(realpath "$exe"); corpus=$(realpath "$corpus"); artifacts=$(realpath "$artifacts")/
cd "$workdir"
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1} \
  "$exe" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
  -artifact_prefix="$artifacts" -print_final_stats=1 "${dict[@]}" "$@" "$corpus"
