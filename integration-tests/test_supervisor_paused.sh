#!/usr/bin/env bash
# A supervisor that is itself paused (SIGSTOP for 2 s: a debugger, a stalled host, swap) must
# not take its healthy actors for hung when it runs again. The hang detector counts only time
# the supervisor was running: on resume it forgives the stall, sends fresh heartbeats and waits
# a full timeout again (sup_core.h). Before, every actor was killed "hung: no heartbeat answer
# for ~3000 ms" on resume, and twice in 30 s stopped the node.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
sup=$(supervisor_pid "$cfg")
log "SIGSTOP the supervisor (pid $sup) for 2 s"
kill -STOP "$sup"
sleep 2 # the fault itself: how long the supervisor is stopped
kill -CONT "$sup"
resumed=$SECONDS
# every actor keeps its process for two heartbeat timeouts (1.5 s each) after the resume
three_seconds_on() { [ $((SECONDS - resumed)) -ge 3 ] && status_json "$cfg" >/dev/null; }
wait_for "3 s after the resume" 20 three_seconds_on
restarts=$(status_json "$cfg" | jq '[.actors[].restarts] | add')
if [ "$restarts" != 0 ]; then
  status_json "$cfg" | jq -c '.actors[] | {name, restarts, last_exit}'
  fail "$restarts actor restart(s) after the supervisor's pause"
fi
stall_logged() { grep -q "the supervisor ran [0-9]* ms late" "$(dirname "$cfg")/n1/log/supervisor.log"; }
wait_for "the supervisor logs its stall" 10 stall_logged
grep "ms late" "$(dirname "$cfg")/n1/log/supervisor.log"
log "PASS: no actor restarted"
