#!/usr/bin/env bash
# A partition on the real transport: three nodes in network namespaces (nemesis/netns.sh), the
# leader cut from both followers by iptables inside the namespaces while a client creates files
# through every node. The majority elects a new leader; the old one steps down (check-quorum);
# no term ever has two leaders, as seen by sampling every node's status in rounds (50 ms apart) for the
# whole test. Then the partition heals, and the time for the isolated node to catch up (from the
# heal to it following the new leader with everything committed at the heal applied) is
# measured and printed: a report, with only a generous liveness deadline. At the end the digests
# converge and every acknowledged create is in every node's own state.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nemesis/nemesis_lib.sh"
nem_cluster_up
seed=${RV_LIN_SEED:-$((RANDOM + 1))}
log "create workload seed $seed (RV_LIN_SEED=$seed replays it)"
# the load runs until the stop file appears (it then finishes what is in flight)
"$RV_BIN/rv-lin-workload" --nodes "$(nem_nodes)" --out "$T/acked.jsonl" --clients 2 --seconds 300 \
  --stop-file "$T/workload.stop" --seed "$seed" --dir /acked --unique >"$T/workload.txt" 2>&1 &
wl=$!
echo $wl >>"$T/pids"

# every node's (term, role) every 50 ms, until told to stop
(
  while [ ! -e "$T/sampler.stop" ]; do
    for i in 1 2 3; do
      status_json "$T/n$i.yaml" 2>/dev/null | jq -r --arg n "n$i" '"\($n) \(.raft.term // 0) \(.raft.role // "-")"' || true
    done
    sleep 0.05
  done
) >"$T/roles.txt" &
sampler=$!
echo $sampler >>"$T/pids"

ops_at_least() { [ -f "$T/acked.jsonl" ] && [ "$(wc -l <"$T/acked.jsonl")" -ge "$1" ]; }
wait_for "50 creates on the healthy cluster" 20 ops_at_least 50
old=$(nem_leader)
old_term=$(raft_field "$T/n$old.yaml" term)
a=$(nem_other "$old")
b=$(nem_other "$old" "$a")
netns_cut "$old" "$a"
netns_cut "$old" "$b"
cut_ms=$(date +%s%3N)
log "partition: leader n$old (term $old_term) cut from n$a and n$b; n$old's rules: $(netns_rules "$old" | tr '\n' ';')"

majority_leader() { # n$a and n$b agree on a leader other than n$old, in a newer term
  local la lb ta tb
  la=$(raft_field "$T/n$a.yaml" leader) && lb=$(raft_field "$T/n$b.yaml" leader) || return 1
  ta=$(raft_field "$T/n$a.yaml" term) && tb=$(raft_field "$T/n$b.yaml" term) || return 1
  [ -n "$la" ] && [ "$la" = "$lb" ] && [ "$la" != "n$old" ] && [ "$ta" = "$tb" ] && [ "$ta" -gt "$old_term" ]
}
wait_for "a new leader on the majority side" 30 majority_leader
elected_ms=$(($(date +%s%3N) - cut_ms))
new=$(raft_field "$T/n$a.yaml" leader)
new_term=$(raft_field "$T/n$a.yaml" term)
stepped_down() { [ "$(raft_field "$T/n$old.yaml" role)" != leader ]; }
wait_for "the isolated n$old to step down" 30 stepped_down
down_ms=$(($(date +%s%3N) - cut_ms))
log "new leader $new in term $new_term ${elected_ms} ms after the cut; n$old stepped down after ${down_ms} ms" \
  "(now $(raft_field "$T/n$old.yaml" role), term $(raft_field "$T/n$old.yaml" term))"
acked_before=$(wc -l <"$T/acked.jsonl")
wait_for "50 creates acknowledged during the partition" 20 ops_at_least $((acked_before + 50))

commit_at_heal=$(raft_field "$T/$new.yaml" commit)
netns_heal 3
heal_ms=$(date +%s%3N)
caught_up() {
  [ "$(raft_field "$T/n$old.yaml" leader)" = "$new" ] &&
    [ "$(raft_field "$T/n$old.yaml" applied)" -ge "$commit_at_heal" ]
}
wait_for "n$old to catch up after the heal" 60 caught_up
catchup_ms=$(($(date +%s%3N) - heal_ms))
log "REPORT: after the heal, n$old followed $new with index $commit_at_heal applied in ${catchup_ms} ms"
acked_after=$(wc -l <"$T/acked.jsonl")
wait_for "50 creates acknowledged after the heal" 30 ops_at_least $((acked_after + 50))
touch "$T/workload.stop"

wait $wl || fail "the create workload failed: $(cat "$T/workload.txt")"
log "$(cat "$T/workload.txt")"
touch "$T/sampler.stop"
wait $sampler || true
# election safety as seen from outside: one leader per term at most
two=$(awk '$3 == "leader" {if (($2 in who) && who[$2] != $1) print "term " $2 ": " who[$2] " and " $1; who[$2] = $1}' "$T/roles.txt" | sort -u)
[ -z "$two" ] || fail "two leaders in one term: $two"
samples=$(wc -l <"$T/roles.txt")
terms=$(awk '$3 == "leader" {print $2 ":" $1}' "$T/roles.txt" | sort -u | tr '\n' ' ')
log "election safety: $samples status samples, leaders by term: $terms"
digests_equal 3
jq -r 'select(.result == "ok") | .path | sub(".*/"; "")' "$T/acked.jsonl" | sort >"$T/acked.sorted"
[ "$(wc -l <"$T/acked.sorted")" -gt 100 ] || fail "only $(wc -l <"$T/acked.sorted") creates acknowledged"
for i in 1 2 3; do
  miss=$(s_nem_missing "$i" /acked "$T/acked.sorted")
  [ -z "$miss" ] || fail "n$i misses $(echo "$miss" | wc -l) acknowledged creates: $(clip 300 "$miss")"
done
log "ok: $(wc -l <"$T/acked.sorted") acknowledged creates on every node; digest $DIGEST at index" \
  "$DIGEST_INDEX; new leader in ${elected_ms} ms, old one down in ${down_ms} ms, catch-up ${catchup_ms} ms"
