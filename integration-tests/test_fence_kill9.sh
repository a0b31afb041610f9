#!/usr/bin/env bash
# A fence is a supervised action: the fencer is killed -9 while a method runs; the supervisor
# restarts it, the restarted fencer finds the persisted request, kills the process group its
# predecessor left running, and runs the method again; the CLI that asked gets the result (exit 0
# when fenced), which lists the interrupted attempt and the retry.
source "$(dirname "$0")/lib.sh"
# the method records each run's pid, then waits until the test lets it finish
cfg=$(fence_yaml n1 health-monitor "  fencing:
    shell-timeout-ms: 120000
    methods:
      - 'shell(echo \$\$ >> $T/runs; while [ ! -e $T/go ]; do sleep 0.02; done; echo done)'")
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
wait_for "the fencer running" 10 field_is "$cfg" fencer state running
old=$(actor_pid "$cfg" fencer)

"$RV" fence -c "$cfg" n2 >"$T/fence.out" 2>"$T/fence.err" &
cli=$!
echo $cli >>"$T/pids"
wait_for "the method's first run" 20 file_lines "$T/runs" 1
first=$(head -n1 "$T/runs")
# the record on disk says which method runs, in which process group
rec=$(ls "$T"/n1/fencer/requests/*.req) || fail "no persisted request"
wait_for "the record naming the running group" 10 grep -qx "pgid=$first" "$rec"
grep -qx "running=1" "$rec" || fail "the record does not say the method runs: $(cat "$rec")"

log "kill -9 the fencer (pid $old) mid-fence"
expect_restart n1 fencer 1
kill -9 "$old"
wait_for "the fencer restarted" 10 field_is "$cfg" fencer restarts 1
wait_for "the fencer running again" 10 field_is "$cfg" fencer state running
all_actor_pids "$cfg" >/dev/null
wait_for "the method's second run" 20 file_lines "$T/runs" 2
second=$(sed -n 2p "$T/runs")
[ "$second" != "$first" ] || fail "the method did not run again"
# the first run's process group, orphaned by the kill, was killed by the new fencer
wait_for "the first run (pid $first) gone" 10 gone "$first"
alive "$cli" || fail "the CLI gave up while the fence was retried: $(cat "$T/fence.err")"

touch "$T/go"
wait_for "the CLI answered" 30 gone "$cli"
wait "$cli"
rc=$?
out=$(cat "$T/fence.out")
echo "$out"
[ $rc = 0 ] || fail "raftvisor fence exited $rc: $(cat "$T/fence.err")"
assert_contains "$out" "attempt 1: interrupted: the fencer stopped while it ran; run again" \
  "the interrupted attempt"
assert_contains "$out" "attempt 2: fenced: exit status 0" "the retry"
assert_contains "$out" "the fencer was restarted 1 time during this fence; it retried" "restarts"
grep -q "found after a restart (at method 1, which was running): retrying" \
  "$T/n1/log/fencer.log" || fail "the restarted fencer did not log the retry"
grep -q "killed process group $first, left running by the previous fencer" \
  "$T/n1/log/fencer.log" || fail "the stale group's kill is not logged"
assert_eq "$(ls "$T/n1/fencer/requests")" "" "records left after the fence"
log "ok: retried after the fencer's restart"
