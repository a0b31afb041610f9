#!/usr/bin/env bash
# Each node serves metrics.listen: GET /metrics passes promtool's parser and linter (Prometheus'
# own, from Debian's prometheus package) and its values move under load; /ready answers 200 once
# the node is up; /health answers 200 only while the node can serve and 503 with the failing
# checks in JSON when it cannot (here: no quorum); other paths 404, other methods 405. A metrics
# port in use fails the start, naming the key.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool is missing (scripts/setup.sh installs prometheus)"
cluster_yaml 3 health-monitor raft-peer kv-store
mbase=$((10000 + RANDOM % 20000))
for i in 1 2 3; do echo "metrics: {listen: \"127.0.0.1:$((mbase + i))\"}" >>"$T/n$i.yaml"; done
url() { echo "http://127.0.0.1:$((mbase + $1))$2"; }
# http_status I PATH: the status code of GET PATH on node nI
http_status() { curl -s -o /dev/null -w '%{http_code}' "$(url "$1" "$2")"; }
status_is() { [ "$(http_status "$1" "$2")" = "$3" ]; }
# metric I NAME_WITH_LABELS: its value on node nI
metric() { curl -sf "$(url "$1" /metrics)" | awk -v m="$2" '$1 == m {print $2}'; }

for i in 1 2 3; do start_node "$T/n$i.yaml"; done
for i in 1 2 3; do assert_eq "$(http_status "$i" /ready)" 200 "n$i /ready once up"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
leader=$(leader_agreed 3)
l=${leader#n}
for i in 1 2 3; do wait_for "n$i /health 200" 20 status_is "$i" /health 200; done
body=$(curl -s "$(url 1 /health)")
assert_eq "$(echo "$body" | jq -r '.healthy, (.failing | length)' | tr '\n' ' ')" "true 0 " "n1 /health body"

# the exposition passes Prometheus' own parser and linter, on leader and follower
for i in 1 2 3; do
  curl -sf "$(url "$i" /metrics)" >"$T/metrics.$i" || fail "GET /metrics on n$i failed"
  promtool check metrics <"$T/metrics.$i" >"$T/promtool.$i" 2>&1 ||
    fail "promtool check metrics on n$i: $(cat "$T/promtool.$i")"
done
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$(url 1 /metrics)")
assert_eq "$ctype" "text/plain; version=0.0.4; charset=utf-8" "Content-Type of /metrics"
assert_eq "$(metric "$l" 'raftvisor_raft_role{role="leader"}')" 1 "leader's role gauge"
for a in health-monitor raft-peer kv-store; do
  assert_eq "$(metric 1 "raftvisor_actor_up{actor=\"$a\"}")" 1 "n1 $a up"
done
f=$(follower_of 3 "$leader")
grep -q "^raftvisor_raft_peer_lag_entries{peer=\"n$f\"} " "$T/metrics.$l" ||
  fail "the leader's /metrics has no peer lag for n$f"

# values move under load: commit index, kv-store's messages, the follower's applied index
commit0=$(metric "$l" raftvisor_raft_commit_index)
msgs0=$(metric "$l" 'raftvisor_runtime_messages_received_total{actor="kv-store"}')
applied0=$(metric "$f" raftvisor_raft_applied_index)
proposals0=$(metric "$l" raftvisor_raft_proposals_total)
fsyncs0=$(metric "$f" raftvisor_raft_log_fsync_duration_seconds_count)
mkdirs0=$(metric "$l" 'raftvisor_kv_operations_total{op="mkdir"}')
"$RV" bench -c "$T/n$l.yaml" --workload mkdir --clients 4 --ops 200 >/dev/null ||
  fail "bench failed"
moved() {
  [ "$(metric "$l" raftvisor_raft_commit_index)" -ge $((commit0 + 200)) ] &&
    [ "$(metric "$l" 'raftvisor_runtime_messages_received_total{actor="kv-store"}')" -gt "$msgs0" ] &&
    [ "$(metric "$f" raftvisor_raft_applied_index)" -ge $((applied0 + 200)) ] &&
    [ "$(metric "$l" raftvisor_raft_proposals_total)" -ge $((proposals0 + 200)) ] &&
    [ "$(metric "$f" raftvisor_raft_log_fsync_duration_seconds_count)" -gt "$fsyncs0" ] &&
    [ "$(metric "$l" 'raftvisor_kv_operations_total{op="mkdir"}')" -ge $((${mkdirs0:-0} + 200)) ]
}
wait_for "commit, applied, proposals, fsyncs, kv-store mkdirs moved by the 200 writes" 20 moved
commit1=$(metric "$l" raftvisor_raft_commit_index)
curl -sf "$(url "$l" /metrics)" | promtool check metrics >"$T/promtool.load" 2>&1 ||
  fail "promtool check metrics after load: $(cat "$T/promtool.load")"
[ "$(metric "$l" raftvisor_raft_log_saved_entries_total)" -ge 200 ] ||
  fail "the leader's log saves wrote fewer than 200 entries"
[ "$(metric "$l" raftvisor_kv_db_size_bytes)" -gt 0 ] || fail "no RocksDB size on the leader"
assert_eq "$(metric "$l" raftvisor_kv_write_stopped)" 0 "RocksDB stalls on the leader"
grep -q '^raftvisor_kv_operation_duration_seconds_bucket{op="mkdir",le="+Inf"} ' \
  <(curl -sf "$(url "$l" /metrics)") || fail "no mkdir latency histogram on the leader"

# a restart is counted, with the actor's last exit
expect_restart n1 health-monitor 1
kill -9 "$(actor_pid "$T/n1.yaml" health-monitor)"
restarted() { [ "$(metric 1 'raftvisor_actor_restarts_total{actor="health-monitor"}')" = 1 ]; }
wait_for "n1 counts health-monitor's restart" 20 restarted
assert_eq "$(metric 1 'raftvisor_actor_last_exit_signal{actor="health-monitor"}')" 9 "last exit signal"

# other paths and methods
assert_eq "$(http_status 1 /nosuch)" 404 "GET /nosuch"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$(url 1 /metrics)")" 405 "POST /metrics"

# no quorum: two nodes stopped, the third cannot serve; /health says why, /ready stays 200
keep=$f
for i in 1 2 3; do [ "$i" = "$keep" ] || stop_node "$T/n$i.yaml"; done
# (one request gives the status and the body judged; the node may pass through an election of
# its own on the way, before it is alone)
no_leader_503() {
  [ "$(curl -s -o "$T/health.json" -w '%{http_code}' "$(url "$keep" /health)")" = 503 ] &&
    jq -e '.failing | index("raft-leader")' "$T/health.json" >/dev/null
}
wait_for "n$keep /health 503 naming raft-leader, without quorum" 30 no_leader_503
body=$(cat "$T/health.json")
assert_eq "$(echo "$body" | jq -r '.healthy')" false "/health without quorum"
assert_contains "$(echo "$body" | jq -r '.failing[]')" raft-leader "failing checks without quorum"
assert_contains "$(echo "$body" | jq -r '.checks[] | select(.name == "raft-leader") | .reason')" \
  "no leader known" "reason of raft-leader"
assert_eq "$(http_status "$keep" /ready)" 200 "/ready without quorum (the node is up)"
assert_eq "$(metric "$keep" raftvisor_node_healthy)" 0 "raftvisor_node_healthy without quorum"

# the metrics port in use: the start is refused, naming the key
other=$(( keep % 3 + 1 ))
sed -i "s/listen: \"127.0.0.1:$((mbase + other))\"/listen: \"127.0.0.1:$((mbase + keep))\"/" "$T/n$other.yaml"
expect_fail 1 "metrics.listen: cannot listen on 127.0.0.1:$((mbase + keep)): Address already in use" \
  "$RV" start --daemon -c "$T/n$other.yaml"
log "ok: leader n$l, commit index $commit0 -> $commit1 under load"
