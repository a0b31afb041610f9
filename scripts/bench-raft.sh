#!/usr/bin/env bash
# Raft benchmark (a report, not a test): commits/s and commit latency at 1, 16 and 64 concurrent
# proposers with 256-byte entries on a three-node loopback cluster (raft-peer only, with real
# fsyncs), and failover time after kill -9 of the leader. With --etcd, etcd 3.4 runs the same
# shapes right after, on the same machine, and the figures are given as ratios.
#   scripts/bench-raft.sh [--seconds S] [--failovers N] [--etcd]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
seconds=5 failovers=20 etcd=0
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --failovers) failovers=$2; shift 2 ;;
    --etcd) etcd=1; shift ;;
    *) echo "usage: scripts/bench-raft.sh [--seconds S] [--failovers N] [--etcd]" >&2; exit 2 ;;
  esac
done
"$top/scripts/setup.sh" >/dev/null
"$top/scripts/build.sh" >/dev/null
B=$top/build/bin
T=$(mktemp -d /tmp/rvraft.XXXXXX)
cleanup() {
  cluster_stop "$T" "$B/raftvisor"
  rm -rf "$T"
}
trap cleanup EXIT
cluster_yaml "$T" bench 7400 "" "supervisor: {restart-intensity: 1000, restart-period-s: 60}
actors:
  - {name: raft-peer}"
cluster_start "$T" "$B/raftvisor"
echo "raft benchmark, $(date -u +%FT%TZ), $(nproc) cores, 256-byte entries, ${seconds}s per run"
"$B/rv-bench-raft" -c "$T/n1.yaml" -c "$T/n2.yaml" -c "$T/n3.yaml" --seconds "$seconds" \
  --failovers "$failovers" --json | tee "$T/rv.jsonl" | jq -r '
  if .op == "raft-commit" then
    "  raftvisor commits, \(.clients) proposers: \(.ops_per_s) /s, p50 \(.p50_us / 1000) ms, p99 \(.p99_us / 1000) ms, \(.proposals_per_batch) proposals per ipc message, \(.ipc_hops) ipc hops"
  else
    "  raftvisor failover (\(if .fault == "hang" then "SIGSTOP" else "kill -9" end) of the leader -> write committed), \(.runs) runs: median \(.median_ms) ms, max \(.max_ms) ms"
  end'
if [ $etcd = 1 ]; then
  base=$top/../shared/baseline
  [ -x "$base/bench.sh" ] || { echo "no etcd baseline at $base" >&2; exit 1; }
  "$base/bench.sh" "$seconds" 2>/dev/null | grep '^{' >"$T/etcd.jsonl" || true
  jq -rs --slurpfile rv "$T/rv.jsonl" '
    .[] | select(.label | test("put")) as $e
    | ($e.label | capture("c=(?<c>[0-9]+)").c | tonumber) as $c
    | ($rv[] | select(.op == "raft-commit" and .clients == $c)) as $r
    | "  etcd put \($c) clients: \($e.ops_per_s | floor) /s, p99 \($e.p99_us / 1000) ms -> raftvisor/etcd \(($r.ops_per_s / $e.ops_per_s * 100 | floor) / 100)x"
  ' "$T/etcd.jsonl"
fi
