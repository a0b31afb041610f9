#!/usr/bin/env bash
# Every command has --help (exit 0); bad arguments are usage errors (exit 2) naming the
# problem; addressing a node that is not running exits 3.
source "$(dirname "$0")/lib.sh"
for c in start stop status restart tap config fence raft endpoints; do
  out=$("$RV" $c --help) || fail "raftvisor $c --help failed"
  assert_contains "$out" "usage: raftvisor $c" "$c --help"
done
"$RV" --help | grep -q "exit codes" || fail "raftvisor --help lacks the exit codes"
"$RV" bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command should exit 2"
out=$("$RV" status --jsn -c x.yaml 2>&1); [ $? -eq 2 ] || fail "bad option should exit 2"
assert_contains "$out" "unexpected argument \"--jsn\"" "bad option message"
out=$("$RV" status 2>&1); [ $? -eq 2 ] || fail "missing -c should exit 2"
assert_contains "$out" "missing -c FILE" "missing -c message"
out=$("$RV" tap -c x.yaml --count -5 2>&1); [ $? -eq 2 ] || fail "bad --count should exit 2"
cfg=$(node_yaml n1)
for c in status tap; do
  out=$("$RV" $c -c "$cfg" 2>&1); code=$?
  [ $code -eq 3 ] || fail "raftvisor $c on a stopped node exited $code, expected 3"
  assert_contains "$out" "node n1 is not running" "$c on a stopped node"
done
# LSB: stopping a stopped node succeeds
out=$("$RV" stop -c "$cfg" 2>&1) || fail "raftvisor stop on a stopped node exited $?, expected 0"
assert_contains "$out" "node n1 is not running; nothing to stop" "stop on a stopped node"
out=$("$RV" restart -c "$cfg" a1 2>&1); [ $? -eq 3 ] || fail "restart on a stopped node should exit 3"
out=$("$RV" config check -c "$cfg") || fail "config check failed: $out"
assert_contains "$out" "ok: " "config check"
out=$("$RV" status -c /nonexistent/n.yaml 2>&1); [ $? -eq 1 ] || fail "a missing YAML should exit 1"
assert_contains "$out" "/nonexistent/n.yaml" "missing YAML names the file"
# restart of an unknown actor on a running node
start_node "$cfg"
out=$("$RV" restart -c "$cfg" nosuch 2>&1); [ $? -eq 1 ] || fail "restart of an unknown actor should exit 1"
assert_contains "$out" "no actor named \"nosuch\"" "restart unknown actor"
out=$("$RV" restart -c "$cfg" a1) || fail "restart a1 failed: $out"
wait_for "a1 restarted on request" 10 field_is "$cfg" a1 restarts 1
wait_for "a1 running" 10 field_is "$cfg" a1 state running
assert_eq "$(actor_field "$cfg" a1 last_exit)" "exited with code 0" "a1 last exit after a restart"
log "ok"
