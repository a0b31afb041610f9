#!/usr/bin/env bash
# The cluster-wide feature gate (actors/kv-store/core/kv_feature.h) in a mixed cluster. n3 stands
# for a build of feature level 1 (RV_TEST_FEATURE_LEVEL=1: it advertises level 1 and applies no
# op above it), n1 and n2 run this build (level 2):
#   - level 1's commands go on (mkdir, put, touchz, mv, chmod, rm); -appendToFile, -truncate and
#     -setfattr are refused by the leader with RV_EFEATURE naming the level and n3 (fs --json:
#     code 70, "EFEATURE"); endpoints and status show each node's level; one digest on all three;
#   - n3 upgraded (restarted at this build's level): -appendToFile works, one digest;
#   - n3 stopped, an append applied without it, n3 restarted at level 1 (a downgrade): it meets
#     the append in the log and stops (kv-store exits 78: the node stops, naming the log index,
#     op 7 and "this build is older than the cluster: upgrade this node"), never skipping it;
#   - n3 started at this build's level again: it applies what it missed, one digest on all
#     three, and appends go on.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
start_node "$T/n1.yaml"
start_node "$T/n2.yaml"
RV_TEST_FEATURE_LEVEL=1 start_node "$T/n3.yaml"
wait_for "one leader agreed by all" 30 leader_agreed 3
wait_for "the namespace takes a write" 30 fs 1 -mkdir -p /d
grep -q "RV_TEST_FEATURE_LEVEL=1: this node stands for a build of feature level 1" \
  "$T/n3/log/kv-store.log" || fail "n3's kv-store does not say it stands for level 1"

# level 1's commands, through any node
printf 'a' >"$T/a"
printf 'b' >"$T/b"
printf 'c' >"$T/c"
fs 1 -put "$T/a" /d/f
fs 2 -touchz /d/t
fs 3 -mv /d/t /d/t2
fs 1 -chmod 700 /d/t2
fs 2 -mkdir -p /d/x/y
fs 3 -rm -r /d/x

# level 2's are refused, naming the level and the node below it (once the leader heard n3)
want="appendToFile needs every node at feature level 2; n3 runs level 1: upgrade it (raftvisor endpoints shows each node's level)"
expect_fail 1 "$want" fs 1 -appendToFile "$T/b" /d/f
expect_fail 1 "truncate needs every node at feature level 2; n3 runs level 1" fs 2 -truncate 0 /d/f
expect_fail 1 "setfattr needs every node at feature level 2; n3 runs level 1" fs 3 -setfattr -n user.k -v v /d/f
code=0
out=$(fs 1 --json -appendToFile "$T/b" /d/f) || code=$?
assert_eq "$code" 1 "fs --json -appendToFile's exit code"
assert_eq "$(echo "$out" | jq -r '.ok, .code, .error' | tr '\n' ' ')" "false 70 EFEATURE " \
  "fs --json -appendToFile refused"
assert_contains "$(echo "$out" | jq -r .message)" "$want" "fs --json's message"
assert_eq "$(fs 2 -cat /d/f)" a "the file the refused appends named"

# each node's level: endpoints (every node asked) and the leader's status
"$RV" endpoints -c "$T/n1.yaml" -w json >"$T/ep.json" || fail "endpoints: $(cat "$T/ep.json")"
assert_eq "$(jq -r '[.nodes[] | "\(.node)=\(.feature_level)"] | join(",")' "$T/ep.json")" \
  "n1=2,n2=2,n3=1" "endpoints: each node's feature level"
assert_eq "$(jq -r '[.nodes[] | select(.role == "leader") | .cluster_level] | join(",")' "$T/ep.json")" 1 \
  "endpoints: the cluster's level, on the leader"
assert_eq "$(jq -r '[.nodes[] | select(.role != "leader") | .cluster_level] | unique | join(",")' "$T/ep.json")" "" \
  "endpoints: cluster_level is null on the followers"
