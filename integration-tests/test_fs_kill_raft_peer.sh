#!/usr/bin/env bash
# Acknowledged writes survive the loss of the leader: a client writes continuously (each write
# acknowledged only once applied), the leader's raft-peer is killed with SIGKILL mid-stream; a
# new leader takes over, the client fails over by itself (no write fails), and every write that
# was acknowledged is there afterwards, on the new leader and, once it caught up, on the node
# whose raft-peer was killed.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
term=$(raft_field "$T/$leader.yaml" term)
fs 1 -mkdir /w || fail "mkdir /w"
fs_writer start 1
wait_for "30 writes acknowledged" 20 acked_at_least 30
pid=$(actor_pid "$T/$leader.yaml" raft-peer)
at_kill=$(wc -l <"$T/acked")
log "leader $leader (term $term): kill -9 its raft-peer (pid $pid) after $at_kill writes"
expect_restart "$leader" raft-peer
kill -9 "$pid"
newer() { local l; l=$(leader_agreed 3) && [ "$(raft_field "$T/$l.yaml" term)" -gt "$term" ]; }
wait_for "a leader in a later term" 20 newer
new=$(leader_agreed 3)
wait_for "30 more writes acknowledged after the failover" 30 acked_at_least $((at_kill + 30))
fs_writer stop
log "new leader $new; $(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed"
[ ! -s "$T/failed" ] || fail "writes failed during the failover: $(head -n 5 "$T/writer.err")"
fs_all_acked "${new#n}" || fail "the new leader $new misses acknowledged writes"
wait_for "the killed raft-peer restarted" 10 field_is "$T/$leader.yaml" raft-peer restarts 1
# the node whose raft-peer died catches up: its own state (a stale read) holds every write
wait_for "the old leader's namespace caught up" 20 fs_all_acked "${leader#n}" --stale
log "ok: every acknowledged write survived"
