#!/usr/bin/env bash
# A/B of two builds (a report, not a test): two fresh three-node loopback clusters, one run by
# the binaries of BIN_A, the other by those of BIN_B (each a build's bin/ directory, or a copy of
# one), both up for the whole run; then ROUNDS rounds in which each workload and client count
# runs against A and then against B (B first in every other round), so that whatever else the
# machine does hits both alike. Each run prints ops/s, p50/p99, the load average and the CPU µs
# per operation of each kind of actor summed over the three nodes (`raftvisor bench --cpu`), the
# figure the machine's noise disturbs least; the end prints the means per build.
#   scripts/bench-ab.sh BIN_A BIN_B [--rounds N] [--seconds S] [--clients N,...]
#                       [--workloads W,...] [--port-base P] [--bulk-files F]
# --bulk-files F adds, in every round after the other workloads, a bulk load of F files in
# F / 1000 directories by 256 clients into each cluster (`raftvisor bench --workload bulk-load`),
# reported like the others (CPU µs per file).
# Typical: cp -r build/bin /tmp/rv-before; (change, build); scripts/bench-ab.sh /tmp/rv-before
# build/bin --rounds 4 --seconds 5 --clients 16,64. RV_INSECURE=1 runs insecure clusters.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
usage() {
  echo "usage: scripts/bench-ab.sh BIN_A BIN_B [--rounds N] [--seconds S] [--clients N,...] [--workloads W,...] [--port-base P]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
binA=$(cd "$1" && pwd) binB=$(cd "$2" && pwd)
shift 2
rounds=3 seconds=5 clients=16,64 workloads=create port_base=7800 bulk_files=0
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --bulk-files) bulk_files=$2; shift 2 ;;
    *) usage ;;
  esac
done
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
env ${RV_AB_ENV_A:-} bash -c "source '$top/scripts/lib-cluster.sh'; cluster_start '$T/A' '$binA/raftvisor'"
env ${RV_AB_ENV_B:-} bash -c "source '$top/scripts/lib-cluster.sh'; cluster_start '$T/B' '$binB/raftvisor'"
# each cluster's own client key (cluster_yaml exported the last one's)
unset RV_CLIENT_KEY RV_SERVER_KEYS
"$binA/raftvisor" fs -c "$T/A/n1.yaml" -mkdir -p /bench >/dev/null
"$binB/raftvisor" fs -c "$T/B/n1.yaml" -mkdir -p /bench >/dev/null
echo "bench-ab, $(date -u +%FT%TZ), $(nproc) cores; A = $binA, B = $binB; $rounds rounds of ${seconds}s per run"
cpu_pids() { # side
  local rv=$1 dir=$2 i
  for i in 1 2 3; do
    "$rv" status -c "$dir/n$i.yaml" --json | jq -r '"supervisor=\(.supervisor_pid)", (.actors[] | select(.pid > 0) | "\(.name)=\(.pid)")'
  done | paste -sd, -
}
one() { # side workload clients round
  local side=$1 w=$2 c=$3 r=$4 bin dir
  if [ "$side" = A ]; then bin=$binA; else bin=$binB; fi
  dir=$T/$side
  local args=(--workload "$w" --clients "$c" --seconds "$seconds")
  [ "$w" = bulk-load ] && args=(--workload bulk-load --clients "$c" --files "$bulk_files" --dirs $((bulk_files / 1000 > 0 ? bulk_files / 1000 : 1)))
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
