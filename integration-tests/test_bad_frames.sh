#!/usr/bin/env bash
# Hostile frames on an actor's inbox and on the supervisor's control socket are dropped, counted
# and shown on the tap as BadFrame; no process crashes or restarts.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
pid=$(actor_pid "$cfg" a1)
sup=$(supervisor_pid "$cfg")
run=$T/n1/run
"$RV" tap -c "$cfg" --type BadFrame --json --count 6 --timeout 20 >"$T/tap.txt" &
tap=$!
echo $tap >>"$T/pids"
sleep 0.3 # let the subscription reach the publishers (the tap is best effort by design)
for kind in garbage empty multipart unknown-type truncated oversized; do
  "$RV_BIN/rv-inject" "ipc://$run/a1.sock" $kind 3 || fail "rv-inject $kind"
done
"$RV_BIN/rv-inject" "ipc://$run/supervisor.sock" garbage 20 || fail "rv-inject supervisor"
wait $tap || fail "the tap saw fewer than 6 BadFrame messages: $(cat "$T/tap.txt")"
grep -q '"reason":"unknown message type 9999"' "$T/tap.txt" || grep -q 'multi-part' "$T/tap.txt" ||
  grep -q 'empty frame' "$T/tap.txt" || grep -q 'not an envelope' "$T/tap.txt" ||
  fail "BadFrame reasons missing: $(cat "$T/tap.txt")"
# everyone is still there, unrestarted, and still answering
assert_eq "$(actor_pid "$cfg" a1)" "$pid" "a1's pid"
assert_eq "$(actor_field "$cfg" a1 restarts)" 0 "a1 restarts"
alive "$sup" || fail "the supervisor died"
wait_for "a1 healthy" 10 field_is "$cfg" a1 health healthy
grep -q "dropped a bad frame" "$T/n1/log/a1.log" || fail "a1 did not log the bad frames"
log "ok: $(wc -l <"$T/tap.txt") BadFrame lines"
