#!/usr/bin/env bash
# An actor with a long backlog of work is busy, not hung: the supervisor's heartbeats reach it
# through its system inbox, read ahead of the work (rv_mailbox.h), and its loop turns every
# 20 ms at most (rv_actor.c), so it answers them and is not killed. Here the test actor spends
# 25 ms of CPU on each of 300 queued messages (7.5 s of work, five heartbeat timeouts of 1.5 s);
# it must handle them all on its first process. Under the bulk-load benchmark, kv-stores with
# such backlogs answered heartbeats 500-800 ms late and were killed as hung: in one inbox, a
# heartbeat waited behind the work (ZeroMQ takes in a newly readable pipe only every 100
# messages it receives from the others).
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: w1, exec: $RV_BIN/raftvisor-test-actor, args: [--drain-log, $T/drains, --work-ms, '25']}")
start_node "$cfg"
wait_for "w1 healthy" 10 field_is "$cfg" w1 health healthy
n=300
"$RV_BIN/rv-inject" "ipc://$T/n1/run/w1.sock" valid $n || fail "rv-inject valid"
total() { awk '{s += $2} END {print s + 0}' "$T/drains" 2>/dev/null || echo 0; }
all_done() { [ "$(total)" -eq $n ] || [ "$(actor_field "$cfg" w1 restarts)" != 0 ]; }
wait_for "w1 to work through $n messages (or be restarted)" 60 all_done
assert_eq "$(actor_field "$cfg" w1 restarts)" 0 "w1 restarts while busy ($(actor_field "$cfg" w1 last_exit))"
assert_eq "$(total)" "$n" "messages w1 handled"
log "ok: $n messages of 25 ms each handled with no restart"
