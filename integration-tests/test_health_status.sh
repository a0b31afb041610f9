#!/usr/bin/env bash
# The health-monitor pings every actor: status shows per-actor verdicts with round trips, an
# actor's own "unhealthy" reason, and the node's verdict naming the culprit.
source "$(dirname "$0")/lib.sh"
A=$RV_BIN/raftvisor-test-actor
cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: good, exec: $A}
  - {name: sick, exec: $A, args: [--unhealthy, 'disk full on /data']}")
start_node "$cfg"
wait_for "good healthy" 10 field_is "$cfg" good health healthy
wait_for "sick unhealthy" 10 field_is "$cfg" sick health unhealthy
assert_eq "$(actor_field "$cfg" sick health_reason)" "disk full on /data" "sick's reason"
rtt=$(actor_field "$cfg" good health_rtt_us)
[ "$rtt" -gt 0 ] || fail "no round trip measured for good"
assert_eq "$(status_json "$cfg" | jq -r .health)" unhealthy "node health"
assert_eq "$(status_json "$cfg" | jq -r .health_reason)" "sick: disk full on /data" "node reason"
# a frozen actor is restarted (heartbeat timeout 1.5 s, shorter than the ping timeout of 2 s):
# the verdict comes back to healthy for the new process
pid=$(actor_pid "$cfg" good)
expect_restart n1 good
kill -STOP "$pid"
wait_for "good restarted" 15 field_is "$cfg" good restarts 1
wait_for "good healthy again" 10 field_is "$cfg" good health healthy
log "ok: rtt ${rtt} us"
