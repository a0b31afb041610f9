#!/usr/bin/env bash
# Acknowledged writes survive the loss of the leader's kv-store: a client writes continuously,
# the leader's kv-store is killed with SIGKILL mid-stream (its RocksDB writes are not synced
# per batch: the Raft log is the durable record). The supervisor restarts it, it asks raft-peer
# for the entries it had not made durable, and serves again; the client rides it out (no write
# fails) and every acknowledged write is there, on the leader and on every follower.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
fs 1 -mkdir /w || fail "mkdir /w"
fs_writer start 1
wait_for "30 writes acknowledged" 20 acked_at_least 30
pid=$(actor_pid "$T/$leader.yaml" kv-store)
at_kill=$(wc -l <"$T/acked")
log "leader $leader: kill -9 its kv-store (pid $pid) after $at_kill writes"
expect_restart "$leader" kv-store
kill -9 "$pid"
wait_for "the killed kv-store restarted" 10 field_is "$T/$leader.yaml" kv-store restarts 1
wait_for "30 more writes acknowledged after the restart" 30 acked_at_least $((at_kill + 30))
fs_writer stop
log "$(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed"
[ ! -s "$T/failed" ] || fail "writes failed around the restart: $(head -n 5 "$T/writer.err")"
fs_all_acked "${leader#n}" || fail "the leader misses acknowledged writes"
for i in 1 2 3; do
  wait_for "n$i's namespace holds every acknowledged write" 20 fs_all_acked "$i" --stale
done
grep -q "asked raft-peer for committed entries" "$T/$leader/log/kv-store.log" ||
  fail "the restarted kv-store did not ask raft-peer for its entries"
log "ok: every acknowledged write survived"
