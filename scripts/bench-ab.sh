#!/usr/bin/env bash
# A/B of two builds (a report, not a test): two fresh three-node loopback clusters, one run by
# the binaries of BIN_A, the other by those of BIN_B (each a build's bin/ directory, or a copy of
# one), both up for the whole run; then ROUNDS rounds in which each workload and client count
# runs against A and then against B (B first in every other round), so that whatever else the
# machine does hits both alike. Each run prints ops/s, p50/p99, the load average and the CPU µs
# per operation of each kind of actor summed over the three nodes (`raftvisor bench --cpu`), the
# figure the machine's noise disturbs least; the end prints the means per build.
#   scripts/bench-ab.sh BIN_A BIN_B [--rounds N] [--seconds S] [--clients N,...]
#                       [--workloads W,...] [--port-base P] [--bulk-files F] [--fresh] [--by-role]
# --bulk-files F adds, in every round after the other workloads, a bulk load of F files in
# F / 1000 directories by 256 clients into each cluster (`raftvisor bench --workload bulk-load`),
# reported like the others (CPU µs per file). --fresh loads each of them into a fresh cluster
# (that side's nodes stopped, their data-dirs removed, started again): without it every round
# loads into the files of the rounds before, so later rounds measure a bigger store and its
# compactions. --by-role reports kv-store and raft-peer as `NAME@leader` (the leader's, as it
# was when the run started) and `NAME@followers` (the other two summed) instead of one figure.
# Typical: cp -r build/bin /tmp/rv-before; (change, build); scripts/bench-ab.sh /tmp/rv-before
# build/bin --rounds 4 --seconds 5 --clients 16,64. RV_INSECURE=1 runs insecure clusters.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
usage() {
  echo "usage: scripts/bench-ab.sh BIN_A BIN_B [--rounds N] [--seconds S] [--clients N,...] [--workloads W,...] [--port-base P] [--bulk-files F] [--fresh] [--by-role]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
binA=$(cd "$1" && pwd) binB=$(cd "$2" && pwd)
shift 2
rounds=3 seconds=5 clients=16,64 workloads=create port_base=7800 bulk_files=0 fresh=0 by_role=0
while [ $# -gt 0 ]; do
  case $1 in
    --fresh | --by-role) ;;
    *) [ $# -ge 2 ] || usage ;; # every other option takes a value
  esac
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --bulk-files) bulk_files=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --by-role) by_role=1; shift ;;
    *) usage ;;
  esac
done
[ "$fresh" = 0 ] || [ "$bulk_files" -gt 0 ] ||
  { echo "bench-ab: --fresh applies to the bulk loads: give --bulk-files F as well" >&2; exit 2; }
for b in "$binA" "$binB"; do
  [ -x "$b/raftvisor" ] && [ -x "$b/raftvisor-kv-store" ] || { echo "bench-ab: no raftvisor build in $b" >&2; exit 2; }
