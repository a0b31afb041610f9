#!/usr/bin/env bash
# The foundation's benchmark (a report, not a test): envelope round trip between two processes
# over ipc, pipelined throughput, the cost of the tap (compiled out / no subscriber / one
# subscriber), and kill -9 to ready restart latency. Prints a report; asserts nothing.
#   scripts/bench-runtime.sh [KILLS]     (default 100 kills)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kills=${1:-100}
"$top/scripts/setup.sh" >/dev/null
"$top/scripts/build.sh" >/dev/null
B=$top/build/bin
T=$(mktemp -d /tmp/rvbench.XXXXXX)
trap '"$B/raftvisor" stop -c "$T/b1.yaml" >/dev/null 2>&1 || true; kill $tapid 2>/dev/null || true; rm -rf "$T"' EXIT
tapid=""
b1key=$("$B/raftvisor" keys gen --out "$T/keys" b1) # secure, as every cluster the scripts start
cat >"$T/b1.yaml" <<YAML
node: {id: b1, data-dir: $T/b1}
cluster:
  nodes: [{id: b1, host: 127.0.0.1, raft-port: 7901, client-port: 7902, public-key: "$b1key"}]
security: {key: "@$T/keys/b1.secret"}
supervisor:
  heartbeat-interval-ms: 200
  heartbeat-timeout-ms: 2000
  restart-min-delay-ms: 20
  restart-stable-ms: 100          # every kill below is a first crash after a stable run
  restart-intensity: 1000
  restart-period-s: 60
actors:
  - {name: a1, exec: $B/raftvisor-test-actor}
YAML
once() { # label, then env assignments: one node start, one measurement, one stop
  local label=$1
  shift
  env "$@" "$B/raftvisor" start --daemon -c "$T/b1.yaml" >/dev/null
  if [ "$label" = "tap, one subscriber" ]; then
    "$B/raftvisor" tap -c "$T/b1.yaml" >/dev/null & tapid=$!
    sleep 0.3
  fi
  "$B/rv-bench-runtime" -c "$T/b1.yaml" --actor a1 --json --label "$label" --rtt 3000 --pipe 60000
  [ -n "$tapid" ] && { kill $tapid; wait $tapid 2>/dev/null || true; tapid=""; }
  "$B/raftvisor" stop -c "$T/b1.yaml" >/dev/null
}
echo "raftvisor foundation benchmark, $(date -u +%FT%TZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
{
  # the three configurations interleaved, so that the machine's drift hits them alike
  for round in 1 2 3; do
    echo "round $round/3" >&2
    once "tap compiled out (RV_TAP=off)" RV_TAP=off
    once "tap, no subscriber"
    once "tap, one subscriber"
  done
  echo "restart: $kills kills" >&2
  "$B/raftvisor" start --daemon -c "$T/b1.yaml" >/dev/null
  "$B/rv-bench-runtime" -c "$T/b1.yaml" --actor a1 --json --label "restart" --rtt 0 --pipe 0 --kills "$kills"
  "$B/raftvisor" stop -c "$T/b1.yaml" >/dev/null
} >"$T/results.jsonl"
jq -rs '
  def median: sort | .[(length / 2 | floor)];
  (map(select(.label == "tap compiled out (RV_TAP=off)")) | map(.pipe_round_trips_per_s) | median) as $base
  | (group_by(.label) | map(select(.[0].kills == 0)) | sort_by(-(.[0].label | test("compiled") | if . then 1 else 0 end))) as $groups
  | "envelope round trip over ipc, one in flight (median of 3 runs of 3000):",
    ($groups[] | "  \(.[0].label): p50 \(map(.rtt_p50_us) | median) us, p99 \(map(.rtt_p99_us) | median) us"),
    "pipelined round trips/s, 64 in flight (median of 3 runs of 60000), cost vs. no tap:",
    ($groups[] | (map(.pipe_round_trips_per_s) | median) as $r
      | "  \(.[0].label): \($r | floor) round trips/s (\(2 * $r | floor) msgs/s), \(((1 - $r / $base) * 1000 | floor) / 10)%"),
    (map(select(.kills > 0))[] | "kill -9 to ready over \(.kills) kills: p50 \(.restart_p50_us / 100 | floor / 10) ms, p99 \(.restart_p99_us / 100 | floor / 10) ms, max \(.restart_max_us / 100 | floor / 10) ms")
' "$T/results.jsonl"
