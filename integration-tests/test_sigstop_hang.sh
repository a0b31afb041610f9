#!/usr/bin/env bash
# SIGSTOP an actor: missed heartbeats reveal the hang; the supervisor kills and restarts it.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
old=$(actor_pid "$cfg" a2)
log "SIGSTOP a2 (pid $old)"
expect_restart n1 a2
kill -STOP "$old"
wait_for "a2 restarted after its hang" 15 field_is "$cfg" a2 restarts 1
wait_for "a2 running again" 10 field_is "$cfg" a2 state running
exit_text=$(actor_field "$cfg" a2 last_exit)
assert_contains "$exit_text" "killed by signal 9 (hung: no heartbeat answer for" "a2 last_exit"
! alive "$old" || fail "the hung a2 (pid $old) is still alive"
[ "$(actor_pid "$cfg" a2)" != "$old" ] || fail "a2 kept its pid"
log "ok: $exit_text"
