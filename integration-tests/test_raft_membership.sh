#!/usr/bin/env bash
# Membership changes from the CLI while a client keeps writing: a four-node cluster where n4 is a
# spare (voter: false, outside the initial configuration); `raftvisor raft add-learner n4` makes
# it a learner that catches up, `promote n4` a voter, `remove` takes out a follower, which is
# then stopped. No acknowledged write is lost, and the remaining nodes show three voters.
source "$(dirname "$0")/lib.sh"
cluster_yaml 4 health-monitor raft-peer kv-store
# n4 is a spare in every node's file: linked statically, but not in the bootstrap configuration
for i in 1 2 3 4; do sed -i 's/^\(    - {public-key: "[^"]*", \)id: n4, /\1voter: false, id: n4, /' "$T/n$i.yaml"; done
grep -q 'voter: false, id: n4' "$T/n1.yaml" || fail "could not mark n4 as a spare"
for i in 1 2 3 4; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by n1..n3" 20 leader_agreed 3
wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /w
leader=$(leader_agreed 3)
L=$T/$leader.yaml
membership_is() { [ "$(raft_field "$1" membership)" = "$2" ]; }
voters_are() { [ "$(status_json "$1" | jq -r '.raft.voters | length')" = "$2" ]; }
wait_for "the spare n4 says it is not a member" 10 membership_is "$T/n4.yaml" not-member
wait_for "the leader shows 3 voters" 10 voters_are "$L" 3

fs_writer start "${leader#n}"
wait_for "20 writes acknowledged" 20 acked_at_least 20

# any node may be asked; a follower names the leader
f=$(follower_of 3 "$leader")
expect_fail 1 "not the leader; run it against node $leader" "$RV" raft -c "$T/n$f.yaml" add-learner n4
expect_fail 2 "unknown operation" "$RV" raft -c "$L" frobnicate n4
expect_fail 1 "no node \"n9\"" "$RV" raft -c "$L" add-learner n9

out=$("$RV" raft -c "$L" add-learner n4) || fail "add-learner n4 failed: $out"
log "$out"
assert_contains "$out" "committed at index" "add-learner answer"
wait_for "n4 sees itself as a learner" 10 membership_is "$T/n4.yaml" learner
target=$(raft_field "$L" commit)
n4_caught_up() { [ "$(raft_field "$T/n4.yaml" commit)" -ge "$target" ]; }
wait_for "n4's commit reaches the leader's ($target)" 30 n4_caught_up
expect_fail 1 "it is already a member" "$RV" raft -c "$L" add-learner n4

# one change at a time: retry while an earlier one is still in flight (bounded by wait_for)
wait_for "promote n4" 30 "$RV" raft -c "$L" promote n4
wait_for "n4 is a voter" 10 membership_is "$T/n4.yaml" voter
wait_for "the leader shows 4 voters" 10 voters_are "$L" 4

# remove a follower (not the leader), then stop it; writes go on
victim=n$f
wait_for "remove $victim" 30 "$RV" raft -c "$L" remove "$victim"
# promote is for learners: a removed node must be added as a learner again first
expect_fail 1 "it is not a learner" "$RV" raft -c "$L" promote "$victim"
# the removed node learns of its removal (the leader sends it that entry) and says so
wait_for "$victim says it is not a member" 10 membership_is "$T/$victim.yaml" not-member
at_remove=$(wc -l <"$T/acked")
log "removed $victim after $at_remove writes; stopping it"
stop_node "$T/$victim.yaml"
wait_for "30 more writes acknowledged after the removal" 30 acked_at_least $((at_remove + 30))
fs_writer stop
log "$(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed"
[ ! -s "$T/failed" ] || fail "writes failed during the changes: $(head -n 5 "$T/writer.err")"

three_voters() {
  [ "$(status_json "$1" | jq -r '.raft.voters | sort | join(",")')" = "$2" ]
}
want=$(for i in 1 2 3 4; do if [ "n$i" != "$victim" ]; then echo "n$i"; fi; done | sort | paste -sd,)
for i in 1 2 3 4; do
  [ "n$i" = "$victim" ] && continue
  wait_for "n$i shows the voters $want" 10 three_voters "$T/n$i.yaml" "$want"
  wait_for "n$i holds every acknowledged write" 20 fs_all_acked "$i" --stale
done
log "ok: voters $want; every acknowledged write present on each"
