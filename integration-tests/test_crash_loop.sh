#!/usr/bin/env bash
# A crash loop: restarts are spaced (backoff), the restart intensity is exceeded, and the node
# stops with a clear message and a non-zero exit.
source "$(dirname "$0")/lib.sh"
RV_INTENSITY=4
cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: crasher, exec: $RV_BIN/raftvisor-test-actor, args: [--exit-after-ms, '5', --exit-code, '3']}")
"$RV" start -c "$cfg" >"$T/out.txt" 2>&1 &
sup=$!
echo $sup >>"$T/pids"
deadline=$((SECONDS + 30))
while alive $sup; do
  [ $SECONDS -ge $deadline ] && fail "the node did not give up within 30 s"
  sleep 0.05
done
wait $sup
code=$?
[ $code -ne 0 ] || fail "the supervisor exited 0 after a crash loop"
out=$(cat "$T/out.txt")
assert_contains "$out" "restart intensity exceeded: more than 4 restarts in 30 s; last: actor crasher exited with code 3" "supervisor output"
# spacing: spawns of the crasher at least restart-min-delay-ms (50) apart, and growing
times=$(grep "spawned actor crasher" "$T/out.txt" | sed -E 's/^[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)Z.*/\1 \2 \3 \4/' |
  awk '{print (($1*60+$2)*60+$3)*1000+$4}')
n=$(echo "$times" | wc -l)
[ "$n" -eq 5 ] || fail "expected 5 spawns of the crasher (1 + 4 restarts), saw $n"
prev=""; prevgap=0
for t in $times; do
  if [ -n "$prev" ]; then
    gap=$((t - prev))
    [ $gap -ge 45 ] || fail "restarts only $gap ms apart (minimum 50)"
    prevgap=$gap
  fi
  prev=$t
done
[ $prevgap -ge 150 ] || fail "the backoff did not grow: last gap $prevgap ms"
for pid in $(cat "$T/pids"); do alive "$pid" && fail "process $pid survived the node's stop"; done
log "ok: exit $code; last gap ${prevgap} ms"
