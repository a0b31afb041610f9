#!/usr/bin/env bash
# The long nemesis run (Jepsen-style; a report, not part of scripts/test.sh): three nodes in
# network namespaces under a concurrent client workload while nemeses act in turn (pauses,
# kill -9, partitions, a full disk, clock jumps: integration-tests/nemesis/nemesis_lib.sh); every
# run is checked (linearizable history, every acknowledged write on every node, converged
# digests, no undeclared restart, no sanitizer report), and a table is printed at the end:
#   nemesis, runs, ops, acked, lost, linearizable, max unavailability (ms)
# Any lost acknowledged write or non-linearizable history fails the run (exit 1); its history
# and logs are copied to /tmp/rv-nemesis-failed-NEMESIS-SEED.
#   scripts/nemesis.sh --minutes N [--seed S] [--nemesis LIST|all] [--fault-seconds F] [--asan]
# Needs root (network namespaces, iptables, tmpfs mounts) and the packages of scripts/setup.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  echo "usage: scripts/nemesis.sh --minutes N [--seed S] [--nemesis LIST|all] [--fault-seconds F] [--asan]" >&2
  echo "  nemeses: pause-actor,pause-node,pause-follower,pause-supervisor,kill-actor,kill-node,kill-all," >&2
  echo "           partition-leader,partition-bridge,partition-oneway,disk-follower,disk-leader,clock-jump" >&2
  exit 2
}
args=() minutes="" build=build
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) [ $# -ge 2 ] || usage; minutes=$2; args+=(--minutes "$2"); shift 2 ;;
    --seed | --nemesis | --fault-seconds) [ $# -ge 2 ] || usage; args+=("$1" "$2"); shift 2 ;;
    --asan) build=build-asan; shift ;;
    -h | --help) usage ;;
    *) echo "nemesis.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "nemesis.sh: --minutes N (a whole number of minutes, at least 1) is required" >&2; usage; }
[ "$(id -u)" = 0 ] || { echo "nemesis.sh: needs root (network namespaces, iptables, tmpfs mounts)" >&2; exit 1; }
"$top/scripts/setup.sh" >/dev/null
if [ "$build" = build-asan ]; then "$top/scripts/build.sh" --asan >/dev/null; else "$top/scripts/build.sh" >/dev/null; fi
if [ "$build" = build-asan ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
RV_BIN=$top/$build/bin exec bash "$top/integration-tests/nemesis/long.sh" "${args[@]}"
