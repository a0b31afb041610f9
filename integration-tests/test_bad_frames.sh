#!/usr/bin/env bash
# Hostile frames on an actor's inbox and on the supervisor's control socket are dropped, counted
# and shown on the tap as BadFrame; no process crashes or restarts. Each kind of bad frame is
# seen with its own reason, and every frame sent is counted once (status: actors[].bad_frames)
# and tapped once, the oversized ones included (the inbox sets no ZeroMQ size limit, which used
# to drop them with their connection, uncounted: the codec refuses them). The log says it with
# one line a second per reason at most, however many frames come.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
all_actor_pids "$cfg" >/dev/null
pid=$(actor_pid "$cfg" a1)
sup=$(supervisor_pid "$cfg")
run=$T/n1/run
seed=${RV_INJECT_SEED:-$((RANDOM + 1))}
export RV_INJECT_SEED=$seed
log "rv-inject seed $seed (RV_INJECT_SEED=$seed replays it)"
dropped() { grep -c "dropped a bad frame" "$T/n1/log/$1.log" || true; }
counted() { actor_field "$cfg" "$1" bad_frames; }
counted_is() { [ "$(counted "$1")" = "$2" ]; }
"$RV" tap -c "$cfg" --actor a1 --type BadFrame --json --timeout 60 >"$T/tap.txt" 2>"$T/tap.err" &
tap=$!
echo $tap >>"$T/pids"
# the tap is best effort (a subscription takes a moment to reach the publishers): probe with one
# empty frame at a time until the tap shows one, instead of sleeping
probes=0
tap_saw_one() {
  "$RV_BIN/rv-inject" "ipc://$run/a1.sock" empty 1 2>/dev/null
  probes=$((probes + 1))
  [ -s "$T/tap.txt" ]
}
wait_for "the tap to show a BadFrame of a1" 20 tap_saw_one
wait_for "a1 to count the $probes probes" 10 counted_is a1 "$probes"
tapped=$(wc -l <"$T/tap.txt")
kinds="garbage empty multipart unknown-type truncated oversized"
for kind in $kinds; do
  "$RV_BIN/rv-inject" "ipc://$run/a1.sock" $kind 3 || fail "rv-inject $kind"
done
"$RV_BIN/rv-inject" "ipc://$run/supervisor.sock" garbage 20 || fail "rv-inject supervisor"
# every frame counted once: 6 kinds x 3 on a1 (after the probes)
wait_for "a1 to count $((probes + 18)) bad frames" 10 counted_is a1 $((probes + 18))
logged_some() { [ "$(dropped supervisor)" -ge 1 ]; }
wait_for "the supervisor to log its bad frames" 10 logged_some
tap_has() { [ "$(wc -l <"$T/tap.txt")" -ge $((tapped + 18)) ]; }
wait_for "the tap to show the 18 BadFrames of a1" 10 tap_has
kill "$tap"
# each kind with its own reason (every one of them), 3 times each
reasons=$(jq -r .body.reason "$T/tap.txt" | sed -E 's/[0-9]+ bytes/N bytes/' | sort | uniq -c)
log "reasons on the tap:
$reasons"
tap_reason_count() { jq -r .body.reason "$T/tap.txt" | grep -Ec "$1" || true; }
assert_eq "$(tap_reason_count '^unknown message type 9999$')" 3 "BadFrames for unknown-type"
assert_eq "$(tap_reason_count '^multi-part message')" 3 "BadFrames for multipart"
assert_eq "$(tap_reason_count "^empty frame\$")" $((tapped + 3)) "BadFrames for empty (the probes the tap saw too)"
# garbage and truncated envelopes: neither decodes as an envelope
assert_eq "$(tap_reason_count '^frame of 9 bytes is not an envelope$')" 3 "BadFrames for truncated"
assert_eq "$(tap_reason_count 'is not an envelope$')" 6 "BadFrames for garbage and truncated"
assert_eq "$(tap_reason_count '^frame of [0-9]+ bytes exceeds the [0-9]+-byte limit$')" 3 \
  "BadFrames for oversized"
# the log is rate-limited: at most one line a second per reason, however many frames came
[ "$(dropped supervisor)" -le 5 ] || fail "the supervisor logged $(dropped supervisor) lines for a burst of 20 frames"
[ "$(dropped a1)" -ge 1 ] || fail "a1 logged no bad frame"
[ "$(dropped a1)" -le $((probes + 18)) ] || fail "a1 logged $(dropped a1) lines for $((probes + 18)) frames"
# everyone is still there, unrestarted, and still answering
assert_eq "$(actor_pid "$cfg" a1)" "$pid" "a1's pid"
assert_eq "$(actor_field "$cfg" a1 restarts)" 0 "a1 restarts"
alive "$sup" || fail "the supervisor died"
wait_for "a1 healthy" 10 field_is "$cfg" a1 health healthy
log "ok: $(wc -l <"$T/tap.txt") BadFrame lines; a1 dropped $(dropped a1), the supervisor $(dropped supervisor)"
