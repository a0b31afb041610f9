#!/usr/bin/env bash
# Messages per write on the leader (issue 11: each ZeroMQ message costs ~3 thread wake-ups).
# One client creating files one after the other, tapped on the leader:
# - each follower gets about one RaftBatch per create (the MsgApp with the entry, whose commit
#   rides on the next one): no second, empty MsgApp to tell the commit, which made it two;
# - kv-store hears of each create from raft-peer once (the ApplyBatch, carrying the proposal's
#   index and term before its entry): no ProposeResult per write as well, which made it two.
# The heartbeats and the rare tick-time ProposeResult / commit-only heartbeat stay well below the
# bounds (1.5 per create each), which the old two-message protocols exceed (2 and more).
# - a follower's raft-peer hands its kv-store the committed entries at its tick or for a read,
#   not one ApplyBatch per commit it learns (one per create before): fewer than one per two
#   creates here (creates come about one a millisecond, ticks every 10 ms).
source "$(dirname "$0")/lib.sh"
fs_cluster 3
fs 1 -mkdir -p /w || fail "mkdir /w"
leader=$(leader_agreed 3) || fail "no leader agreed"
"$RV" tap -c "$T/$leader.yaml" --actor raft-peer --json --timeout 60 >"$T/tap.json" 2>/dev/null &
tap=$!
at_cleanup "kill $tap 2>/dev/null"
follower=n1
[ "$leader" = n1 ] && follower=n2
"$RV" tap -c "$T/$follower.yaml" --actor raft-peer --json --timeout 60 >"$T/ftap.json" 2>/dev/null &
ftap=$!
at_cleanup "kill $ftap 2>/dev/null"
tapping() { [ -s "$T/tap.json" ] && [ -s "$T/ftap.json" ]; } # heartbeats every 30 ms
wait_for "the taps to see the leader's and a follower's raft-peer" 10 tapping
n=200
for ((k = 0; k < n; k += 20)); do
  # one fs command, its paths created one after the other (20 a process: fewer processes)
  paths=()
  for ((j = k; j < k + 20; j++)); do paths+=("/w/f$j"); done
  fs 1 -touchz "${paths[@]}" >/dev/null || fail "touchz"
done
kill "$tap" "$ftap" 2>/dev/null
wait "$tap" 2>/dev/null || true
wait "$ftap" 2>/dev/null || true
count() { jq -r --arg tap "$1" --arg to "$2" --arg type "$3" \
  'select(.tap == $tap and (.to | startswith($to)) and .type == $type) | 1' "${4:-$T/tap.json}" |
  wc -l; }
creates=$(count "$leader/raft-peer/in" "$leader/raft-peer" ProposeBatch)
[ "$creates" -ge "$n" ] || fail "expected at least $n ProposeBatch, saw $creates"
to_kv=$(($(count "$leader/raft-peer/out" "$leader/kv-store" ApplyBatch) +
  $(count "$leader/raft-peer/out" "$leader/kv-store" ProposeResult)))
log "$creates proposals; to kv-store: $to_kv ApplyBatch + ProposeResult"
[ $((to_kv * 2)) -lt $((creates * 3)) ] ||
  fail "raft-peer sent kv-store $to_kv ApplyBatch/ProposeResult for $creates proposals (>= 1.5 each)"
for i in 1 2 3; do
  [ "n$i" = "$leader" ] && continue
  batches=$(count "$leader/raft-peer/out" "n$i/raft-peer" RaftBatch)
  log "to n$i: $batches RaftBatch"
  [ $((batches * 2)) -lt $((creates * 3)) ] ||
    fail "the leader sent n$i $batches RaftBatch for $creates proposals (>= 1.5 each)"
done
fapply=$(count "$follower/raft-peer/out" "$follower/kv-store" ApplyBatch "$T/ftap.json")
log "follower $follower: $fapply ApplyBatch to its kv-store"
[ $((fapply * 2)) -lt "$creates" ] ||
  fail "follower $follower's raft-peer sent its kv-store $fapply ApplyBatch for $creates creates (>= 1 per 2)"
log "PASS"
