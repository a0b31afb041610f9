#!/usr/bin/env bash
# Running under systemd: the supervisor in the foreground tells systemd (sd_notify, Type=notify)
# READY=1 with its MAINPID once every actor has started, RELOADING=1 and READY=1 around a SIGHUP
# (ExecReload), STOPPING=1 when it stops. The unit files in packaging/systemd/ pass
# `systemd-analyze verify` without a warning.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
"$RV_BIN/rv-notify-sink" "$T/notify.sock" "$T/notify.out" &
echo $! >>"$T/pids"
wait_for "the notify socket" 10 test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock "$RV" start -c "$cfg" >"$T/start.out" 2>&1 &
sup=$!
echo $sup >>"$T/pids"
notified() { [ "$(grep -c "$1" "$T/notify.out" 2>/dev/null)" = "$2" ]; }
wait_for "READY=1 from the supervisor" 20 notified "READY=1" 1
line=$(grep "READY=1" "$T/notify.out")
assert_contains "$line" "MAINPID=$sup" "READY=1 names the supervisor's pid"
assert_contains "$line" "STATUS=node n1 up: 3 actors" "READY=1's status"
assert_eq "$(status_json "$cfg" | jq -r '.state, ([.actors[] | select(.state == "running")] | length)' | tr '\n' ' ')" \
  "running 3 " "every actor running when READY=1 came"
kill -HUP "$sup"
wait_for "RELOADING=1 then READY=1 around SIGHUP" 20 notified "READY=1" 2
notified "RELOADING=1" 1 || fail "no RELOADING=1 on SIGHUP: $(cat "$T/notify.out")"
stop_node "$cfg"
wait "$sup"
code=$?
[ $code -eq 0 ] || fail "the supervisor exited $code after stop"
notified "STOPPING=1" 1 || fail "no STOPPING=1: $(cat "$T/notify.out")"

# the unit files, with ExecStart pointing at this build
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (package systemd)"
mkdir -p "$T/units"
for u in raftvisor.service raftvisor@.service; do
  sed "s#/usr/bin/raftvisor#$RV#g" "$(dirname "$0")/../packaging/systemd/$u" >"$T/units/$u"
done
cp "$T/units/raftvisor@.service" "$T/units/raftvisor@n1.service"
for u in raftvisor.service raftvisor@n1.service; do
  out=$(cd "$T/units" && systemd-analyze verify "./$u" 2>&1) || fail "systemd-analyze verify $u: $out"
  [ -z "$out" ] || fail "systemd-analyze verify $u warns: $out"
done
log "ok"
