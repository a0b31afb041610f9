#!/usr/bin/env bash
# kill -9 an actor: the supervisor restarts it; status shows restarts=1 and "killed by signal 9".
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
wait_for "a1 running" 10 field_is "$cfg" a1 state running
old=$(actor_pid "$cfg" a1)
log "kill -9 a1 (pid $old)"
expect_restart n1 a1
kill -9 "$old"
wait_for "a1 restarted" 10 field_is "$cfg" a1 restarts 1
wait_for "a1 running again" 10 field_is "$cfg" a1 state running
new=$(actor_pid "$cfg" a1)
[ "$new" != "$old" ] || fail "a1 has the same pid $new after its restart"
alive "$new" || fail "a1's new pid $new is not alive"
assert_eq "$(actor_field "$cfg" a1 last_exit)" "killed by signal 9" "a1 last_exit"
assert_eq "$(actor_field "$cfg" a2 restarts)" 0 "a2 restarts (untouched)"
# the text view says the same
out=$("$RV" status -c "$cfg")
assert_contains "$out" "killed by signal 9" "status text"
log "ok: a1 restarted as pid $new"
