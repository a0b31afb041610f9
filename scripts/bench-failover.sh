#!/usr/bin/env bash
# Failover benchmark (a report, not a test): `raftvisor haadmin -failover LEADER FOLLOWER` to a
# caught-up follower, timed from the command's start to the first write acknowledged by the new
# leader (a `raftvisor fs -mkdir` sent to it alone, started as soon as the command returns),
# RUNS times under write load (rv-lin-workload: 8 clients on a three-node loopback cluster with
# every actor and real fsyncs). The load's history is then checked by rv-lincheck: no
# acknowledged write lost or applied twice. Both timings include starting the CLI processes.
#   scripts/bench-failover.sh [--runs N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
runs=50
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: scripts/bench-failover.sh [--runs N]" >&2; exit 2 ;;
  esac
done
"$top/scripts/setup.sh" >/dev/null
"$top/scripts/build.sh" >/dev/null
B=$top/build/bin
RV=$B/raftvisor
T=$(mktemp -d /tmp/rvfo.XXXXXX)
wl=""
cleanup() {
  if [ -n "$wl" ]; then kill "$wl" 2>/dev/null || true; wait "$wl" 2>/dev/null || true; fi
  cluster_stop "$T" "$RV"
  rm -rf "$T"
}
trap cleanup EXIT
raft=$((10000 + RANDOM % 20000))
cluster_yaml "$T" bench "$raft" $((raft + 100))
cluster_start "$T" "$RV"
nodes="127.0.0.1:$((raft + 101)),127.0.0.1:$((raft + 102)),127.0.0.1:$((raft + 103))"
leader() { "$RV" haadmin -c "$T/n1.yaml" -getAllServiceState | awk '$2 == "active" {print $1}'; }
addr_id() { for i in 1 2 3; do if [ "127.0.0.1:$((raft + 100 + i))" = "$1" ]; then echo "n$i"; fi; done; }
# wait (bounded) for a leader and a namespace that takes writes
for _ in $(seq 1 500); do "$RV" fs -c "$T/n1.yaml" -mkdir -p /bench 2>/dev/null && break; done
"$B/rv-lin-workload" --nodes "$nodes" --out "$T/history.jsonl" --clients 8 --paths 6 \
  --seconds $((runs / 2 + 15)) --seed 1 >"$T/workload.txt" 2>&1 &
wl=$!
echo "failover benchmark, $(date -u +%FT%TZ), $(nproc) cores, three nodes on loopback, $runs runs under write load (8 clients)"
: >"$T/times"
loaded=0
started=$(date +%s)
for k in $(seq 1 "$runs"); do
  from=""
  for _ in $(seq 1 500); do from=$(addr_id "$(leader)") && [ -n "$from" ] && break; done
  to=n$(( (${from#n} % 3) + 1 ))
  for _ in $(seq 1 500); do "$RV" haadmin -c "$T/n1.yaml" -checkHealth "$to" 2>>"$T/health.err" && break; done
  t0=$(date +%s%N)
  "$RV" haadmin -c "$T/n1.yaml" -failover "$from" "$to" >/dev/null
  t1=$(date +%s%N)
  "$RV" fs --nodes "127.0.0.1:$((raft + 100 + ${to#n}))" -mkdir -p "/bench/$k" >/dev/null
  t2=$(date +%s%N)
  echo "$(( (t2 - t0) / 1000 )) $(( (t1 - t0) / 1000 ))" >>"$T/times"
  if kill -0 "$wl" 2>/dev/null; then loaded=$((loaded + 1)); fi
done
elapsed=$(( $(date +%s) - started ))
[ -s "$T/health.err" ] && echo "  waits for a healthy TO: $(sort "$T/health.err" | uniq -c | sort -rn | head -n 3 | tr -s " ")"
wait "$wl" || { echo "the workload failed: $(cat "$T/workload.txt")"; exit 1; }
wl=""
med() { sort -n | awk '{ v[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'; }
echo "  -failover -> first write acknowledged by the new leader, $runs runs: $(cut -d' ' -f1 "$T/times" | med)"
echo "  of which the haadmin command itself: $(cut -d' ' -f2 "$T/times" | med)"
echo "  load: $(cat "$T/workload.txt") ($loaded of $runs runs under it; the runs took ${elapsed}s)"
if "$B/rv-lincheck" "$T/history.jsonl" --model namespace --timeout-s 120 >"$T/lin.txt"; then
  echo "  history: $(cat "$T/lin.txt") (no acknowledged write lost or applied twice)"
else
  echo "  history NOT linearizable: $(cat "$T/lin.txt")"
  exit 1
fi
