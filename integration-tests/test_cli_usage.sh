#!/usr/bin/env bash
# Every command has --help (exit 0); bad arguments are usage errors (exit 2) naming the
# problem; addressing a node that is not running exits 3.
source "$(dirname "$0")/lib.sh"
for c in start stop status restart tap config fence raft endpoints meta-status finish-recovery; do
  out=$("$RV" $c --help) || fail "raftvisor $c --help failed"
  assert_contains "$out" "usage: raftvisor $c" "$c --help"
done
matches "exit codes" "$("$RV" --help)" || fail "raftvisor --help lacks the exit codes"
expect_fail 2 "unknown command" "$RV" bogus
expect_fail 2 "unexpected argument \"--jsn\"" "$RV" status --jsn -c x.yaml
expect_fail 2 "missing -c FILE" "$RV" status
expect_fail 2 "--count" "$RV" tap -c x.yaml --count -5
cfg=$(node_yaml n1)
for c in status tap; do
  expect_fail 3 "node n1 is not running" "$RV" $c -c "$cfg"
done
expect_fail 3 "no node answered" "$RV" meta-status -c "$cfg"
expect_fail 2 "give -c FILE or --nodes, not both" "$RV" meta-status -c "$cfg" --nodes 127.0.0.1:1
expect_fail 2 "missing -c FILE" "$RV" finish-recovery
expect_fail 3 "is the cluster running?" "$RV" finish-recovery -c "$cfg"
# LSB: stopping a stopped node succeeds
out=$("$RV" stop -c "$cfg" 2>&1) || fail "raftvisor stop on a stopped node exited $?, expected 0"
assert_contains "$out" "node n1 is not running; nothing to stop" "stop on a stopped node"
expect_fail 3 "node n1 is not running" "$RV" restart -c "$cfg" a1
out=$("$RV" config check -c "$cfg") || fail "config check failed: $out"
assert_contains "$out" "ok: " "config check"
expect_fail 1 "/nonexistent/n.yaml" "$RV" status -c /nonexistent/n.yaml
# restart of an unknown actor on a running node
start_node "$cfg"
expect_fail 1 "no actor named \"nosuch\"" "$RV" restart -c "$cfg" nosuch
expect_restart n1 a1
out=$("$RV" restart -c "$cfg" a1) || fail "restart a1 failed: $out"
wait_for "a1 restarted on request" 10 field_is "$cfg" a1 restarts 1
wait_for "a1 running" 10 field_is "$cfg" a1 state running
assert_eq "$(actor_field "$cfg" a1 last_exit)" "exited with code 0" "a1 last exit after a restart"
log "ok"
