#!/usr/bin/env bash
# A member that lost its data-dir cannot vote a second time in a term: it comes back with a new
# incarnation, its peers take it for a stranger and step nothing of it into Raft until
# `raftvisor raft rejoin` has removed and re-added it. Before incarnations, a wiped node voted
# at once (a fresh log, no vote cast) and could give a second vote in the term it had voted in.
#   1. three nodes; follower nF is stopped, wiped, restarted: the leader lists it in
#      raft.strangers and counts the frames it drops from it;
#   2. the leader is stopped, leaving the other follower nO and the wiped nF: nO campaigns, nF's
#      answers are dropped before nO's core (counted), and nobody is elected, although two of
#      three nodes run: the wiped node's vote does not count;
#   3. the leader comes back and leads; `raftvisor raft rejoin nF` (JSON) removes nF, adds it as
#      a learner, waits for its catch-up (a snapshot) and promotes it; no stranger is left and
#      all three hold one namespace;
#   4. the leader is stopped again: now nO and nF elect a leader between them (nF's vote counts
#      again), and writes go on.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
leader=$(leader_agreed 3)
l=${leader#n}
f=$(follower_of 3 "$leader")
o=$((6 - l - f))
wait_for "the namespace takes a write" 20 fs "$l" -mkdir -p /before/a
for ((k = 1; k <= 20; k++)); do fs "$l" -mkdir -p "/before/d$k" || fail "mkdir /before/d$k"; done
# every node knows every member's incarnation (the leader passes its table on)
knows_all() {
  local i
  for i in 1 2 3; do
    [ "$(wc -l <"$T/n$i/raft/incarnations" 2>/dev/null || echo 0)" -ge 3 ] || return 1
  done
}
wait_for "every node remembers the others' incarnations" 20 knows_all
old_inc=$(raft_field "$T/n$f.yaml" incarnation)
log "leader $leader, follower n$f (to be wiped, incarnation $old_inc), other follower n$o"

# 1. the wiped node is a stranger
stop_node "$T/n$f.yaml"
wipe_node "n$f"
start_node "$T/n$f.yaml"
new_inc=$(raft_field "$T/n$f.yaml" incarnation)
[ -n "$new_inc" ] && [ "$new_inc" != "$old_inc" ] ||
  fail "n$f's incarnation after the wipe: \"$new_inc\" (was $old_inc)"
stranger_on() { status_json "$T/n$1.yaml" | jq -e --arg n "n$f" '.raft.strangers | index($n)'; }
wait_for "the leader lists n$f as a stranger" 20 stranger_on "$l"
grep "node n$f presents incarnation $new_inc, not $old_inc" "$T/$leader/log/raft-peer.log" ||
  fail "the leader's log does not name the stranger"
[ "$(raft_field "$T/$leader.yaml" dropped_stranger)" -ge 1 ] || fail "no stranger frame counted"
wait_for "writes go on with n$f a stranger" 20 fs "$l" -mkdir -p /during

# 2. the leader goes: n$o and the wiped n$f do not make a quorum
stop_node "$T/$leader.yaml"
drops() { raft_field "$T/n$o.yaml" dropped_stranger; }
before=$(drops)
dropped_more() { [ "$(drops)" -ge $((before + 3)) ]; }
wait_for "n$o campaigns and drops n$f's answers" 30 dropped_more
for i in "$o" "$f"; do
  role=$(raft_field "$T/n$i.yaml" role)
  [ "$role" != leader ] || fail "n$i leads with the vote of a node that lost its data-dir"
done
stranger_on "$o" >/dev/null || fail "n$o does not list n$f as a stranger"
log "no leader without $leader: n$o dropped $(($(drops) - before)) frames of stranger n$f"

# 3. rejoin
start_node "$T/$leader.yaml"
# leader_among A B: prints whichever of nA, nB is in the leader role; fails when neither is
leader_among() {
  local i
  for i in "$@"; do
    [ "$(raft_field "$T/n$i.yaml" role 2>/dev/null)" = leader ] && { echo "$i"; return 0; }
  done
  return 1
}
wait_for "a leader among $leader and n$o" 30 leader_among "$l" "$o"
l=$(leader_among "$l" "$o") || fail "no leader among n$l and n$o"
o=$((6 - l - f))
rc=0
out=$("$RV" raft -c "$T/n$l.yaml" --json rejoin "n$f" --timeout 60) || rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "raftvisor raft rejoin n$f exited $rc"
assert_eq "$(echo "$out" | jq -r .ok)" true "rejoin's JSON ok"
assert_contains "$(echo "$out" | jq -r .message)" "promoted to voter" "rejoin's message"
no_stranger() { [ "$(status_json "$T/n$l.yaml" | jq '.raft.strangers | length')" = 0 ]; }
wait_for "no stranger left on the leader" 20 no_stranger
# status shows raft-peer's last report to its supervisor, which may predate the promotion that
# rejoin saw committed: wait for it (bounded) rather than read it once
voters_of() { status_json "$T/n$l.yaml" | jq -r '.raft.voters | sort | join(",")'; }
all_voters() { [ "$(voters_of)" = "n1,n2,n3" ]; }
wait_for "the voters after the rejoin to be n1,n2,n3" 10 all_voters
fs "$l" -mkdir -p /after-rejoin || fail "a write after the rejoin"
digests_equal 3
log "rejoined: digest $DIGEST at applied index $DIGEST_INDEX on all three nodes"

# 4. the rejoined node's vote counts again
stop_node "$T/n$l.yaml"
wait_for "n$o and n$f elect a leader" 30 leader_among "$o" "$f"
w=$(leader_among "$o" "$f") || fail "no leader among n$o and n$f"
wait_for "a write with n$l down" 20 fs "$w" -mkdir -p /two-of-three
log "PASS: n$w leads with n$f's vote after the rejoin"
