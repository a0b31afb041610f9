#!/usr/bin/env bash
# A crash loop: restarts are spaced (restart-min-delay-ms after the previous spawn), the backoff
# doubles with each quick exit, the restart intensity is exceeded, and the node stops with a
# clear message and a non-zero exit. The spacing and the doubling are read from the supervisor's
# own decisions in its log ("restarts in N ms"), not from a clock.
source "$(dirname "$0")/lib.sh"
RV_INTENSITY=4
RV_MIN_DELAY_MS=300
RV_MAX_DELAY_MS=5000
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
# the supervisor's decisions: 4 restarts, each after a delay; the first only for the minimum
# spacing (300 ms after its spawn, less the time it ran), then 600, 1200, 2400 (doubling)
delays=$(sed -n 's/.*actor crasher restarts in \([0-9]*\) ms.*/\1/p' "$T/out.txt" | paste -sd' ')
log "restart delays: $delays ms"
read -r -a d <<<"$delays"
[ "${#d[@]}" -eq 4 ] ||
  fail "expected 4 delayed restarts (the first held back by the minimum spacing), got: $delays"
[ "${d[0]}" -gt 0 ] && [ "${d[0]}" -le 300 ] || fail "first restart delay ${d[0]} ms, expected 1..300"
assert_eq "${d[1]} ${d[2]} ${d[3]}" "600 1200 2400" "the backoff doubles from 2 x the minimum delay"
# and the spawns are that far apart in the supervisor's own log timestamps (lower bounds only,
# less 20 ms: the core times a spawn when it decides it, the log line follows the fork)
times=$(grep "spawned actor crasher" "$T/out.txt" |
  sed -E 's/^[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)Z.*/\1 \2 \3 \4/' |
  awk '{print (($1*60+$2)*60+$3)*1000+$4}')
prev=""
k=0
mins=(300 600 1200 2400)
for t in $times; do
  if [ -n "$prev" ]; then
    [ $((t - prev)) -ge $((mins[k] - 20)) ] || fail "spawn $((k + 2)) only $((t - prev)) ms after the previous (minimum ${mins[$k]})"
    k=$((k + 1))
  fi
  prev=$t
done
for pid in $(cat "$T/pids"); do ! alive "$pid" || fail "process $pid survived the node's stop"; done
log "ok: exit $code; delays $delays ms"
