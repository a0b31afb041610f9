#!/usr/bin/env bash
# Enabling the replica on a cluster that already holds 100k files (the published design says the
# setting "has no effect" once data exists; ours uploads a base copy first): a three-node cluster
# without the replica is bulk-loaded, stopped, given ots.enabled (file:// backend) and started
# again. kv-store's change log starts at the applied index with a base copy needed; the leader's
# replicator makes one (one consistent view, paged, with progress in its log and in
# meta-status --detail), then goes on with the change log: _synced=1, and the remote copy
# hashes to every node's digest at one index. A write after that is uploaded incrementally into
# the same generation. Writes go on during the base copy (folded in before its commit).
source "$(dirname "$0")/lib.sh"
# 100k files; 30k in a sanitizer build (3x slower: the bulk load alone would take most of the
# test's time budget), unless RV_ENABLE_FILES says otherwise
FILES=${RV_ENABLE_FILES:-100000}
if [ -n "${ASAN_OPTIONS:-}" ] && [ -z "${RV_ENABLE_FILES:-}" ]; then FILES=30000; fi
cluster_yaml 3 health-monitor raft-peer kv-store
# a bulk load on a shared 2-core machine, and `fs -digest` of 300k rows (read on kv-store's loop)
# in a sanitizer build, can hold a loop past 1.5 s, and closing such a RocksDB can take more than
# the default 3 s: this test is about the replica, so the hang detector gets 5 s (20 s with
# sanitizers) instead of the harness's 1.5 s, and actors 20 s to stop
hb=5000
if [ -n "${ASAN_OPTIONS:-}" ]; then hb=20000; fi
sed -i "s/heartbeat-timeout-ms: 1500/heartbeat-timeout-ms: $hb\n  shutdown-timeout-ms: 20000/" "$T"/n[123].yaml
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /
"$RV" bench -c "$T/n1.yaml" --workload bulk-load --dirs 100 --files "$FILES" --clients 16 \
  >"$T/bulk.out" 2>&1 || fail "bulk-load: $(tail -n 3 "$T/bulk.out")"
log "bulk-load: $(grep -i 'files/s\|ops/s' "$T/bulk.out" | tail -n 1)"
# one digest per node, once settled (each reads the whole store)
wait_for "n1..n3 settled at one applied index" 60 s_applied_same 3
same_applied_index 3 || fail "nodes at different indexes after settling: $(cat "$T/digests")"
[ "$(awk '{print $1}' "$T/digests" | sort -u | wc -l)" -eq 1 ] || fail "replicas differ: $(cat "$T/digests")"
before=$(awk 'NR == 1 {print $1}' "$T/digests")
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done

# the shared directory is not there yet (a mount that is late): the replicators retry
for i in 1 2 3; do
  printf 'ots:\n  enabled: true\n  endpoint: "file://%s/remote"\n' "$T" >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "one leader agreed by all after enabling the replica" 30 leader_agreed 3
# writes go on while the base copy runs: it folds them in before it commits (repl_upload.h),
# and the copy must still equal the cluster at one index afterwards. The directory appears once
# the writes flow, so the base copy starts under them.
"$RV" bench -c "$T/n1.yaml" --workload create --clients 4 --rate 400 --seconds 15 \
  >"$T/during.out" 2>&1 &
during_pid=$!
applied_of() { raft_field "$T/n$1.yaml" applied; }
start_index=$(applied_of 1)
writes_flow() { local a; a=$(applied_of 1); [ -n "$a" ] && [ "$a" -gt $((${start_index:-0} + 300)) ]; }
wait_for "the writes flow" 30 writes_flow
mkdir -p "$T/remote"
progress() { "$RV" meta-status --detail -c "$T/n1.yaml" 2>/dev/null | grep -o 'base_rows=[0-9]*/[0-9]*' | sed -n 1p; }
seen=""
synced_watch() {
  local p
  p=$(progress) || true
  [ -n "$p" ] && seen="$seen $p"
  meta_synced
}
deadline=$((SECONDS + 120))
until synced_watch; do
  [ $SECONDS -ge $deadline ] && fail "no _synced=1 within 120 s: $("$RV" meta-status --detail -c "$T/n1.yaml" 2>&1)"
  sleep 0.2
done
L=$(leader_agreed 3)
grep -h "remote copy: base copy starts" "$T/$L/log/ots-replicator.log" >/dev/null ||
  fail "the leader's replicator logged no base copy: $(grep -h 'remote copy' "$T/$L/log/ots-replicator.log")"
done_line=$(grep -h "remote copy: base copy done" "$T/$L/log/ots-replicator.log" | tail -n 1)
[ -n "$done_line" ] || fail "no base copy done line"
rows=$(echo "$done_line" | sed -n 's/.*, \([0-9]*\) rows in .*/\1/p')
[ "${rows:-0}" -ge "$FILES" ] || fail "the base copy holds $rows rows, fewer than the $FILES files: $done_line"
log "leader $L: $done_line"
log "progress seen by meta-status --detail:${seen:- (none: the copy finished between two looks)}"
grep -h -m 3 "remote copy: base copy: [0-9]* of about" "$T/$L/log/ots-replicator.log" || true

wait "$during_pid" || fail "the writes during the base copy failed: $(tail -n 3 "$T/during.out")"
log "writes during the base copy: $(grep -i 'ops/s' "$T/during.out" | tail -n 1)"
wait_for "_synced=1 after the writes during the base copy" 60 meta_synced
remote_digest_equal 3
[ "$REMOTE_DIGEST" != "$before" ] || fail "the copy's digest is still the one before the writes"
# the leader's line (an election on a loaded host can leave a moment with none)
leader_gen() { gen=$("$RV" meta-status --json -c "$T/n1.yaml" 2>/dev/null |
  jq -er '[.nodes[] | select(.role == "LEADER")][0].generation') && [ "$gen" != null ]; }
wait_for "meta-status shows the leader's generation" 30 leader_gen
[ "$gen" = 1 ] || fail "expected generation 1 after one base copy, got $gen"

fs 1 -mkdir /after-enable || fail "mkdir /after-enable"
remote_digest_equal 3
wait_for "meta-status shows the leader's generation" 30 leader_gen
[ "$gen" = 1 ] || fail "a write after the base copy should go into generation 1, got $gen"
log "ok: $FILES files, base copy then incremental; remote = cluster at index $REMOTE_INDEX"
