#!/usr/bin/env bash
# The runtime's drained() hook, which raft-peer relies on to persist once per batch: messages that
# queue up while the actor is busy are handled in one wake-up and followed by one drained() call
# that covers them all; every application message is counted once; runtime messages alone
# (heartbeats, health pings) never call it.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: d1, exec: $RV_BIN/raftvisor-test-actor, args: [--drain-log, $T/drains, --slow-first-ms, '300']}")
start_node "$cfg"
wait_for "d1 healthy" 10 field_is "$cfg" d1 health healthy
run=$T/n1/run
n=200
# the first message makes d1 sleep 300 ms; the other 199 arrive meanwhile
"$RV_BIN/rv-inject" "ipc://$run/d1.sock" valid $n || fail "rv-inject valid"
total() { awk '{s += $2} END {print s + 0}' "$T/drains" 2>/dev/null || echo 0; }
all_counted() { [ "$(total)" -eq $n ]; }
wait_for "d1 to count all $n messages in drained() calls" 10 all_counted
calls=$(wc -l <"$T/drains")
biggest=$(awk '$2 > m {m = $2} END {print m + 0}' "$T/drains")
log "drained() calls: $calls; the largest covered $biggest messages"
[ "$biggest" -ge 100 ] || fail "no batch: the largest drained() covered $biggest of $n messages: $(tr '\n' ' ' <"$T/drains")"
! grep -q "^drained 0$" "$T/drains" || fail "drained() was called with no application message"
# heartbeats (every 100 ms) and health pings (every 200 ms) keep coming: once d1 has answered 10
# more heartbeats (seen on the tap), they have not called it
"$RV" tap -c "$cfg" --actor d1 --type HeartbeatAck --count 10 --timeout 20 >/dev/null ||
  fail "d1 answered fewer than 10 heartbeats"
assert_eq "$(wc -l <"$T/drains")" "$calls" "drained() calls after 10 heartbeats (runtime messages only)"
assert_eq "$(actor_field "$cfg" d1 restarts)" 0 "d1 restarts"
log "ok: $n messages, $calls drained() calls"
