#!/usr/bin/env bash
# A term of 2^64-1 in a Raft message is refused before the Raft core sees it: adopted, it would
# wrap the next campaign to term 0 (or, refused only by the core, leave every other code path
# after decoding, such as the fencer's handover term, to handle it). With n3 stopped (its
# routing id free), rv-hostile-peer sends a follower a heartbeat at term UINT64_MAX, and one at
# 2^63 (the first term beyond RAFT_TERM_MAX), as n3. The follower must count both as malformed
# (raft.dropped_malformed), log why, keep its term and its leader, and writes must go on.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
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
wait_for "the namespace takes a write" 20 fs "$l" -mkdir -p /before
term=$(raft_field "$T/n$f.yaml" term)
[ "$(raft_field "$T/n$f.yaml" dropped_malformed)" = 0 ] || fail "malformed drops before the test"

for forged in 18446744073709551615 9223372036854775808; do
  "$RV_BIN/rv-hostile-peer" -c "$T/n$f.yaml" --key "$T/keys/n3.secret" --as n3 heartbeat --term "$forged" ||
    fail "rv-hostile-peer (term $forged)"
done
malformed_two() { [ "$(raft_field "$T/n$f.yaml" dropped_malformed)" -ge 2 ]; }
wait_for "n$f counts both forged heartbeats as malformed" 10 malformed_two
grep "beyond the largest Raft term" "$T/n$f/log/raft-peer.log" ||
  fail "n$f's log does not say why the heartbeat was dropped"
if grep -n "the core refused" "$T/n$f/log/raft-peer.log"; then
  fail "a forged term reached n$f's Raft core"
fi
assert_eq "$(raft_field "$T/n$f.yaml" term)" "$term" "n$f's term after the forged heartbeats"
assert_eq "$(leader_of_two)" "$leader" "the leader after the forged heartbeats"
wait_for "a write after the forgeries" 20 fs "$l" -mkdir -p /after
digests_equal 2
log "PASS: term UINT64_MAX and 2^63 refused at decoding on n$f (term stays $term)"
