#!/usr/bin/env bash
# A snapshot is taken only from the leader a follower follows, at its term, and only when it
# holds something new; Raft decides before anything reaches kv-store (DESIGN rule 8). Before
# this was enforced, raft-peer forwarded a stream's chunks to kv-store, which swapped its
# database, and only then stepped the snapshot into the Raft core, which could ignore it: a
# deposed leader's late stream, or anyone presenting a member's routing id, replaced a
# follower's namespace.
#
# With n3 stopped (so its routing id is free), rv-hostile-peer connects to the follower's Raft
# port as n3, with n3's own key (a deposed or compromised member: CURVE lets it in), and sends the opening chunk of a snapshot far beyond the commit index:
#   1. at a term below the follower's (what a deposed leader's late stream looks like);
#   2. at the follower's own term (n3 is not the leader it follows: one leader per term);
#   3. at a higher term, which the follower has not reached.
# Each must be refused by raft-peer (logged, with the reason), kv-store must never start an
# install, the follower's namespace must stay equal to the leader's (digests at one applied
# index), and writes must go on.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
# n3 is never started: its id is the one the attacker presents
for i in 1 2; do start_node "$T/n$i.yaml"; done
leader_of_two() {
  local a b
  a=$(raft_field "$T/n1.yaml" leader) && b=$(raft_field "$T/n2.yaml" leader) || return 1
  [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != n3 ] && echo "$a"
}
wait_for "n1 and n2 agree on a leader" 20 leader_of_two
leader=$(leader_of_two)
l=${leader#n}
f=$((3 - l))
wait_for "the namespace takes a write" 20 fs "$l" -mkdir -p /before/a /before/b
# a leadership transfer moves the term past 1, so that a stale term exists to forge
"$RV" raft -c "$T/n$l.yaml" transfer "n$f" >/dev/null || fail "raftvisor raft transfer n$f"
new_leader() { [ "$(leader_of_two)" = "n$f" ]; }
wait_for "n$f leads after the transfer" 20 new_leader
leader=n$f
l=$f
f=$((3 - l))
wait_for "the namespace takes a write after the transfer" 20 fs "$l" -mkdir -p /before/c
log "leader $leader, follower n$f; n3 down"

refusals() { grep -c "refused the chunk at offset 0" "$T/n$f/log/raft-peer.log" 2>/dev/null; }
refused_at_least() { [ "$(refusals)" -ge "$1" ]; }

term=$(raft_field "$T/n$f.yaml" term)
commit=$(raft_field "$T/n$f.yaml" commit)
[ -n "$term" ] && [ "$term" -ge 2 ] || fail "follower n$f reports term \"$term\" (expected >= 2)"
n=0
for forged_term in $((term - 1)) "$term" $((term + 1)); do
  n=$((n + 1))
  "$RV_BIN/rv-hostile-peer" -c "$T/n$f.yaml" --key "$T/keys/n3.secret" --as n3 snapshot --term "$forged_term" \
    --index $((commit + 1000)) || fail "rv-hostile-peer (term $forged_term)"
  wait_for "n$f refuses the forged snapshot at term $forged_term" 10 refused_at_least "$n"
done
grep "refused the chunk" "$T/n$f/log/raft-peer.log"
refused_counted() { [ "$(raft_field "$T/n$f.yaml" snapshots_refused)" = 3 ]; }
wait_for "n$f's status counts 3 refused snapshots (raft.snapshots_refused)" 10 refused_counted
grep -q "below our term" "$T/n$f/log/raft-peer.log" || fail "no refusal names the stale term"
grep -q "not the leader we follow" "$T/n$f/log/raft-peer.log" ||
  fail "no refusal names the sender as not the leader"
if grep -n "installing snapshot\|snapshot .* installed" "$T/n$f/log/kv-store.log"; then
  fail "kv-store on n$f started installing a forged snapshot"
fi

# the follower still serves the same namespace as the leader, and writes go on
wait_for "a write after the forgeries" 20 fs "$l" -mkdir -p /after
digests_equal 2
log "digest $DIGEST at applied index $DIGEST_INDEX on n1 and n2"
out=$(fs_at "$f" --stale -ls /) || fail "fs -ls / on n$f"
assert_contains "$out" "/before" "n$f's namespace after the forgeries"
log "PASS"
