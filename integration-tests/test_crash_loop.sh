#!/usr/bin/env bash
# A crash loop: restarts are spaced (restart-min-delay-ms after the previous spawn), the backoff
# doubles with each quick exit, the restart intensity is exceeded, and the node stops with a
# clear message and a non-zero exit. The spacing and the doubling are read from the supervisor's
# own decisions in its log ("restarts in N ms"), not from a clock.
source "$(dirname "$0")/lib.sh"
RV_INTENSITY=4
RV_MIN_DELAY_MS=500
RV_MAX_DELAY_MS=10000
cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: crasher, exec: $RV_BIN/raftvisor-test-actor, args: [--exit-after-ms, '5', --exit-code, '3']}")
"$RV" start -c "$cfg" >"$T/out.txt" 2>&1 &
sup=$!
echo $sup >>"$T/pids"
wait_for "the node to give up" 60 gone $sup
code=0
wait $sup || code=$?
[ $code -ne 0 ] || fail "the supervisor exited 0 after a crash loop"
out=$(cat "$T/out.txt")
assert_contains "$out" "restart intensity exceeded: more than 4 restarts in 30 s; last: actor crasher exited with code 3" "supervisor output"
spawns=$(grep -c "spawned actor crasher" "$T/out.txt" || true)
[ "$spawns" -eq 5 ] || fail "expected 5 spawns of the crasher (1 + 4 restarts), saw $spawns"
# the supervisor's decisions after each of the 4 restarted exits, from its log: the first is held
# back only by the minimum spacing, to 500 ms after its spawn (so by 500 - U ms, U the run time
# it logged; at once if U >= 500, as on a very loaded machine); then the backoff: 1000, 2000,
# 4000 ms (doubling), whatever the run times
decisions=$(awk '/actor crasher \(pid [0-9]+\) exited with code 3/ && / after [0-9]+ ms/ {
    for (i = 1; i <= NF; i++) if ($i == "after") u = $(i + 1); pending = 1; next }
  pending && /actor crasher restarts in/ {
    for (i = 1; i <= NF; i++) if ($i == "in") d = $(i + 1); print u, d; pending = 0; next }
  pending && /spawned actor crasher/ { print u, 0; pending = 0 }' "$T/out.txt")
log "restarts (run time, delay) in ms: $(echo "$decisions" | paste -sd';')"
[ "$(echo "$decisions" | wc -l)" -eq 4 ] || fail "expected 4 restart decisions, got: $decisions"
read -r u1 d1 <<<"$(echo "$decisions" | sed -n 1p)"
if [ "$u1" -lt 500 ]; then
  [ "$d1" -eq $((500 - u1)) ] ||
    fail "first restart after $u1 ms of run: delay $d1 ms, expected $((500 - u1)) (the minimum spacing)"
else
  [ "$d1" -eq 0 ] || fail "first restart after $u1 ms of run: delay $d1 ms, expected 0"
fi
delays=$(echo "$decisions" | sed -n '2,4p' | awk '{print $2}' | paste -sd' ')
assert_eq "$delays" "1000 2000 4000" "the backoff doubles from 2 x the minimum delay"
# and the spawns are that far apart in the supervisor's own log timestamps (lower bounds only,
# less 20 ms: the core times a spawn when it decides it, the log line follows the fork)
times=$(grep "spawned actor crasher" "$T/out.txt" |
  sed -E 's/^[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)Z.*/\1 \2 \3 \4/' |
  awk '{print (($1*60+$2)*60+$3)*1000+$4}')
prev=""
k=0
mins=(500 1000 2000 4000)
for t in $times; do
  if [ -n "$prev" ]; then
    [ $((t - prev)) -ge $((mins[k] - 20)) ] || fail "spawn $((k + 2)) only $((t - prev)) ms after the previous (minimum ${mins[$k]})"
    k=$((k + 1))
  fi
  prev=$t
done
for pid in $(cat "$T/pids"); do ! alive "$pid" || fail "process $pid survived the node's stop"; done
log "ok: exit $code; delays $d1 $delays ms"