"$RV" endpoints -c "$T/n1.yaml" >"$T/ep.txt" || fail "endpoints: $(cat "$T/ep.txt")"
assert_eq "$(awk 'NR == 1 {print $12} NR > 1 {print $1 "=" $12}' "$T/ep.txt" | paste -sd' ')" \
  "LEVEL n1=2 n2=2 n3=1" "endpoints' LEVEL column"
leader=$(leader_agreed 3)
assert_eq "$(status_json "$T/$leader.yaml" | jq -r '[.raft.feature_level] + [.raft.peers[] | "\(.node)=\(.feature_level)"] | join(",")')" \
  "$([ "$leader" = n3 ] && echo "1,n1=2,n2=2" || echo "2,$(for n in n1 n2 n3; do [ $n = "$leader" ] || printf '%s=%s,' $n "$([ $n = n3 ] && echo 1 || echo 2)"; done | sed 's/,$//')")" \
  "the leader's status: its level and each peer's"
digests_equal 3
log "mixed cluster: level 1's commands applied on all three (digest $DIGEST), level 2's refused"

# n3 upgraded: once the leader hears its new level, appends go through
stop_node "$T/n3.yaml"
start_node "$T/n3.yaml"
wait_for "-appendToFile taken once n3 says level 2" 30 fs 1 -appendToFile "$T/b" /d/f
assert_eq "$(fs 3 -cat /d/f)" ab "the append"
digests_equal 3

# a downgrade: n3 stopped, an append applied without it, n3 back at level 1
stop_node "$T/n3.yaml"
# (the test variable takes this build's levels only, and says so at start)
expect_fail 1 "RV_TEST_FEATURE_LEVEL=\"3\": expected a feature level 1..2" \
  env RV_TEST_FEATURE_LEVEL=3 "$RV" start --daemon -c "$T/n3.yaml"
out=$(fs 1 --json -appendToFile "$T/c" /d/f) || fail "an append while n3 is stopped: $out"
index=$(echo "$out" | jq -r .index)
log "appended at index $index while n3 was stopped; starting n3 at level 1"
code=0
out=$(RV_TEST_FEATURE_LEVEL=1 "$RV" start --daemon -c "$T/n3.yaml" 2>&1) || code=$?
log "start of n3 at level 1: exit $code: $out"
pid=$(supervisor_pid "$T/n3.yaml")
[ -n "$pid" ] && echo "$pid" >>"$T/pids"
echo "started n3" >>"$T/nodes"
expect_node_down n3
stops="log index $index holds op 7 (append), which needs feature level 2; this node runs level 1: this build is older than the cluster: upgrade this node"
n3_refused() { grep -qF "$stops" "$T/n3/log/kv-store.log"; }
wait_for "n3's kv-store refuses the append it missed" 30 n3_refused
if [ -n "$pid" ]; then wait_for "n3's node stops" 30 gone "$pid"; fi
grep -q "actor kv-store exited with a configuration error (exited with code 78" "$T/n3/log/supervisor.log" ||
  fail "n3's supervisor does not say kv-store exited 78: $(tail -n 5 "$T/n3/log/supervisor.log")"
grep -qF "$stops" "$T/n3/log/supervisor.log" || fail "n3's stop reason does not name the entry"
log "n3 stopped: $(grep -F "exited with a configuration error" "$T/n3/log/supervisor.log" | tail -n 1 | cut -c 1-160)..."

# n3 at this build's level again: it applies what it missed; one namespace everywhere
start_node "$T/n3.yaml"
wait_for "one leader agreed by all" 30 leader_agreed 3
digests_equal 3
assert_eq "$(fs_at 3 --stale -cat /d/f)" abc "n3's copy of the file after catching up"
wait_for "-appendToFile taken again" 30 fs 2 -appendToFile "$T/a" /d/f
digests_equal 3
assert_eq "$(fs 1 -cat /d/f)" abca "the file at the end"
"$RV" endpoints -c "$T/n1.yaml" -w json >"$T/ep.json" || fail "endpoints: $(cat "$T/ep.json")"
assert_eq "$(jq -r '[.nodes[].feature_level] | join(",")' "$T/ep.json")" "2,2,2" "levels at the end"
log "PASS: digest $DIGEST at index $DIGEST_INDEX on all three"
