#!/usr/bin/env bash
# Namespace benchmark (a report, not a test) on a fresh three-node loopback cluster (supervisor,
# health-monitor, raft-peer, kv-store per node, real fsyncs): create / stat / mixed at 1, 16 and
# 64 clients, a bulk load of D directories and F files with `-count` of them, the catch-up of a
# follower wiped after the bulk load (snapshot transfer of the whole namespace), and the peak RSS
# of every actor. With --etcd, etcd 3.4 runs its puts and linearizable gets right after, on the
# same machine, and the figures are given as ratios (creates vs puts, stats vs gets).
# Every run also reports the load average (1 min, at its end) and the CPU time per operation
# (user + system, from /proc/PID/stat over the measured run) of each kind of actor summed over
# the three nodes, of the supervisors, and of the client process: the figure the machine's
# noise disturbs least.
#   scripts/bench-fs.sh [--seconds S] [--bulk-files F] [--bulk-dirs D] [--bulk-clients N] [--etcd] [--keep]
#                       [--port-base P] [--workloads W,...] [--clients N,...] [--no-bulk] [--bulk-only]
#                       [--data-parent DIR]
# --workloads (default create,stat,mixed) and --clients (default 1,16,64) choose the runs;
# --no-bulk skips the bulk load and what follows it (the commands over it, the RSS, the wiped
# follower); --bulk-only runs the bulk load alone (its rate every 10 s, CPU, restarts, bytes per
# file, peak RSS) and stops there. RV_INSECURE=1 runs the cluster without CURVE (security.insecure: true), for a
# comparison.
# Defaults: 10 s per run, raft ports P.. and client ports P+100.. (P = 7500: give another when
# a second benchmark shares the machine), 1,600 directories and 1,500,000 files loaded by 256 concurrent clients
# (a bulk loader keeps many creates in flight: bigger Raft batches). --keep leaves the cluster
# running (its YAML files are printed) for a look with raftvisor status / fs. --data-parent DIR
# puts the cluster's directory (data-dirs, logs) under DIR instead of /tmp: /dev/shm (tmpfs,
# where an fdatasync costs nothing) shows what the storage's latency costs, for a comparison.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
seconds=10 files=1500000 dirs=1600 bulk_clients=256 etcd=0 keep=0 port_base=7500
workloads=create,stat,mixed clients=1,16,64 bulk=1 bulk_only=0 data_parent=/tmp
usage() {
  echo "usage: scripts/bench-fs.sh [--seconds S] [--bulk-files F] [--bulk-dirs D] [--bulk-clients N] [--etcd] [--keep] [--port-base P] [--workloads W,...] [--clients N,...] [--no-bulk] [--bulk-only] [--data-parent DIR]" >&2
  exit 2
}
num() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || { echo "bench-fs: $1 expects a positive integer, got '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) [ $# -ge 2 ] || usage; num "$1" "$2"; seconds=$2; shift 2 ;;
    --bulk-files) [ $# -ge 2 ] || usage; num "$1" "$2"; files=$2; shift 2 ;;
    --bulk-dirs) [ $# -ge 2 ] || usage; num "$1" "$2"; dirs=$2; shift 2 ;;
    --bulk-clients) [ $# -ge 2 ] || usage; num "$1" "$2"; bulk_clients=$2; shift 2 ;;
    --etcd) etcd=1; shift ;;
    --keep) keep=1; shift ;;
    --data-parent) [ $# -ge 2 ] && [ -d "$2" ] && [ -w "$2" ] ||
      { echo "bench-fs: --data-parent expects a writable directory, got '${2:-}'" >&2; exit 2; }
      data_parent=$2; shift 2 ;;
    --port-base) [ $# -ge 2 ] || usage; num "$1" "$2"; port_base=$2; shift 2 ;;
    --workloads) [ $# -ge 2 ] && [[ $2 =~ ^(create|stat|mixed)(,(create|stat|mixed))*$ ]] || usage; workloads=$2; shift 2 ;;
    --clients) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+(,[0-9]+)*$ ]] || usage; clients=$2; shift 2 ;;
    --no-bulk) bulk=0; shift ;;
    --bulk-only) bulk_only=1; workloads=""; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done
