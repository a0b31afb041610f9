#!/usr/bin/env bash
# Backup and restore, timed (a report, not a test): a fresh three-node cluster on loopback,
# a bulk load of --files files in --dirs directories (raftvisor bench), then
#   raftvisor snapshot save from a follower (while the cluster is idle), its file size and the
#   saving CLI's peak RSS; snapshot status (a full verification); snapshot restore into three new
#   data-dirs; the restored cluster started, the time until its three nodes have applied the
#   saved index, and each one's digest (from a save of its own store) equal to the saved one.
#   scripts/bench-snapshot.sh [--files F] [--dirs D]     (default 200000 files in 200 dirs)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
files=200000 dirs=200
while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift 2 ;;
    --dirs) dirs=$2; shift 2 ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
  esac
done
source "$top/scripts/lib-cluster.sh"
RV=$top/build/bin/raftvisor
work=$(mktemp -d /tmp/rv-bench-snap.XXXXXX)
trap 'rc=$?; cluster_stop "$work" "$RV"; [ -d "$work/r" ] && cluster_stop "$work/r" "$RV";
  if [ $rc = 0 ]; then rm -rf "$work"; else echo "failed; files kept in $work"; fi' EXIT
base=$((20000 + RANDOM % 10000))
extra="actors:
  - {name: health-monitor}
  - {name: raft-peer}
  - {name: kv-store}"
cluster_yaml "$work" bench "$base" $((base + 10)) "$extra"
cluster_start "$work" "$RV"
addr() { echo "127.0.0.1:$((base + 10 + $1))"; }
until "$RV" fs -c "$work/n1.yaml" -mkdir -p /b 2>/dev/null; do sleep 0.2; done
"$RV" bench -c "$work/n1.yaml" --workload bulk-load --dirs "$dirs" --files "$files" --clients 64 |
  tail -n 2
ms() { date +%s%3N; }
# every node at one applied index (asked with endpoints: `fs -digest` hashes the namespace on
# kv-store's loop, which a large namespace holds past the hang timeout)
one_index() {
  "$RV" endpoints -c "$work/n1.yaml" -w json >"$work/ep.json" 2>/dev/null || return 1
  [ "$(jq '[.nodes[].applied] | unique | length' "$work/ep.json")" = 1 ]
}
for k in $(seq 1 600); do one_index && break; sleep 0.1; done
one_index || { echo "FAILED: the nodes do not reach one applied index"; exit 1; }
echo "namespace: $files files in $dirs directories; every node at index $(jq '.nodes[0].applied' "$work/ep.json")"
t0=$(ms)
/usr/bin/time -f '%M' -o "$work/rss" "$RV" snapshot save "$work/ns.rvs" --nodes "$(addr 2)" --json >"$work/save.json"
t1=$(ms)
echo "snapshot save from n2: $((t1 - t0)) ms, $(jq -r .size "$work/save.json") bytes," \
  "$(jq -r .pairs "$work/save.json") pairs, peak RSS of the CLI $(($(cat "$work/rss") / 1024)) MB;" \
  "digest $(jq -r .digest "$work/save.json") at index $(jq -r .index "$work/save.json")"
t0=$(ms)
"$RV" snapshot status "$work/ns.rvs" >/dev/null
echo "snapshot status (full verification): $(($(ms) - t0)) ms"
cluster_stop "$work" "$RV"
mkdir "$work/r"
for i in 1 2 3; do sed "s#$work/n$i#$work/r/n$i#" "$work/n$i.yaml" >"$work/r/n$i.yaml"; done
t0=$(ms)
for i in 1 2 3; do "$RV" snapshot restore "$work/ns.rvs" -c "$work/r/n$i.yaml" >/dev/null; done
t1=$(ms)
echo "snapshot restore of three data-dirs: $((t1 - t0)) ms"
cluster_start "$work/r" "$RV"
want=$(jq -r .digest "$work/save.json")
index=$(jq -r .index "$work/save.json")
caught_up() {
  "$RV" endpoints -c "$work/r/n1.yaml" -w json >"$work/ep.json" 2>/dev/null || return 1
  [ "$(jq --argjson i "$index" '[.nodes[] | select(.applied != null and .applied >= $i)] | length' "$work/ep.json")" = 3 ]
}
for k in $(seq 1 600); do caught_up && break; sleep 0.1; done
caught_up || { echo "FAILED: the restored nodes do not all reach index $index"; exit 1; }
echo "restored cluster up, all three nodes at index >= $index: $(($(ms) - t1)) ms after the restores"
# each restored node's own image has the saved digest (a save reads its store in chunks)
for i in 1 2 3; do
  got=$("$RV" snapshot save "$work/r$i.rvs" --nodes "$(addr "$i")" --json | jq -r .digest)
  [ "$got" = "$want" ] || { echo "FAILED: restored n$i holds digest $got, not $want"; exit 1; }
  rm -f "$work/r$i.rvs"
done
echo "each restored node's namespace digest is the saved one ($want)"
cluster_stop "$work/r" "$RV"
