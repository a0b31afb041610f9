#!/usr/bin/env bash
# Messages per write on the leader (issue 11: each ZeroMQ message costs ~3 thread wake-ups).
# One client creating files one after the other, tapped on the leader:
# - each follower gets about one MsgApp per create (the one with the entry, whose commit rides on
#   the next one): no second, empty MsgApp to tell the commit, which made it two;
# - kv-store hears of each create from raft-peer once (the ApplyBatch, carrying the proposal's
#   index and term before its entry): no ProposeResult per write as well, which made it two. A
#   proposal still in flight at a tick has its outcome sent alone then: at most one ProposeResult
#   a tick (raft.tick-ms, 10 ms), so almost never two within half a tick;
# - a follower's raft-peer hands its kv-store the committed entries at its tick or for a read,
#   not one ApplyBatch per commit it learns (one per create before): at most one a tick, so
#   almost never two within half a tick.
# Heartbeats (every 30 ms, and commit-only ones at ticks) are not counted: a slow run (ASan on a
# loaded host, where the CLI processes start slowly) sends more of them without sending more per
# write. Creates come about one a millisecond when the host is quiet, so the old protocols break
# the bounds many times over there (a run too slow for two creates within 5 ms could not tell).
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
# RaftBatches the leader sent to $1 that carry a MsgApp (raft_msg_type_t 5), not only heartbeats (7)
count_app() { jq -r --arg tap "$leader/raft-peer/out" --arg to "$1" \
  'select(.tap == $tap and (.to | startswith($to)) and .type == "RaftBatch"
          and any(.body.msgs[]?; .type == 5)) | 1' "$T/tap.json" | wc -l; }
# how many of the messages matched by count() came less than half a tick (5 ms) after the one
# before: a message sent at most once a tick has almost none, one sent per create (a create takes
# about a millisecond when the host is quiet) has most
close_pairs() { jq -rs --arg tap "$1" --arg to "$2" --arg type "$3" \
  '[.[] | select(.tap == $tap and (.to | startswith($to)) and .type == $type) | .time
     | ((sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000000 + (.[20:26] | tonumber))]
   | [range(1; length) as $i | .[$i] - .[$i - 1] | select(. < 5000)] | length' "${4:-$T/tap.json}"; }
creates=$(count "$leader/raft-peer/in" "$leader/raft-peer" ProposeBatch)
[ "$creates" -ge "$n" ] || fail "expected at least $n ProposeBatch, saw $creates"
applies=$(count "$leader/raft-peer/out" "$leader/kv-store" ApplyBatch)
results=$(count "$leader/raft-peer/out" "$leader/kv-store" ProposeResult)
rclose=$(close_pairs "$leader/raft-peer/out" "$leader/kv-store" ProposeResult)
log "$creates proposals; to kv-store: $applies ApplyBatch + $results ProposeResult ($rclose within 5 ms of the one before)"
[ $((applies * 2)) -lt $((creates * 3)) ] ||
  fail "raft-peer sent kv-store $applies ApplyBatch for $creates proposals (>= 1.5 each)"
[ "$rclose" -le $((5 + creates / 10)) ] ||
  fail "raft-peer sent kv-store $rclose ProposeResult within 5 ms of the one before, for $creates proposals: not held for the ApplyBatch or the tick"
for i in 1 2 3; do
  [ "n$i" = "$leader" ] && continue
  batches=$(count "$leader/raft-peer/out" "n$i/raft-peer" RaftBatch)
  apps=$(count_app "n$i/raft-peer")
  log "to n$i: $apps RaftBatch with a MsgApp ($batches in all, heartbeats included)"
  [ $((apps * 2)) -lt $((creates * 3)) ] ||
    fail "the leader sent n$i $apps RaftBatch with a MsgApp for $creates proposals (>= 1.5 each)"
done
fapply=$(count "$follower/raft-peer/out" "$follower/kv-store" ApplyBatch "$T/ftap.json")
fclose=$(close_pairs "$follower/raft-peer/out" "$follower/kv-store" ApplyBatch "$T/ftap.json")
log "follower $follower: $fapply ApplyBatch to its kv-store ($fclose within 5 ms of the one before)"
[ $((fapply * 2)) -lt $((creates * 3)) ] && [ "$fclose" -le $((5 + creates / 10)) ] ||
  fail "follower $follower's raft-peer sent its kv-store $fapply ApplyBatch for $creates creates, $fclose of them within 5 ms of the one before: not held for its tick"
log "PASS"
