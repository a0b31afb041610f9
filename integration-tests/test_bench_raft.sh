#!/usr/bin/env bash
# rv-bench-raft (scripts/bench-raft.sh, the Raft layer alone) measures what it says: every run
# commits, and every failover it asks for is measured. It plays kv-store on each node, and
# reported 0 commits/s for every run after its first 4,096 commits, because it never said which
# entries it had taken in (Applied.taken): raft-peer's window of entries in flight to kv-store
# filled and delivered no more. Its failovers stopped early, without a word, when the killed
# raft-peer came back and was elected again (it waited for a different node to lead). Only
# counts are checked here, never a rate or a time (reports, not tests).
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 raft-peer
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
# the failovers kill -9 and SIGSTOP leaders' raft-peers: restarts of any of them are the test's
for i in 1 2 3; do expect_restart "n$i" raft-peer 8; done
failovers=3
# each run is a second of warm-up and 3 s measured: together far more than the 4,096 entries of
# the window (checked below)
out=$(timeout 150 "$RV_BIN/rv-bench-raft" -c "$T/n1.yaml" -c "$T/n2.yaml" -c "$T/n3.yaml" \
  --clients 1,16 --seconds 3 --failovers "$failovers" --json 2>"$T/bench.err") ||
  fail "rv-bench-raft failed: $(cat "$T/bench.err")"
log "$(clip 600 "$out")"
[ ! -s "$T/bench.err" ] || fail "rv-bench-raft complained: $(cat "$T/bench.err")"
for c in 1 16; do
  run=$(jq -c --argjson c "$c" 'select(.op == "raft-commit" and .clients == $c)' <<<"$out")
  [ -n "$run" ] || fail "no run with $c proposers in: $out"
  ops=$(jq -r .ops_per_s <<<"$run")
  [ "$ops" -gt 0 ] || fail "$c proposers: no commit measured: $run"
  [ "$(jq -r .errors <<<"$run")" = 0 ] || fail "$c proposers: proposals refused: $run"
done
# the measured commits alone went past the window's 4,096 entries
total=$(jq -s '[.[] | select(.op == "raft-commit") | .ops_per_s * 3] | add' <<<"$out")
[ "$total" -gt 4096 ] || fail "only $total commits measured: the window was never passed"
for fault in crash hang; do
  runs=$(jq -r --arg f "$fault" 'select(.op == "raft-failover" and .fault == $f) | .runs' <<<"$out")
  assert_eq "$runs" "$failovers" "failovers measured after a $fault of the leader"
done
leader=$(leader_agreed 3) || fail "no leader agreed after the failovers"
log "leader $leader after the failovers; PASS"
