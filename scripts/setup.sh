#!/usr/bin/env bash
# One command from a fresh clone: install what is missing, build ks, run the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
demo=sessions/kernelsolve_doc_example.ks
[ -f "$demo" ] || demo=sessions/gaussian_sum.ks
echo "== ks run $demo"
.build/release/ks run "$demo" --echo
