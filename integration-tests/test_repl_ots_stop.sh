#!/usr/bin/env bash
# A stop while the remote store does not answer is clean: the leader's replicator has a request
# in flight to rv-ots-server that never returns (blackhole) or returns only after 30 s (delay),
# and its node is stopped. The backend worker's call is cancelled (curl's progress callback, no
# retry wait), so the actor exits 0 within its shutdown timeout instead of being killed: the
# harness check of every stop_node fails on an unclean stop as `raftvisor stop --json` reports
# it. How long each stop took is logged, not asserted. Then the copy drains to the cluster's
# digest once the store answers again (a cancelled write changed nothing remotely).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do
  printf 'ots:\n  enabled: true\n  endpoint: "http://127.0.0.1:%s"\n  instance: rv-test\n  access-key-id: rvTestKeyId\n  access-key-secret: "@%s"\n' \
    "$OTS_PORT" "$OTS_DIR/secret" >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "one leader agreed by all" 20 leader_agreed 3

leader_synced() {
  "$RV" meta-status -c "$T/n1.yaml" >"$T/meta-status" 2>&1 || return 1
  grep -q '^LEADER .* _synced=1 ' "$T/meta-status"
}
held() { # N: at least N requests are held by the fault (the server logs each)
  [ "$(grep -c "$2" "$OTS_LOG" || true)" -ge "$1" ]
}
remote_matches() {
  local r
  r=$("$RV" meta-status --digest -c "$T/n1.yaml" 2>/dev/null) || return 1
  [ "${r%% *}" = "$DIGEST" ]
}

for k in $(seq 1 20); do fs 1 -mkdir -p "/d$k" || fail "mkdir -p /d$k"; done
wait_for "the leader's meta-status says _synced=1" 60 leader_synced

# every node's worker has a request held: the leader's upload, the followers' meta reads
stop_all() { # WHAT
  local i t0
  for i in 1 2 3; do
    t0=$(date +%s%N)
    stop_node "$T/n$i.yaml"
    log "n$i stopped with $1 in $((($(date +%s%N) - t0) / 1000000)) ms"
  done
  for i in 1 2 3; do start_node "$T/n$i.yaml"; done
  wait_for "one leader agreed by all" 30 leader_agreed 3
}

# 1. blackhole: requests wait for an answer that never comes
before=$(grep -c 'blackholed' "$OTS_LOG" || true)
ots_faults $'blackhole\n'
for k in $(seq 1 10); do fs 1 -mkdir -p "/b$k" || fail "mkdir -p /b$k"; done
wait_for "the replicators' requests blackholed" 30 held $((before + 3)) blackholed
stop_all "blackholed requests in flight"

# 2. slow answers: every request is answered after 30 s
before=$(grep -c 'delayed' "$OTS_LOG" || true)
ots_faults $'delay 30000\n'
for k in $(seq 1 10); do fs 1 -mkdir -p "/s$k" || fail "mkdir -p /s$k"; done
wait_for "the replicators' requests delayed" 30 held $((before + 3)) delayed
stop_all "delayed requests in flight"

# 3. the store answers again: the copy drains to the cluster
ots_faults ''
digests_equal 3
wait_for "the remote copy drains to the cluster's digest $DIGEST at index $DIGEST_INDEX" 120 remote_matches
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
ots_stop TERM
log PASS
