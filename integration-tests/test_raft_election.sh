#!/usr/bin/env bash
# Three raft-peers elect one leader that all agree on; kill -9 the leader's raft-peer: a leader
# is elected in a later term, and the killed one comes back (restarted by its supervisor) as a
# follower that catches up with the leader's commit index.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 15 leader_agreed 3
leader=$(leader_agreed 3)
term=$(raft_field "$T/$leader.yaml" term)
log "leader $leader in term $term"
pid=$(actor_pid "$T/$leader.yaml" raft-peer)
expect_restart "$leader" raft-peer
kill -9 "$pid"
newer() { local l; l=$(leader_agreed 3) && [ "$(raft_field "$T/$l.yaml" term)" -gt "$term" ]; }
wait_for "a leader in a later term" 15 newer
new=$(leader_agreed 3)
log "new leader $new in term $(raft_field "$T/$new.yaml" term)"
wait_for "the killed raft-peer restarted" 10 field_is "$T/$leader.yaml" raft-peer restarts 1
caught_up() {
  local c
  c=$(raft_field "$T/$new.yaml" commit)
  [ -n "$c" ] && [ "$(raft_field "$T/$leader.yaml" commit)" = "$c" ] && [ "$c" -gt 0 ]
}
wait_for "the restarted node catches up with the leader's commit" 15 caught_up
log "ok: commit $(raft_field "$T/$new.yaml" commit) on both"
