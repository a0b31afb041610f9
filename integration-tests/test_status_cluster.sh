#!/usr/bin/env bash
# raftvisor endpoints / status --cluster: every node of the YAML asked over the network (its
# client port), from a YAML whose directories do not exist here (as on another host); one row per
# node, JSON with null for what an unreachable node could not say. status --json: schema_version,
# leader null when none is known. raft --json: the answer as one object, failures included.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
# as on a host without the node's directories: only cluster.nodes is read
sed "s#data-dir: .*#data-dir: /nonexistent/raftvisor/n1#" "$T/n1.yaml" >"$T/remote.yaml"
fs 1 -mkdir -p /a/b >/dev/null || fail "mkdir failed"
all_caught_up() {
  "$RV" endpoints -c "$T/remote.yaml" -w json >"$T/ep.json" || return 1
  [ "$(jq '[.nodes[] | select(.lag == 0)] | length' "$T/ep.json")" = 3 ]
}
wait_for "every node answers, none lags" 20 all_caught_up
j=$(cat "$T/ep.json")
assert_eq "$(echo "$j" | jq -r '.schema_version, .cluster' | tr '\n' ' ')" "1 it " "endpoints json head"
assert_eq "$(echo "$j" | jq -r '[.nodes[].node] | join(",")')" "n1,n2,n3" "nodes, in YAML order"
assert_eq "$(echo "$j" | jq '[.nodes[] | select(.role == "leader")] | length')" 1 "one leader"
assert_eq "$(echo "$j" | jq -r '.nodes[] | select(.role == "leader") | .node')" "$leader" "the leader"
assert_eq "$(echo "$j" | jq -r '[.nodes[].leader] | unique | join(",")')" "$leader" "leader as seen by all"
assert_eq "$(echo "$j" | jq -r '[.nodes[].health] | unique | join(",")')" healthy "health of all"
assert_eq "$(echo "$j" | jq -r '[.nodes[].version] | unique | join(",")')" \
  "$("$RV" version | cut -d' ' -f2)" "versions"
assert_eq "$(echo "$j" | jq '[.nodes[] | select(.db_size > 0 and .uptime_ms > 0 and .applied >= 2)] | length')" 3 \
  "db size, uptime, applied of all"
addr2=$(client_addr 2)
assert_eq "$(echo "$j" | jq -r '.nodes[1].address')" "$addr2" "n2's address"
out=$("$RV" status --cluster -c "$T/remote.yaml") || fail "status --cluster failed: $out"
assert_eq "$(first_line "$out" | awk '{print $1, $2, $3, $4, $5}')" "NODE ADDRESS ROLE TERM LEADER" "table header"
assert_eq "$(echo "$out" | grep -c " healthy$")" 3 "three healthy rows"
expect_fail 2 "-w expects table or json" "$RV" endpoints -c "$T/n1.yaml" -w yaml

# status --json of one node: the schema version, the leader's name
assert_eq "$(status_json "$T/n1.yaml" | jq -r '.schema_version, .raft.leader' | tr '\n' ' ')" \
  "2 $leader " "status --json head"

# the README documents every field status --json prints (the leader's: raft.peers too), and
# every field of endpoints -w json
readme=$(dirname "$0")/../README.md
sed -n '/^`status --json` prints one object/,/^`raftvisor raft ... --json`/p' "$readme" >"$T/doc.status"
[ -s "$T/doc.status" ] || fail "the README's status --json section was not found"
status_json "$T/$leader.yaml" | jq -r 'keys[], (.raft | keys[]), (.raft.peers[0] | keys[]),
  (.actors[0] | keys[])' | sort -u >"$T/keys.status"
[ "$(wc -l <"$T/keys.status")" -gt 30 ] || fail "status --json keys: $(tr '\n' ' ' <"$T/keys.status")"
undocumented=""
while read -r k; do
  grep -q -e "\`$k\`" -e "\`$k\[\]\`" "$T/doc.status" || undocumented+=" $k"
done <"$T/keys.status"
[ -z "$undocumented" ] || fail "status --json prints fields the README does not document:$undocumented"
sed -n '/^LAG is the highest commit index/,/Exit 0 when every node/p' "$readme" >"$T/doc.endpoints"
for k in $(jq -r 'keys[], (.nodes[0] | keys[])' "$T/ep.json"); do
  grep -q "$k" "$T/doc.endpoints" || fail "endpoints -w json prints \"$k\", which the README does not document"
done

# raft --json: a refusal and a success, each one object on stdout
f=$(follower_of 3 "$leader")
code=0; out=$("$RV" raft --json -c "$T/n$f.yaml" transfer "n$f") || code=$?
[ $code -eq 1 ] || fail "raft transfer on a follower exited $code"
assert_eq "$(echo "$out" | jq -r '.ok, .error' | tr '\n' ' ')" "false ENOTLEADER " "raft --json refusal"
out=$("$RV" raft --json -c "$T/$leader.yaml" transfer "n$f") || fail "raft transfer failed: $out"
assert_eq "$(echo "$out" | jq -r '.ok, .error' | tr '\n' ' ')" "true null " "raft --json success"
leads() { [ "$(raft_field "$T/n$f.yaml" role)" = leader ]; }
wait_for "n$f leads" 20 leads

# two nodes down: their rows say unreachable (null fields), the exit code says some did not answer
for i in 1 2 3; do [ "$i" = "$f" ] || stop_node "$T/n$i.yaml"; done
code=0; "$RV" endpoints -c "$T/remote.yaml" -w json >"$T/ep.json" || code=$?
[ $code -eq 1 ] || fail "endpoints with two nodes down exited $code, expected 1"
assert_eq "$(jq '[.nodes[] | select(.reachable == false and .role == null and .error == "unreachable")] | length' "$T/ep.json")" 2 \
  "unreachable rows"
no_leader() { [ "$(status_json "$T/n$f.yaml" | jq -r '.raft.leader')" = null ]; }
wait_for "n$f has no leader (JSON null)" 30 no_leader
stop_node "$T/n$f.yaml"
expect_fail 3 "no node of cluster it answered" "$RV" endpoints -c "$T/remote.yaml"
log "ok: leader $leader, then n$f"
