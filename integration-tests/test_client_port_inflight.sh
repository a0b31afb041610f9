#!/usr/bin/env bash
# The client port caps the requests one connection may have in flight inside kv-store (issue 8,
# point 4: security.client-inflight, 8192 by default; 16 here so that a test reaches it):
#   1. one connection pipelines 3,000 writes while reading its replies: those past its cap are
#      answered at once with the retriable busy error (RV_EBUSY, counted in port_busy), every
#      request is answered, and another connection is served meanwhile;
#   2. nothing leaks: once every request is answered, kv-store holds no slot (status'
#      actors[kv-store].port_inflight returns to 0), also after a connection that closed with
#      3,000 writes still in flight;
#   3. librvclient treats the busy answer as retriable: `raftvisor bench` with 64 lanes on one
#      connection (four times the cap) completes every create.
source "$(dirname "$0")/lib.sh"
# The flood speaks plain ZeroMQ: the port without CURVE (an authenticated client goes through the
# same listener and the same cap)
SECURITY_YAML="security:
  insecure: true
  superuser: $ADMIN
  client-inflight: 16"
unset RV_CLIENT_KEY RV_SERVER_KEYS
cluster_yaml 1 health-monitor raft-peer kv-store
start_node "$T/n1.yaml"
wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /inflight
kv_pid=$(actor_pid "$T/n1.yaml" kv-store)
addr=$(client_addr 1)
inflight_zero() { [ "$(actor_field "$T/n1.yaml" kv-store port_inflight)" = 0 ]; }

# 1. a connection over its cap. Whether more than 16 requests wait at once depends on how fast
# the node commits against how fast one connection sends; a round that got no busy answer (a
# machine where the node kept up) is run again, a few times at most
busy=0
for round in 1 2 3 4 5; do
  fs 1 -mkdir -p "/inflight/r$round" || fail "mkdir /inflight/r$round"
  "$RV_BIN/rv-client-flood" --addr "$addr" writes --path "/inflight/r$round" --count 3000 \
    >"$T/writes.out" &
  flood=$!
  at_cleanup "kill $flood 2>/dev/null || true"
  # meanwhile another connection is served
  fs 1 -mkdir -p "/during/$round" || fail "another client during the flood (round $round)"
  wait "$flood" || fail "rv-client-flood writes failed"
  cat "$T/writes.out"
  read -r _ replies _ ok _ busy _ other <"$T/writes.out"
  assert_eq "$replies" 3000 "answers to 3,000 pipelined writes (round $round)"
  assert_eq "$other" 0 "answers other than ok and busy (round $round)"
  [ "$busy" -ge 1 ] && break
  log "round $round: no busy answer (the node kept up with one connection); again"
done
[ "$busy" -ge 1 ] || fail "five rounds of 3,000 pipelined writes never went over a cap of 16"
[ "$ok" -ge 16 ] || fail "only $ok of the writes were taken (the cap is 16 in flight, not 16 in all)"
log "3,000 pipelined writes on one connection: $ok applied, $busy answered busy"
counted_busy() { [ "$(actor_field "$T/n1.yaml" kv-store port_busy)" -ge "$busy" ]; }
wait_for "status counts the busy answers (actors[kv-store].port_busy)" 10 counted_busy
grep -q "requests in flight (limit 16 per connection)" "$T/n1/log/kv-store.log" ||
  fail "kv-store's log does not say why it answered busy"

# 2. no slot leaks: answered requests, and a connection that went away with its requests
wait_for "kv-store holds no in-flight slot after the flood (port_inflight 0)" 20 inflight_zero
fs 1 -mkdir -p /inflight/gone || fail "mkdir /inflight/gone"
"$RV_BIN/rv-client-flood" --addr "$addr" writes --path /inflight/gone --count 3000 --no-read ||
  fail "rv-client-flood writes --no-read"
wait_for "kv-store holds no in-flight slot after a connection closed mid-flight" 30 inflight_zero

# 3. librvclient backs off and retries busy answers: 64 lanes on one connection, cap 16
busy_before=$(actor_field "$T/n1.yaml" kv-store port_busy)
"$RV" bench -c "$T/n1.yaml" --workload create --clients 64 --ops 3000 --json >"$T/bench.json" ||
  fail "bench with 64 lanes against a cap of 16 failed: $(cat "$T/bench.json")"
cat "$T/bench.json"
assert_eq "$(jq -r .errors "$T/bench.json")" 0 "bench errors with 64 lanes against a cap of 16"
assert_eq "$(jq -r .ops "$T/bench.json")" 3000 "creates bench completed with 64 lanes against a cap of 16"
log "bench: $(jq -r .ops "$T/bench.json") creates, $(( $(actor_field "$T/n1.yaml" kv-store port_busy) - busy_before )) busy answers retried"
wait_for "kv-store holds no in-flight slot after the bench" 20 inflight_zero

assert_eq "$(actor_pid "$T/n1.yaml" kv-store)" "$kv_pid" "kv-store's pid at the end"
log "PASS"
