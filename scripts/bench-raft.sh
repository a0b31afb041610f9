#!/usr/bin/env bash
# Raft benchmark (a report, not a test): commits/s and commit latency at 1, 16 and 64 concurrent
# proposers with 256-byte entries on a three-node loopback cluster (raft-peer only, with real
# fsyncs), and failover time after kill -9 of the leader. With --etcd, etcd 3.4 runs the same
# shapes right after, on the same machine, and the figures are given as ratios.
#   scripts/bench-raft.sh [--seconds S] [--failovers N] [--etcd]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
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
  for i in 1 2 3; do "$B/raftvisor" stop -c "$T/n$i.yaml" >/dev/null 2>&1 || true; done
  rm -rf "$T"
}
trap cleanup EXIT
for i in 1 2 3; do
  cat >"$T/n$i.yaml" <<YAML
node: {id: n$i, data-dir: $T/n$i}
cluster:
  id: bench
  nodes:
    - {id: n1, host: 127.0.0.1, raft-port: 7401}
    - {id: n2, host: 127.0.0.1, raft-port: 7402}
    - {id: n3, host: 127.0.0.1, raft-port: 7403}
supervisor: {restart-intensity: 1000, restart-period-s: 60}
actors:
  - {name: raft-peer}
YAML
  "$B/raftvisor" start --daemon -c "$T/n$i.yaml" >/dev/null
done
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
