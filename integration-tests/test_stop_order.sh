#!/usr/bin/env bash
# stop: actors stop in reverse start order; one ignoring SIGTERM is killed at its shutdown
# timeout; afterwards no process of the node is left.
source "$(dirname "$0")/lib.sh"
A=$RV_BIN/raftvisor-test-actor
cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: first, exec: $A, args: [--stop-log, $T/stops]}
  - {name: stubborn, exec: $A, args: [--ignore-sigterm, --stop-log, $T/stops], shutdown-timeout-ms: 300}
  - {name: last, exec: $A, args: [--stop-log, $T/stops]}")
start_node "$cfg"
pids=$(all_actor_pids "$cfg")
sup=$(supervisor_pid "$cfg")
[ "$(echo "$pids" | wc -l)" -eq 4 ] || fail "expected 4 actor pids, got: $pids"
out=$("$RV" stop -c "$cfg") || fail "raftvisor stop failed: $out"
log "$out"
assert_contains "$out" "stopped: last, first, health-monitor" "stop report"
assert_contains "$out" "killed after their shutdown timeout: stubborn" "stop report"
order=$(awk '{print $1}' "$T/stops" | paste -sd' ')
assert_eq "$order" "last first" "SIGTERM order of the actors that log their stop"
for pid in $pids $sup; do alive "$pid" && fail "process $pid is still alive after stop"; done
"$RV" status -c "$cfg" >/dev/null 2>&1
[ $? -eq 3 ] || fail "status after stop should exit 3 (not running)"
log "ok"
