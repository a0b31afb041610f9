#!/usr/bin/env bash
# A longer fuzz run than CI's: the scenarios of integration-tests/test_fuzz_ports.sh (a running
# three-node cluster; rv-fuzz at each node's client and Raft ports; afterwards no crash, no
# actor restart, no sanitizer report, one namespace on all replicas), M minutes per node, then
# test_fuzz_raft_member.sh (the Raft port as an authenticated member), M minutes.
#   scripts/fuzz.sh --minutes M [--seed S] [--asan]
# --asan runs the sanitizer build (build-asan/, built by scripts/build.sh --asan). The seed is
# printed; a failing run is replayed with --seed S. Exit 0 when the run passed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
minutes="" seed="" build=build
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=${2:?--minutes takes a number}; shift 2 ;;
    --seed) seed=${2:?--seed takes a number}; shift 2 ;;
    --asan) build=build-asan; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --minutes M (M >= 1) is required" >&2; exit 2; }
[ -x "$top/$build/bin/rv-fuzz" ] || { echo "fuzz.sh: $top/$build/bin/rv-fuzz missing: run scripts/build.sh first" >&2; exit 2; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export RV_BIN="$top/$build/bin" RV_FUZZ_MINUTES=$minutes
if [ -n "$seed" ]; then export RV_FUZZ_SEED=$seed; fi
bash "$top/integration-tests/test_fuzz_ports.sh"
# then the Raft port as an authenticated member (n3's key, id and incarnation, n3 down), M minutes
# against n1 and n2 at once, beside a writer
exec bash "$top/integration-tests/test_fuzz_raft_member.sh"
