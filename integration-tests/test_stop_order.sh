#!/usr/bin/env bash
# stop: actors stop in reverse start order; one ignoring SIGTERM is killed at its shutdown
# timeout; afterwards no process of the node is left. stop --json reports how each actor ended:
# the well-behaved ones exited with code 0 on SIGTERM (clean); the stubborn one was killed; and
# one that aborts at exit (what ASan does on a leak) is reported as killed by signal 6, not
# clean, in the JSON and in the text output.
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
expect_unclean_stop n1 stubborn
stop_node "$cfg" # checks that every other actor ended cleanly
out=$(tail -n 1 "$T/stops.jsonl")
log "$out"
echo "$out" | jq -e '.stopped == ["last", "first", "health-monitor"] and .killed == ["stubborn"]
  and .supervisor_gone and (.clean | not)' >/dev/null || fail "stop --json: stopped/killed: $out"
for a in health-monitor first last; do
  echo "$out" | jq -e --arg a "$a" '.actors[] | select(.name == $a) |
    .clean and .code == 0 and .signal == 0 and (.killed | not) and .state_at_stop == "running"
    and .exit == "exited with code 0"' >/dev/null || fail "stop --json: $a did not end cleanly: $out"
done
echo "$out" | jq -e '.actors[] | select(.name == "stubborn") |
  (.clean | not) and .killed and .signal == 9 and .code == -1' >/dev/null ||
  fail "stop --json: stubborn was not reported killed: $out"
order=$(awk '{print $1}' "$T/stops" | paste -sd' ')
assert_eq "$order" "last first" "SIGTERM order of the actors that log their stop"
for pid in $pids $sup; do ! alive "$pid" || fail "process $pid is still alive after stop"; done
expect_fail 3 "node n1 is not running" "$RV" status -c "$cfg"

# the text output: an actor that aborts at exit is named, with its signal
cfg2=$(node_yaml n2 "  - {name: health-monitor}
  - {name: leaky, exec: $A, args: [--abort-at-stop]}
  - {name: fine, exec: $A}")
start_node "$cfg2"
out=$("$RV" stop -c "$cfg2") || fail "raftvisor stop failed: $out"
echo "stopped n2" >>"$T/nodes" # stopped and checked here, by the test itself
log "$out"
assert_eq "$out" "node n2 stopped; stopped: fine, leaky, health-monitor; not clean: leaky (killed by signal 6)" \
  "stop's text output"
log "ok"