"$top/scripts/setup.sh" >/dev/null
"$top/scripts/build.sh" >/dev/null
RV=$top/build/bin/raftvisor
T=$(mktemp -d "$data_parent/rvfs.XXXXXX")
cleanup() {
  [ $keep = 1 ] && { echo "cluster kept: $T/n1.yaml $T/n2.yaml $T/n3.yaml"; return; }
  cluster_stop "$T" "$RV"
  rm -rf "$T"
}
trap cleanup EXIT
cluster_yaml "$T" benchfs "$port_base" $((port_base + 100))
cluster_start "$T" "$RV"
"$RV" fs -c "$T/n1.yaml" -mkdir -p /bench >/dev/null # waits for the first leader
security=secure
[ "${RV_INSECURE:-0}" = 1 ] && security="insecure (security.insecure: true)"
echo "namespace benchmark, $(date -u +%FT%TZ), $(nproc) cores, three nodes on loopback ($security), ${seconds}s per run, $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$([ "$data_parent" = /tmp ] || echo ", data-dirs under $data_parent")"
# NAME=PID,... of every process of the three nodes (supervisors and actors), for bench --cpu
cpu_pids() {
  for i in 1 2 3; do
    "$RV" status -c "$T/n$i.yaml" --json | jq -r '"supervisor=\(.supervisor_pid)", (.actors[] | select(.pid > 0) | "\(.name)=\(.pid)")'
  done | paste -sd, -
}
# the per-run lines: figures, load average, then CPU µs per operation by kind of process
report='"  \(.workload) \(.clients) clients: \(.ops_per_s) ops/s, p50 \(.p50_us / 1000) ms, p99 \(.p99_us / 1000) ms, p99.9 \(.p999_us / 1000) ms, errors \(.errors), load \(.loadavg)",
  "    CPU us/op (3 nodes summed): \(.cpu_us_per_op | to_entries | map("\(.key) \(.value)") | join(", ")), total \(.cpu_us_per_op | [.[] | numbers] | add * 10 | round / 10)"'
