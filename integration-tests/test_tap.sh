#!/usr/bin/env bash
# tap shows the live traffic, decoded, filtered by actor and by type, as text or JSON lines.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
out=$("$RV" tap -c "$cfg" --type Heartbeat --count 4 --timeout 10) || fail "tap --type Heartbeat: $out"
n=$(echo "$out" | grep -c " Heartbeat ")
[ "$n" -eq 4 ] || fail "expected 4 Heartbeat lines, got $n: $out"
! matches "HeartbeatAck" "$out" || fail "--type Heartbeat let a HeartbeatAck through"
assert_contains "$out" "n1/supervisor -> n1/" "heartbeats come from the supervisor"
out=$("$RV" tap -c "$cfg" --actor a1 --json --count 6 --timeout 10) || fail "tap --actor a1: $out"
while read -r line; do
  echo "$line" | jq -e '.tap | startswith("n1/a1/")' >/dev/null || fail "line not from a1's tap: $line"
  echo "$line" | jq -e '.from == "n1/a1" or .to == "n1/a1"' >/dev/null || fail "line not about a1: $line"
done <<<"$out"
echo "$out" | jq -se 'map(.type) | index("HeartbeatAck") != null' >/dev/null || fail "no HeartbeatAck from a1: $out"
expect_fail 2 "NoSuchType" "$RV" tap -c "$cfg" --type NoSuchType --count 1
log "ok"
