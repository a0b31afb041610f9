#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the packages, builds the normal and the
# sanitizer (ASan + UBSan) builds, and runs every test (unit, sim, integration) in both.
# Exit 0 only if every test passed in both builds.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh" --asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for b in build build-asan; do
  echo "==== ctest in $b"
  (cd "$top/$b" && ctest --output-on-failure --no-tests=error --timeout 300 -j 2) || status=1
done
exit $status