: >"$T/rv.jsonl"
for w in ${workloads//,/ }; do
  "$RV" bench -c "$T/n1.yaml" --workload "$w" --clients "$clients" --seconds "$seconds" --json \
    --cpu "$(cpu_pids)" 2>/dev/null | tee -a "$T/rv.jsonl" | jq -r "$report"
done

if [ $bulk = 1 ]; then
  echo "  bulk load: $dirs directories, $files files ($bulk_clients clients) ..."
  "$RV" bench -c "$T/n1.yaml" --workload bulk-load --dirs "$dirs" --files "$files" --clients "$bulk_clients" \
    --json --cpu "$(cpu_pids)" 2> >(grep --line-buffered 'bulk-load:' >&2) | tee -a "$T/rv.jsonl" | jq -r '
    if .workload == "bulk-load-summary" then
      "  bulk load: \(.loaded) files in \(.load_seconds) s (\(.loaded / .load_seconds | floor) files/s); -count of them: \(.count_ms) ms (\(.count_dirs) dirs, \(.count_files) files)"
    else
      "  bulk load: load \(.loadavg) at its end; CPU us/file (3 nodes summed): \(.cpu_us_per_op | to_entries | map("\(.key) \(.value)") | join(", ")), total \(.cpu_us_per_op | [.[] | numbers] | add * 10 | round / 10)"
    end'
  # an actor restarted during the load: what its supervisor said about it
  for i in 1 2 3; do
    grep -hE "hung|exited|killed|restart" "$T/n$i/log/supervisor.log" 2>/dev/null | grep -v "on request" |
      tail -n 4 | sed "s/^/  n$i supervisor: /" || true # none: no line (and no exit under pipefail)
  done
  echo "  data-dirs after the bulk load: $(du -sb "$T"/n1 "$T"/n2 "$T"/n3 | awk -v f="$files" '{s += $1} END {printf "%.0f MB on three nodes, %.0f bytes per file per node", s / 1048576, s / 3 / f}')"
  t0=$(date +%s%N)
  "$RV" fs -c "$T/n2.yaml" -count / >/dev/null
  echo "  raftvisor fs -count / from a fresh CLI process (connect, linearizable read): $(( ($(date +%s%N) - t0) / 1000000 )) ms"

  # peak RSS of every actor so far (the bulk load is the largest thing they have held)
  rss_report() {
    for i in 1 2 3; do
      "$RV" status -c "$T/n$i.yaml" --json | jq -r '.actors[] | "\(.name) \(.pid)"'
    done | while read -r name pid; do
      hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      echo "$name ${hwm:-0}"
    done | sort | awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (k in m) printf "  peak RSS %s: %.0f MB (largest of the three nodes)\n", k, m[k] / 1024 }'
  }
  rss_report
  [ $bulk_only = 1 ] && exit 0

  # Hadoop-style commands over the bulk namespace, each a fresh CLI process (connect, linearizable
  # reads): -du -s of the root (one read: directories keep their subtree's totals), then a
  # directory of 100,000 entries: -ls of it (a page of 5000 at a time), -ls -S (read whole and
  # sorted, as Hadoop does), a glob matching 10 of its names (the nodes filter: only the matches
  # cross the wire) and one matching none from the start (the node scans, bounded per request).
  ms_of() { local t0; t0=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - t0) / 1000000 )); }
  echo "  raftvisor fs -du -s /: $(ms_of "$RV" fs -c "$T/n2.yaml" -du -s /) ms"
  big=$("$RV" bench -c "$T/n1.yaml" --workload bulk-load --dirs 1 --files 100000 \
    --clients "$bulk_clients" 2>/dev/null | sed -n 's|.*-count \(/bench/[^:]*\):.*|\1|p')/d0
  lines=$("$RV" fs -c "$T/n2.yaml" -ls "$big" | wc -l)
  echo "  raftvisor fs -ls of a directory of $((lines - 1)) entries: $(ms_of "$RV" fs -c "$T/n2.yaml" -ls "$big") ms;" \
    "-ls -S: $(ms_of "$RV" fs -c "$T/n2.yaml" -ls -S "$big") ms;" \
    "-count: $(ms_of "$RV" fs -c "$T/n2.yaml" -count "$big") ms;" \
    "glob of 10 names (-ls -d $big/f9999?): $(ms_of "$RV" fs -c "$T/n2.yaml" -ls -d "$big/f9999?") ms;" \
    "glob matching none (-ls -d '$big/*x'): $(ms_of "$RV" fs -c "$T/n2.yaml" -ls -d "$big/*x") ms"


  # a follower loses its disk: time until it has applied everything the leader had committed
  leader=$("$RV" status -c "$T/n1.yaml" --json | jq -r .raft.leader)
  victim=n3
  [ "$leader" = n3 ] && victim=n2
  commit=$("$RV" status -c "$T/n1.yaml" --json | jq .raft.commit)
  "$RV" stop -c "$T/$victim.yaml" >/dev/null
  rm -rf "${T:?}/$victim"
  t0=$(date +%s%N)
  "$RV" start --daemon -c "$T/$victim.yaml" >/dev/null
  # a member with a new incarnation is a stranger until it is re-added (remove, add-learner,
  # catch-up, promote: rejoin returns once it has caught up)
  "$RV" raft -c "$T/$leader.yaml" rejoin "$victim" >/dev/null
  caught=0
  for _ in $(seq 1 6000); do # 10 minutes at most
    a=$("$RV" status -c "$T/$victim.yaml" --json 2>/dev/null | jq '.raft.applied // 0' 2>/dev/null || echo 0)
    if [ "${a:-0}" -ge "$commit" ]; then caught=1; break; fi
    sleep 0.1
  done
  if [ $caught = 1 ]; then
    echo "  follower $victim wiped and restarted: caught up to index $commit (snapshot of the whole namespace) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  else
    echo "  follower $victim wiped and restarted: NOT caught up to index $commit within 10 minutes"
  fi
fi

if [ $etcd = 1 ]; then
  base=$top/../shared/baseline
  [ -x "$base/bench.sh" ] || { echo "no etcd baseline at $base" >&2; exit 1; }
  "$base/bench.sh" "$seconds" 2>/dev/null | grep '^{' >"$T/etcd.jsonl" || true
  jq -rs --slurpfile rv "$T/rv.jsonl" '
    .[] as $e
    | ($e.label | capture("c=(?<c>[0-9]+)").c | tonumber) as $c
    | (if ($e.label | test("put")) then "create" else "stat" end) as $w
    | ($rv[] | select(.workload == $w and .clients == $c)) as $r
    | "  \($e.label): \($e.ops_per_s | floor) /s, p99 \($e.p99_us / 1000) ms -> raftvisor \($w)/etcd \(($r.ops_per_s / $e.ops_per_s * 100 | floor) / 100)x (p99 \($r.p99_us / 1000) ms)"
  ' "$T/etcd.jsonl"
fi
