#!/usr/bin/env bash
# The off-cluster replica with the file:// backend on a three-node cluster: a namespace written
# with `fs` (directories, files with content, a rename, a removal) and `bench` (creates from 16
# clients) reaches the remote copy: `meta-status` shows _synced=1 on the leader, and the copy,
# read back at its meta row (`meta-status --digest`), hashes to what `fs -digest` prints on
# every node at the same index. meta-status's lines, --json and --detail; a follower trims its
# change log below the remote synced_index (backlog 0 once synced).
source "$(dirname "$0")/lib.sh"
REPL_METRICS_BASE=$(claim_ports 3)
repl_cluster 3

for k in $(seq 1 30); do fs 1 -mkdir -p "/d$((k % 7))/e$k" || fail "mkdir /d$((k % 7))/e$k"; done
for k in $(seq 1 10); do printf 'content %d' "$k" | fs 2 -put - "/d1/f$k" || fail "put /d1/f$k"; done
fs 1 -mv /d2 /moved || fail "mv"
fs 1 -rm -r /d3 || fail "rm -r"
"$RV" bench -c "$T/n1.yaml" --workload create --clients 16 --ops 3000 >"$T/bench.out" 2>&1 ||
  fail "bench: $(tail -n 3 "$T/bench.out")"

remote_digest_equal 3
log "remote copy = cluster at index $REMOTE_INDEX: $REMOTE_DIGEST"

out=$("$RV" meta-status -c "$T/n1.yaml")
log "meta-status:
$out"
[ "$(echo "$out" | grep -c '^LEADER ')" = 1 ] || fail "one LEADER line expected: $out"
[ "$(echo "$out" | grep -c '^FOLLOWER ')" = 2 ] || fail "two FOLLOWER lines expected: $out"
matches "^LEADER .* _synced=1 synced_index=[0-9]* commit_index=[0-9]* lag_entries=0 lag_s=0.0 backlog_bytes=[0-9]*$" "$out" ||
  fail "the leader's line: $out"
json=$("$RV" meta-status --json -c "$T/n1.yaml")
[ "$(echo "$json" | jq -r '.schema_version')" = 1 ] || fail "schema_version: $json"
[ "$(echo "$json" | jq '[.nodes[] | select(.role == "LEADER" and .synced == true)] | length')" = 1 ] ||
  fail "--json: one synced leader expected: $json"
[ "$(echo "$json" | jq '[.nodes[] | select(.replica == "on" and .reachable)] | length')" = 3 ] ||
  fail "--json: replica on, reachable on every node: $json"
detail=$("$RV" meta-status --detail -c "$T/n1.yaml")
assert_contains "$detail" "state=standby" "--detail on a follower"
assert_contains "$detail" "backend=\"file $T/remote/it\"" "--detail names the backend"

# every node trims: once synced and idle, no node keeps a backlog
no_backlog() { [ "$("$RV" meta-status --json -c "$T/n1.yaml" | jq '[.nodes[].backlog_bytes] | max')" = 0 ]; }
wait_for "every node's change log trimmed to nothing" 10 no_backlog

# /metrics: the replica's gauges and counters on the leader, in Prometheus' format
L=$(leader_agreed 3)
curl -sf "http://127.0.0.1:$((REPL_METRICS_BASE + ${L#n}))/metrics" >"$T/metrics" || fail "GET /metrics on $L"
metric() { awk -v m="$1" '$1 == m {print $2}' "$T/metrics"; }
[ "$(metric raftvisor_replica_active)" = 1 ] || fail "raftvisor_replica_active on $L: $(grep replica "$T/metrics")"
[ "$(metric raftvisor_replica_synced_index)" -ge "$REMOTE_INDEX" ] || fail "synced_index in /metrics"
[ "$(metric raftvisor_replica_uploads_total)" -ge 1 ] || fail "uploads_total in /metrics"
if command -v promtool >/dev/null; then
  promtool check metrics <"$T/metrics" >"$T/promtool" 2>&1 || fail "promtool: $(cat "$T/promtool")"
fi

# usage errors and help
expect_fail 2 "missing -c FILE" "$RV" meta-status
matches "_synced=1 on the leader exactly when" "$("$RV" meta-status --help)" || fail "--help"
log "ok"