done
T=$(mktemp -d /tmp/rvab.XXXXXX)
cleanup() {
  RV=$binA cluster_stop "$T/A" "$binA/raftvisor"
  RV=$binB cluster_stop "$T/B" "$binB/raftvisor"
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/A" "$T/B"
RV=$binA/raftvisor cluster_yaml "$T/A" benchab-a "$port_base" $((port_base + 100))
RV=$binB/raftvisor cluster_yaml "$T/B" benchab-b $((port_base + 50)) $((port_base + 150))
# RV_AB_ENV_A / RV_AB_ENV_B: "VAR=value ..." in the environment of that side's nodes (a knob
# read from the environment, for an experiment)
# each cluster's own client key (cluster_yaml exported the last one's)
unset RV_CLIENT_KEY RV_SERVER_KEYS
side_bin() { if [ "$1" = A ]; then echo "$binA"; else echo "$binB"; fi; }
start_side() { # side: starts its nodes and waits for a leader (the first mkdir waits for one)
  local bin env=${RV_AB_ENV_A:-}
  bin=$(side_bin "$1")
  [ "$1" = B ] && env=${RV_AB_ENV_B:-}
  env $env bash -c "source '$top/scripts/lib-cluster.sh'; cluster_start '$T/$1' '$bin/raftvisor'"
  "$bin/raftvisor" fs -c "$T/$1/n1.yaml" -mkdir -p /bench >/dev/null
}
fresh_side() { # side: the same cluster (ports, keys) with empty data-dirs
  local bin
  bin=$(side_bin "$1")
  cluster_stop "$T/$1" "$bin/raftvisor"
  rm -rf "$T/$1/n1" "$T/$1/n2" "$T/$1/n3"
  start_side "$1"
}
start_side A
start_side B
echo "bench-ab, $(date -u +%FT%TZ), $(nproc) cores; A = $binA, B = $binB; $rounds rounds of ${seconds}s per run"
cpu_pids() { # raftvisor dir
  local rv=$1 dir=$2 i
  for i in 1 2 3; do
    "$rv" status -c "$dir/n$i.yaml" --json | jq -r --argjson by_role "$by_role" '
      (if $by_role == 1 and .raft.role == "leader" then "@leader"
       elif $by_role == 1 then "@followers" else "" end) as $role |
      "supervisor=\(.supervisor_pid)",
      (.actors[] | select(.pid > 0) |
       "\(.name)\(if .name == "kv-store" or .name == "raft-peer" then $role else "" end)=\(.pid)")'
  done | paste -sd, -
}
one() { # side workload clients round
  local side=$1 w=$2 c=$3 r=$4 bin dir
  bin=$(side_bin "$side")
  dir=$T/$side
  local args=(--workload "$w" --clients "$c" --seconds "$seconds")
  [ "$w" = bulk-load ] && args=(--workload bulk-load --clients "$c" --files "$bulk_files" --dirs $((bulk_files / 1000 > 0 ? bulk_files / 1000 : 1)))
  [ "$w" = bulk-load ] && [ "$fresh" = 1 ] && fresh_side "$side"
  "$bin/raftvisor" bench -c "$dir/n1.yaml" "${args[@]}" --json --cpu "$(cpu_pids "$bin/raftvisor" "$dir")" 2>/dev/null |
    jq -c 'select(.cpu_us_per_op != null)' |
    jq -c --arg side "$side" --argjson round "$r" '. + {side: $side, round: $round}' | tee -a "$T/all.jsonl" |
    jq -r '"  round \(.round) \(.side) \(.workload) \(.clients): \(.ops_per_s) ops/s, p50 \(.p50_us / 1000) ms, p99 \(.p99_us / 1000) ms, load \(.loadavg); CPU us/op \(.cpu_us_per_op | to_entries | map("\(.key) \(.value)") | join(", ")), all \(.cpu_us_per_op | [.[] | numbers] | add * 10 | round / 10)"'
}
for r in $(seq 1 "$rounds"); do
  order="A B"
  [ $((r % 2)) = 0 ] && order="B A"
  for w in ${workloads//,/ }; do
    for c in ${clients//,/ }; do
      for s in $order; do one "$s" "$w" "$c" "$r"; done
    done
  done
  if [ "$bulk_files" -gt 0 ]; then
    for s in $order; do one "$s" bulk-load 256 "$r"; done
  fi
done
echo "means over the rounds:"
jq -rs 'group_by([.workload, .clients, .side])[] |
  {w: .[0].workload, c: .[0].clients, s: .[0].side, n: length,
   ops: ([.[].ops_per_s] | add / length | round), p99: ([.[].p99_us] | add / length / 10 | round / 100),
   load: ([.[].loadavg | tonumber? // 0] | add / length * 10 | round / 10)} |
  "  \(.w) \(.c) \(.s): \(.ops) ops/s, p99 \(.p99) ms, load \(.load)"' "$T/all.jsonl"
jq -rs 'group_by([.workload, .clients, .side])[] as $g |
  ($g | length) as $n |
  ($g[0].cpu_us_per_op | keys) as $keys |
  "  \($g[0].workload) \($g[0].clients) \($g[0].side) CPU us/op: " +
  ([$keys[] as $k | "\($k) \(([$g[].cpu_us_per_op[$k] | numbers] | add / $n * 10 | round / 10))"] | join(", ")) +
  ", all \(([$g[].cpu_us_per_op | [.[] | numbers] | add] | add / $n * 10 | round / 10))"' "$T/all.jsonl"
cp "$T/all.jsonl" "${RV_AB_OUT:-/tmp/bench-ab-last.jsonl}"
