#!/usr/bin/env bash
# A disk that reports I/O errors, at the node level: every node runs with librvfailsync.so
# preloaded (integration-tests/tools/rv_fail_sync.c), which fails the syncs a trigger file names.
# Under a continuous writer:
#   1. a follower's Raft log fdatasync fails (EIO): its raft-peer must not trust the log after a
#      failed sync (fsyncgate); it stops, is restarted, recovers from what is on disk and catches
#      up, while the other two keep committing;
#   2. the leader's Raft log fdatasync fails: the same, and a new leader takes over without a
#      failed write;
#   3. a follower's RocksDB sync fails (kv-store's WAL): kv-store recovers (by itself or by a
#      restart) and catches up;
#   4. the leader's RocksDB sync fails with ENOSPC: the same;
#   5. the leader's RocksDB write fails (its WAL, EIO) in an apply: the leader answers its
#      clients before that write (kv_apply.c), so the write it answered must not be lost: its
#      kv-store recovers and applies the entries again.
# At the end every acknowledged write is on every node and the three namespaces are identical;
# each injected error was logged by the node, naming the file.
source "$(dirname "$0")/lib.sh"
SHIM=$RV_BIN/librvfailsync.so
[ -f "$SHIM" ] || fail "$SHIM is missing (build the rvfailsync target)"
export RV_FAIL_SYNC_TRIGGER=$T/fail-sync
if [ -n "${ASAN_OPTIONS:-}" ]; then
  # the shim is loaded before libasan; it has no sanitizer of its own and only forwards to libc
  export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
fi
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do LD_PRELOAD=$SHIM start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /
fs 1 -mkdir /w || fail "mkdir /w"
fs_writer start 1
wait_for "20 writes acknowledged" 30 acked_at_least 20

injected() { ! [ -e "$RV_FAIL_SYNC_TRIGGER" ]; }
# inject NODE_DIR_MATCH ERRNO [write]: arms one failed sync (or write) of a file under the
# match, waits until it hit
inject() {
  echo "$1 $2 1 ${3:-}" >"$RV_FAIL_SYNC_TRIGGER"
  wait_for "a sync under $1 failed with $2" 30 injected
}
# logged NODE ACTOR: the node's actor log names the injected failure
logged() { grep -q "rv-fail-sync: .*$T/$1/" "$T/$1/log/$2.log"; }
# kv_recovered NODE: its kv-store reopened the store from disk, or was restarted to do so
kv_recovered() {
  grep -q "namespace store reopened from disk" "$T/$1/log/kv-store.log" ||
    [ "$(actor_field "$T/$1.yaml" kv-store restarts)" -ge 1 ]
}
# kv_recoveries NODE: how often its kv-store reopened the store or was restarted
kv_recoveries() {
  echo $(($(grep -c "namespace store reopened from disk" "$T/$1/log/kv-store.log") +
    $(actor_field "$T/$1.yaml" kv-store restarts)))
}
kv_recovered_again() { [ "$(kv_recoveries "$1")" -gt "$2" ]; }
progress() {
  local n
  n=$(wc -l <"$T/acked")
  wait_for "$1 more writes acknowledged" 60 acked_at_least $((n + $1))
}

# -- 1. a follower's Raft log --
leader=$(leader_agreed 3)
f=n$(follower_of 3 "$leader")
log "1. $f's Raft log: fdatasync -> EIO"
expect_restart "$f" raft-peer
inject "$T/$f/raft/" EIO
wait_for "$f logged it" 10 logged "$f" raft-peer
wait_for "$f's raft-peer restarted" 30 field_is "$T/$f.yaml" raft-peer restarts 1
progress 20
grep -q "fdatasync" "$T/$f/log/raft-peer.log" || fail "$f's raft-peer did not name the failed fdatasync"

# -- 2. the leader's Raft log --
leader=$(leader_agreed 3)
term=$(raft_field "$T/$leader.yaml" term)
log "2. the leader $leader's Raft log: fdatasync -> EIO"
expect_restart "$leader" raft-peer
inject "$T/$leader/raft/" EIO
wait_for "$leader's raft-peer restarted" 30 field_is "$T/$leader.yaml" raft-peer restarts 1
newer() { local l; l=$(leader_agreed 3) && [ "$(raft_field "$T/$l.yaml" term)" -gt "$term" ]; }
wait_for "a leader in a later term" 30 newer
progress 20

# -- 3. a follower's RocksDB --
leader=$(leader_agreed 3)
f=n$(follower_of 3 "$leader")
log "3. $f's RocksDB: sync -> EIO"
expect_restart "$f" kv-store
inject "$T/$f/kv" EIO
wait_for "$f logged it" 10 logged "$f" kv-store
wait_for "$f's kv-store recovered from disk" 30 kv_recovered "$f"
progress 20

# -- 4. the leader's RocksDB, out of space --
leader=$(leader_agreed 3)
log "4. the leader $leader's RocksDB: sync -> ENOSPC"
expect_restart "$leader" kv-store
inject "$T/$leader/kv" ENOSPC
wait_for "$leader logged it" 10 logged "$leader" kv-store
wait_for "$leader's kv-store recovered from disk" 30 kv_recovered "$leader"
progress 20

# -- 5. the leader's RocksDB write, after its clients were answered --
leader=$(leader_agreed 3)
before=$(kv_recoveries "$leader")
log "5. the leader $leader's RocksDB: write of its WAL -> EIO"
expect_restart "$leader" kv-store
inject "$T/$leader/kv/*.log" EIO write
wait_for "$leader logged it" 10 grep -q "rv-fail-sync: .*write($T/$leader/kv/" "$T/$leader/log/kv-store.log"
wait_for "$leader's kv-store recovered from disk" 30 kv_recovered_again "$leader" "$before"
grep -q "kv apply: writing index [0-9]*: .*reopening the store from disk" "$T/$leader/log/kv-store.log" ||
  fail "$leader's kv-store did not log a failed apply write: $(grep -i "rocksdb\|reopen" "$T/$leader/log/kv-store.log" | tail -n 3)"
progress 20

fs_writer stop
log "$(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed; kv-store restarts:" \
  "$(for i in 1 2 3; do printf 'n%s=%s ' $i "$(actor_field "$T/n$i.yaml" kv-store restarts)"; done)"
[ ! -s "$T/failed" ] || fail "writes failed: $(head -n 5 "$T/writer.err")"
for i in 1 2 3; do
  wait_for "n$i holds every acknowledged write" 60 fs_all_acked "$i" --stale
done
digests_equal 3
log "ok: every acknowledged write on every node, one digest $DIGEST at index $DIGEST_INDEX"
