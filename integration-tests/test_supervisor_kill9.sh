#!/usr/bin/env bash
# kill -9 the supervisor: no actor survives it (PR_SET_PDEATHSIG), and the node can start again.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
pids=$(all_actor_pids "$cfg")
sup=$(supervisor_pid "$cfg")
[ "$(echo "$pids" | wc -w)" -eq 3 ] || fail "expected 3 actor pids (health-monitor, a1, a2), got: $pids"
log "kill -9 supervisor $sup (actors: $(echo $pids))"
kill -9 "$sup"
for pid in $pids; do wait_for "actor $pid gone" 5 gone "$pid"; done
expect_fail 3 "node n1 is not running" "$RV" status -c "$cfg"
start_node "$cfg"
wait_for "restarted node's a1 running" 10 field_is "$cfg" a1 state running
log "ok: no orphans; the node restarts cleanly"
