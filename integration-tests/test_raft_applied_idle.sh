#!/usr/bin/env bash
# On an idle cluster every node's `status` reports applied == commit. Raft's own entries (each
# new leader's empty entry, configuration changes) carry no command for kv-store, which used to
# skip them without moving its applied index: applied stayed below commit forever, one entry
# more after each new leader (`commit 17 applied 14`). Here: writes, then two leadership
# transfers (two empty entries at the end of the log), then applied must reach commit on all
# three nodes, and stay there across a restart of a kv-store.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
fs 1 -mkdir -p /a/b /c || fail "mkdir"
caught_up() {
  local i c a
  for i in 1 2 3; do
    c=$(raft_field "$T/n$i.yaml" commit) && a=$(raft_field "$T/n$i.yaml" applied) || return 1
    [ -n "$c" ] && [ "$c" = "$a" ] || return 1
  done
}
for round in 1 2; do
  leader=$(leader_agreed 3) || fail "no leader agreed"
  to=n$(follower_of 3 "$leader")
  out=$("$RV" raft -c "$T/$leader.yaml" transfer "$to") || fail "transfer $leader -> $to: $out"
  # answered on completion, not when it starts
  assert_contains "$out" "leadership transferred to $to" "raftvisor raft transfer $to"
  is_leader() { [ "$(leader_agreed 3)" = "$to" ]; }
  wait_for "$to leads (round $round)" 20 is_leader
  wait_for "applied = commit on all three nodes after the transfer to $to" 20 caught_up
  log "round $round: leader $to, commit $(raft_field "$T/$to.yaml" commit) = applied on all"
done
# a transfer to a node that is down fails, saying why, and leadership stays
leader=$(leader_agreed 3) || fail "no leader agreed"
down=n$(follower_of 3 "$leader")
stop_node "$T/$down.yaml"
expect_fail 1 "did not catch up and win" "$RV" raft -c "$T/$leader.yaml" transfer "$down"
[ "$(raft_field "$T/$leader.yaml" role)" = leader ] || fail "$leader no longer leads"
start_node "$T/$down.yaml"
wait_for "$down is back and caught up" 20 caught_up
# the applied index is durable: a restarted kv-store does not fall back below commit
expect_restart n1 kv-store 1
"$RV" restart -c "$T/n1.yaml" kv-store >/dev/null || fail "restart kv-store on n1"
wait_for "applied = commit on all three nodes after a kv-store restart" 20 caught_up
log "PASS"
