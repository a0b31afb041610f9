#!/usr/bin/env bash
# End to end, the remote copy in rv-ots-server: a three-node cluster with ots.enabled uploads
# what fs and bench write; meta-status shows _synced=1 on the leader, and the copy's namespace
# digest (meta-status --digest, and rv-repl-ots-drive's own scan) is the cluster's `fs -digest`. Then the server answers 503 ServerBusy to everything, then
# blackholes every request: the cluster keeps taking writes (bench p50/p99 reported beside the
# run before the faults, not asserted), the backlog is visible in status, no actor restarts, and
# once the server is healthy again the copy drains to the cluster's digest.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do
  printf 'ots:\n  enabled: true\n  endpoint: "http://127.0.0.1:%s"\n  instance: rv-test\n  access-key-id: rvTestKeyId\n  access-key-secret: "@%s"\n' \
    "$OTS_PORT" "$OTS_DIR/secret" >>"$T/n$i.yaml"
  "$RV" start --daemon -c "$T/n$i.yaml" >/dev/null || fail "raftvisor start -c $T/n$i.yaml failed"
  supervisor_pid "$T/n$i.yaml" >>"$T/pids"
done
wait_for "one leader agreed by all" 20 leader_agreed 3

# The copy as the CLI reads it (meta-status --digest: "DIGEST SYNCED_INDEX remote:BACKEND") and
# as rv-repl-ots-drive reads it (its own scan through repl_backend.h): both must name the
# cluster's digest at its index.
remote_matches() {
  local r d
  r=$("$RV" meta-status --digest -c "$T/n1.yaml" 2>/dev/null) || return 1
  [ "${r%% *}" = "$DIGEST" ] || return 1
  d=$(ots_remote_digest it) || return 1
  [ "${d%% *}" = "$DIGEST" ] || fail "meta-status --digest says $r, rv-repl-ots-drive digest says $d"
}
leader_synced() {
  "$RV" meta-status -c "$T/n1.yaml" >"$T/meta-status" 2>&1 || return 1
  grep -q '^LEADER .* _synced=1 ' "$T/meta-status"
}
notes() {
  local i
  "$RV" meta-status -c "$T/n1.yaml" 2>&1 || true
  for i in 1 2 3; do
    printf 'n%s kv-store: %s | ots-replicator: %s\n' "$i" "$(actor_field "$T/n$i.yaml" kv-store health_reason)" \
      "$(actor_field "$T/n$i.yaml" ots-replicator health_reason)"
  done
}
bench_run() { # NAME: 2 s of creates by 4 clients; prints "p50_us p99_us ops_per_s"
  "$RV" bench -c "$T/n1.yaml" --workload create --clients 4 --seconds 2 --json >"$T/bench-$1.json" ||
    fail "bench $1 failed"
  jq -r '"\(.p50_us) \(.p99_us) \(.ops_per_s)"' "$T/bench-$1.json" | tail -n 1
}

for k in $(seq 1 30); do fs 1 -mkdir -p "/d$k/e" || fail "mkdir -p /d$k/e"; done
printf 'hello' | fs 1 -put - /d1/e/f || fail "put"
before=$(bench_run before)
digests_equal 3
wait_for "the leader's meta-status says _synced=1" 60 leader_synced
wait_for "the remote copy reaches the cluster's digest $DIGEST at index $DIGEST_INDEX" 60 remote_matches
log "remote copy: $("$RV" meta-status --digest -c "$T/n1.yaml"); cluster: $DIGEST at $DIGEST_INDEX"
cat "$T/meta-status"

ots_faults $'busy 100%\n'
busy=$(bench_run busy)
log "with every request answered 503 ServerBusy:"
notes
ots_faults $'blackhole\n'
blackhole=$(bench_run blackhole)
log "with every request blackholed:"
notes
log "bench create, 4 clients (p50_us p99_us ops/s): before $before | 503s $busy | blackhole $blackhole"

ots_faults ''
digests_equal 3
wait_for "the remote copy drains to the cluster's digest $DIGEST at index $DIGEST_INDEX" 120 remote_matches
wait_for "the leader's meta-status says _synced=1 again" 30 leader_synced
log "drained: remote copy $("$RV" meta-status --digest -c "$T/n1.yaml"); cluster $DIGEST at $DIGEST_INDEX"
notes
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
ots_stop TERM
log PASS
