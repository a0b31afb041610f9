#!/usr/bin/env bash
# raftvisor fence with shell methods: a script that fails (its stdout and stderr logged), one that
# hangs with a child of its own (its whole process group killed at the timeout, the next method
# tried), one that reads stdin (it gets EOF at once) and checks its environment (Hadoop's target_*
# and source_*, the configuration). Each attempt is a FenceAttempt on the tap; the CLI prints
# every attempt and exits 0 only when fenced. Then: every method failing, an unknown target, and
# a bad method refused by the configuration with file, line and key.
source "$(dirname "$0")/lib.sh"
cfg=$(fence_yaml n1 health-monitor "  fencing:
    shell-timeout-ms: 1500
    methods:
      - 'shell(echo \"to stdout for \$target_namenodeid\"; echo \"to stderr\" >&2; exit 3)'
      - 'shell(sleep 600 & echo \$! > $T/hang.child; echo \$\$ > $T/hang.pid; wait)'
      - 'shell([ \"\$(readlink /proc/\$\$/fd/0)\" = /dev/null ] && x=\$(cat) && [ -z \"\$x\" ] && echo \"eof \$target_host \$target_port \$target_address \$target_nameserviceid \$target_namenodeid \$source_namenodeid \$source_port \$ha_fencing_shell_timeout_ms \$dfs_ha_fencing_ssh_connect_timeout\" > $T/env.out)'")
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
wait_for "the fencer running" 10 field_is "$cfg" fencer state running

# a tap, live before the fence starts (it has printed a heartbeat)
"$RV" tap -c "$cfg" --timeout 60 >"$T/tap.out" 2>&1 &
tap=$!
echo $tap >>"$T/pids"
wait_for "the tap receiving" 10 grep -q Heartbeat "$T/tap.out"

log "fence n2: method 1 fails, 2 hangs, 3 reads stdin and succeeds"
out=$("$RV" fence -c "$cfg" n2 2>"$T/fence.err")
rc=$?
echo "$out"
[ $rc = 0 ] || fail "raftvisor fence exited $rc: $(cat "$T/fence.err")"
assert_contains "$out" "method 1/3 shell(echo" "method 1 line"
assert_contains "$out" "attempt 1: failed: exit status 3" "method 1 outcome"
assert_contains "$out" "method 2/3 shell(sleep 600" "method 2 line"
assert_contains "$out" "attempt 1: timed out: killed (its process group) at the timeout of 1500 ms" \
  "method 2 outcome"
assert_contains "$out" "attempt 1: fenced: exit status 0" "method 3 outcome"
assert_contains "$out" "node n2 fenced by method 3" "verdict"

# the hanging script and its own child were both killed (the group), not left running
for f in hang.pid hang.child; do
  p=$(cat "$T/$f") || fail "$f not written"
  wait_for "pid $p ($f) gone" 10 gone "$p"
done
# stdin was /dev/null (the method checked, and cat returned at once, empty) and the environment
# as HDFS gives it
port1=$((FENCE_BASE + 101))
port2=$((FENCE_BASE + 102))
assert_eq "$(cat "$T/env.out")" \
  "eof 127.0.0.1 $port2 127.0.0.1:$port2 fc n2 n1 $port1 1500 30000" "the method's environment"

# stdout at info and stderr at warn, prefixed as Hadoop's ShellCommandFencer does
flog=$T/n1/log/fencer.log
grep -q 'info \[PID [0-9]*\] echo "to\.\.\.2; exit 3: to stdout for n2$' "$flog" ||
  fail "stdout not logged at info with the [PID] prefix: $(grep -i 'to stdout' "$flog")"
grep -q 'warn \[PID [0-9]*\] echo "to\.\.\.2; exit 3: to stderr$' "$flog" ||
  fail "stderr not logged at warn: $(grep -i 'to stderr' "$flog")"
grep -qF "====== Fencing successful by method shell([ " "$flog" || fail "no success line in the log"

# every attempt on the tap: 3 started + 3 ended, and the result
wait_for "the result on the tap" 10 grep -q "FenceResult" "$T/tap.out"
kill "$tap" 2>/dev/null
n=$(grep -c '\[n1/fencer/out\] n1/fencer -> n1/supervisor FenceAttempt' "$T/tap.out")
assert_eq "$n" 6 "FenceAttempt messages sent by the fencer"
grep -q '"outcome":"FENCE_TIMED_OUT"' "$T/tap.out" || fail "no timed-out attempt on the tap"
# the finished request's record is gone
assert_eq "$(ls "$T/n1/fencer/requests")" "" "records left after the fence"

log "a node whose only method fails: not fenced, exit 1"
stop_node "$cfg"
cfg=$(fence_yaml n1 health-monitor "  fencing:
    methods: ['shell(exit 1)']")
start_node "$cfg"
wait_for "the fencer running" 10 field_is "$cfg" fencer state running
expect_fail 1 "Unable to fence service by any configured method: node n2 is not fenced" \
  "$RV" fence -c "$cfg" n2
expect_fail 1 'no node "n9" in cluster.nodes' "$RV" fence -c "$cfg" n9
expect_fail 1 "refusing to fence node n1 from itself" "$RV" fence -c "$cfg" n1
expect_fail 2 "missing TARGET" "$RV" fence -c "$cfg"
stop_node "$cfg"
expect_fail 3 "node n1 is not running" "$RV" fence -c "$cfg" n2

log "an unknown method is a configuration error naming file, line and key"
bad=$(fence_yaml n3 health-monitor "  fencing:
    methods:
      - shell(true)
      - shel(true)")
line=$(grep -n 'shel(true)' "$bad" | cut -d: -f1)
expect_fail 1 "$bad:$line:9: ha.fencing.methods[1]: unknown fencing method 'shel'" \
  "$RV" config check -c "$bad"
log "ok"
