#!/usr/bin/env bash
# Rolling upgrade under load, from a previous release to this build (not in CI: it builds the
# old release, which takes minutes on a small machine; its last result is in the README).
#
#   scripts/upgrade-test.sh [COMMIT] [--seconds S]
# Starts a three-node cluster with the binaries of COMMIT (default e7e8172, the previous
# release; built once in /tmp/rv-old-COMMIT by lib-old-release.sh) and a writer (this build's
# CLI, one write per call: mkdir /w/N, every 4th a put with content), then replaces one node at
# a time with this build (stop with the old binary, start with the new one on the same
# data-dir), waiting each time until the node has caught up and the writer has had writes
# acknowledged since, leader included. At the end the writer stops and the script checks: every
# node at one applied index with one namespace digest, every acknowledged write (and each put's
# content) on every node's own state, no actor restarted on any upgraded node. Exit 0 when all
# hold; the report says what was seen.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
commit=e7e8172
seconds=3
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) commit=$1; shift ;;
  esac
done
source "$top/scripts/lib-old-release.sh"
source "$top/scripts/lib-cluster.sh"
old_bin=$(old_release_bin "$top" "$commit")
OLD=$old_bin/raftvisor
NEW=$top/build/bin/raftvisor
[ -x "$NEW" ] || { echo "build this tree first (scripts/build.sh)" >&2; exit 2; }
work=$(mktemp -d /tmp/rv-upgrade.XXXXXX)
writer_pid=
finish() {
  [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null || true
  cluster_stop "$work" "$NEW"
  cluster_stop "$work" "$OLD"
  if [ "${keep:-0}" = 1 ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap finish EXIT
base=$((20000 + RANDOM % 10000))
cluster_yaml "$work" up "$base" $((base + 10)) "actors:
  - {name: health-monitor}
  - {name: raft-peer}
  - {name: kv-store}"
cluster_start "$work" "$OLD"
addr() { echo "127.0.0.1:$((base + 10 + $1))"; }
applied() { "$NEW" fs --nodes "$(addr "$1")" --stale -digest 2>/dev/null | awk '{print $2}'; }
wait_until() { # SECONDS WHAT COMMAND...
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { echo "FAILED: $what within ${limit}s" >&2; keep=1; exit 1; }
    sleep 0.1
  done
}
wait_until 30 "the old cluster takes a write" "$NEW" fs -c "$work/n1.yaml" -mkdir -p /w
echo "old cluster ($commit) up on $work"

: >"$work/acked"
: >"$work/failed"
(
  i=0
  while [ ! -e "$work/stop" ]; do
    i=$((i + 1))
    if [ $((i % 4)) = 0 ]; then
      printf 'v%d' $i | "$NEW" fs -c "$work/n$((i % 3 + 1)).yaml" --retry 30000 -put - "/w/$i"
    else
      "$NEW" fs -c "$work/n$((i % 3 + 1)).yaml" --retry 30000 -mkdir "/w/$i"
    fi 2>>"$work/writer.err" && echo $i >>"$work/acked" || echo $i >>"$work/failed"
  done
) &
writer_pid=$!
acked() { wc -l <"$work/acked"; }
more_acked() { [ "$(acked)" -ge "$1" ]; }
wait_until 30 "the first writes" more_acked 20

for i in 1 2 3; do
  role=$("$OLD" status --json -c "$work/n$i.yaml" | jq -r '.raft.role // "?"')
  before=$(acked)
  "$OLD" stop -c "$work/n$i.yaml" >/dev/null
  "$NEW" start --daemon -c "$work/n$i.yaml" >/dev/null
  target=$(applied $(( (i % 3) + 1 )))
  caught_up() { local a; a=$(applied "$i"); [ -n "$a" ] && [ "$a" -ge "$target" ]; }
  wait_until 60 "n$i (upgraded) catches up to index $target" caught_up
  wait_until 60 "writes acknowledged after n$i's upgrade" more_acked $((before + 30))
  echo "n$i ($role) upgraded: caught up to index $target; $(acked) writes acknowledged so far"
done
sleep "$seconds" # the load goes on against the upgraded cluster for a while
touch "$work/stop"
wait "$writer_pid" || true
writer_pid=

same_index() {
  local a1 a2 a3
  a1=$(applied 1) a2=$(applied 2) a3=$(applied 3)
  [ -n "$a1" ] && [ "$a1" = "$a2" ] && [ "$a2" = "$a3" ]
}
wait_until 30 "every node at one applied index" same_index
digests=$(for i in 1 2 3; do "$NEW" fs --nodes "$(addr "$i")" --stale -digest | awk '{print $1}'; done | sort -u | wc -l)
status=0
[ "$digests" = 1 ] || { echo "FAILED: the nodes hold different namespaces at one index"; status=1; }
sort "$work/acked" >"$work/want"
for i in 1 2 3; do
  "$NEW" fs --nodes "$(addr "$i")" --stale -ls /w | awk 'NR > 1 {sub(".*/", "", $NF); print $NF}' |
    sort >"$work/have.$i"
  missing=$(comm -23 "$work/want" "$work/have.$i" | wc -l)
  [ "$missing" = 0 ] || { echo "FAILED: n$i misses $missing acknowledged writes"; status=1; }
  for k in $(awk '$1 % 4 == 0' "$work/acked" | shuf -n 20 --random-source=/dev/zero); do
    got=$("$NEW" fs --nodes "$(addr "$i")" --stale -cat "/w/$k")
    [ "$got" = "v$k" ] || { echo "FAILED: n$i /w/$k reads \"$got\""; status=1; }
  done
  restarts=$("$NEW" status --json -c "$work/n$i.yaml" | jq '[.actors[].restarts] | add')
  [ "$restarts" = 0 ] || { echo "FAILED: n$i: $restarts actor restarts"; status=1; }
done
echo "rolling upgrade $commit -> $(git -C "$top" rev-parse --short HEAD) under load:" \
  "$(acked) writes acknowledged, $(wc -l <"$work/failed") failed (not acknowledged: allowed)," \
  "every node at index $(applied 1), one digest: $([ "$digests" = 1 ] && echo yes || echo NO)," \
  "acknowledged writes all present: $([ "$status" = 0 ] && echo yes || echo NO)"
[ "$status" = 0 ] || keep=1
exit "$status"
