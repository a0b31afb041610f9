#!/usr/bin/env bash
# CURVE's cost (a report, not a test): write throughput (`raftvisor bench --workload create`) at
# 1 and 64 clients on a three-node loopback cluster run with CURVE (the default) and with
# security.insecure, in the same run, alternating secure and insecure ROUNDS times so that a
# busy machine weighs on both alike. Prints each run and the secure/insecure ratios of the
# medians. Every node and client process is stopped at the end.
#   scripts/bench-curve.sh [--rounds N] [--seconds S]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
rounds=2
seconds=5
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: scripts/bench-curve.sh [--rounds N] [--seconds S]" >&2; exit 2 ;;
  esac
done
RV=$top/build/bin/raftvisor
[ -x "$RV" ] || { echo "bench-curve: build first (scripts/build.sh)" >&2; exit 2; }
T=$(mktemp -d /tmp/rvcurve.XXXXXX)
cleanup() {
  for m in secure insecure; do [ -d "$T/$m" ] && cluster_stop "$T/$m" "$RV"; done
  rm -rf "$T"
}
trap cleanup EXIT
echo "CURVE benchmark, $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "three nodes on loopback, create, ${seconds} s per run, $rounds rounds"
: >"$T/results"
for r in $(seq 1 "$rounds"); do
  for m in secure insecure; do
    raft=$((10000 + RANDOM % 20000))
    rm -rf "${T:?}/$m"
    mkdir -p "$T/$m"
    if [ "$m" = insecure ]; then RV_INSECURE=1 cluster_yaml "$T/$m" bench "$raft" $((raft + 100))
    else cluster_yaml "$T/$m" bench "$raft" $((raft + 100)); fi
    cluster_start "$T/$m" "$RV"
    for _ in $(seq 1 500); do "$RV" fs -c "$T/$m/n1.yaml" -mkdir -p /bench 2>/dev/null && break; done
    "$RV" bench -c "$T/$m/n1.yaml" --workload create --clients 1,64 --seconds "$seconds" --json \
      | jq -c --arg m "$m" --arg r "$r" '{mode: $m, round: $r, clients, ops_per_s, p99_us, errors}' \
      | tee -a "$T/results"
    cluster_stop "$T/$m" "$RV"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
jq -rs '
  def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  group_by(.clients)[] as $g
  | ($g | map(select(.mode == "secure") | .ops_per_s) | med) as $s
  | ($g | map(select(.mode == "insecure") | .ops_per_s) | med) as $i
  | "  \($g[0].clients) clients: CURVE \($s | floor) creates/s, insecure \($i | floor) creates/s (medians): ratio \(($s / $i * 100 | floor) / 100)"
' "$T/results"
