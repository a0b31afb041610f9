#!/usr/bin/env bash
# Loop lag in status: an actor paused for 800 ms (below the heartbeat timeout, so it is not
# restarted) reports, once resumed, a loop-lag max of at least the pause minus the probe's
# 100 ms period, in status --json and in the text table; an untouched actor reports its own
# figures (samples counted). The figures are lateness of timer runs (actors/runtime/rv_lag.h).
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
wait_for "a1 running" 10 field_is "$cfg" a1 state running
has_samples() { [ "$(actor_field "$cfg" "$1" loop_lag_samples)" -gt 0 ]; }
wait_for "a1 reports loop-lag samples" 10 has_samples a1
wait_for "a2 reports loop-lag samples" 10 has_samples a2
pid=$(actor_pid "$cfg" a1)
log "pausing a1 (pid $pid) for 800 ms"
kill -STOP "$pid"
sleep 0.8 # the fault's length, not a synchronisation
kill -CONT "$pid"
lag_at_least() { [ "$(actor_field "$cfg" "$1" loop_lag_max_us)" -ge "$2" ]; }
wait_for "a1's loop-lag max shows the pause" 10 lag_at_least a1 700000
json=$(status_json "$cfg")
p99=$(echo "$json" | jq '.actors[] | select(.name == "a1") | .loop_lag_p99_us')
max=$(echo "$json" | jq '.actors[] | select(.name == "a1") | .loop_lag_max_us')
[ "$p99" -le "$max" ] || fail "a1: p99 $p99 us above max $max us"
[ "$(actor_field "$cfg" a1 restarts)" = 0 ] || fail "a1 was restarted by an 800 ms pause"
out=$("$RV" status -c "$cfg")
assert_contains "$out" "LOOP LAG p99/max" "status text header"
line=$(grep -E '^a1 ' <<<"$out")
[[ "$line" =~ [0-9.]+/([0-9.]+)\ ms ]] || fail "status text: no loop lag on a1's line: $line"
log "ok: a1 loop lag p99 ${p99} us, max ${max} us after an 800 ms pause; text: $line"
