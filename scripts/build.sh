#!/usr/bin/env bash
# Builds raftvisor: `build/` (optimised, with debug info) and, with --asan, also `build-asan/`
# (AddressSanitizer + UndefinedBehaviorSanitizer). Warnings are errors.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j "$jobs"
if [ "${1:-}" = "--asan" ]; then
  cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DRV_SANITIZE=ON >/dev/null
  cmake --build "$top/build-asan" -j "$jobs"
fi
