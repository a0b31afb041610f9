#!/usr/bin/env bash
# Off-cluster replica benchmark (a report, not a test), file:// backend on the local disk, three
# nodes on loopback with every actor and real fsyncs:
#  1. replication lag under a steady create load at two rates (`raftvisor bench --workload
#     create` with few and with many clients; the rates reached are printed): meta-status is
#     sampled every 100 ms on the leader; lag in entries is commit_index - synced_index; lag in
#     seconds is, at each sample, how long ago the oldest entry not yet in the copy was
#     committed (from the samples' commit indexes and times); p50, p99 and max of both;
#  2. create throughput and p99 at 64 clients with the replica on and off, in the same run: two
#     clusters, runs alternated on/off/on/off.
#   scripts/bench-replica.sh [--seconds S] [--low-clients N] [--high-clients N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
secs=15 low=2 high=16
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) secs=$2; shift 2 ;;
    --low-clients) low=$2; shift 2 ;;
    --high-clients) high=$2; shift 2 ;;
    *) echo "usage: scripts/bench-replica.sh [--seconds S] [--low-clients N] [--high-clients N]" >&2; exit 2 ;;
  esac
done
B=$top/build/bin
RV=$B/raftvisor
[ -x "$RV" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
T=$(mktemp -d /tmp/rvrepl.XXXXXX)
sampler=""
cleanup() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  cluster_stop "$T/on" "$RV"
  cluster_stop "$T/off" "$RV"
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/on" "$T/off" "$T/remote"
raft=$((10000 + RANDOM % 20000))
cluster_yaml "$T/on" replon "$raft" $((raft + 100)) "ots: {enabled: true, endpoint: \"file://$T/remote\"}"
cluster_yaml "$T/off" reploff $((raft + 10)) $((raft + 110))
cluster_start "$T/on" "$RV"
cluster_start "$T/off" "$RV"
for c in on off; do
  for _ in $(seq 1 500); do "$RV" fs -c "$T/$c/n1.yaml" -mkdir -p /bench 2>/dev/null && break; sleep 0.05; done
done
echo "replica benchmark, $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# sample: "unix_ms commit synced" lines from the leader's meta-status line, every 100 ms
sample() {
  while :; do
    "$RV" meta-status --json -c "$T/on/n1.yaml" 2>/dev/null |
      jq -r --arg t "$(date +%s%3N)" '.nodes[] | select(.role == "LEADER") | "\($t) \(.commit_index) \(.synced_index)"' || true
    sleep 0.1
  done
}

lag_run() {
  local clients=$1
  sample >"$T/samples.$clients" &
  sampler=$!
  "$RV" bench -c "$T/on/n1.yaml" --workload create --clients "$clients" --seconds "$secs" --json \
    >"$T/bench.$clients" 2>/dev/null || true
  kill "$sampler"; wait "$sampler" 2>/dev/null || true; sampler=""
  local rate
  rate=$(jq -r '.ops_per_s' "$T/bench.$clients" | tail -n 1)
  # lag in seconds at sample i: now - the time of the first sample whose commit passed synced
  awk '{ t[NR] = $1; c[NR] = $2; s[NR] = $3 }
    END {
      for (i = 1; i <= NR; i++) {
        le = c[i] > s[i] ? c[i] - s[i] : 0; ls = 0
        if (s[i] < c[i]) for (j = 1; j <= i; j++) if (c[j] > s[i]) { ls = (t[i] - t[j]) / 1000; break }
        print le, ls
      }
    }' "$T/samples.$clients" >"$T/lags.$clients"
  local n pe ps
  n=$(wc -l <"$T/lags.$clients")
  [ "$n" -gt 0 ] || { echo "  $clients clients: no samples"; return; }
  pct() { sort -n | awk -v q="$1" '{ v[NR] = $1 } END { i = int(NR * q) + 1; if (i > NR) i = NR; print v[i] }'; }
  printf "  %s clients, %.0f creates/s: lag p50 %s entries / %s s, p99 %s / %s s, max %s / %s s (%s samples)\n" \
    "$clients" "$rate" \
    "$(cut -d' ' -f1 "$T/lags.$clients" | pct 0.5)" "$(cut -d' ' -f2 "$T/lags.$clients" | pct 0.5)" \
    "$(cut -d' ' -f1 "$T/lags.$clients" | pct 0.99)" "$(cut -d' ' -f2 "$T/lags.$clients" | pct 0.99)" \
    "$(cut -d' ' -f1 "$T/lags.$clients" | pct 1.0)" "$(cut -d' ' -f2 "$T/lags.$clients" | pct 1.0)" "$n"
}

echo "1. replication lag, creates for $secs s each:"
lag_run "$low"
lag_run "$high"

echo "2. create throughput at 64 clients, replica on vs off (alternated, $secs s each):"
for round in 1 2; do
  for c in on off; do
    "$RV" bench -c "$T/$c/n1.yaml" --workload create --clients 64 --seconds "$secs" --json 2>/dev/null |
      jq -r --arg c "$c" --arg r "$round" '"  round \($r) replica \($c): \(.ops_per_s | floor) creates/s, p99 \(.p99_us / 1000) ms, errors \(.errors)"'
  done
done
"$RV" meta-status -c "$T/on/n1.yaml" | sed 's/^/  /'
