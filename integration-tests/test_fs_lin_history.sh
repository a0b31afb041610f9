#!/usr/bin/env bash
# Linearizability under failover: 8 concurrent clients do single-path operations (put, create,
# cat, stat, rm) on a 3-node cluster for 12 s while the leader's raft-peer, then the next
# leader's kv-store, are killed with SIGKILL. The recorded history (call and return times,
# results; timed-out operations as never returned) must be linearizable (rv-lincheck: Wing &
# Gong with Lowe's memoization, per path).
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do start_node "$T/n$i.yaml" >/dev/null; done
wait_for "one leader agreed by all" 15 leader_agreed 3
nodes=$(sed -n 's/.*host: \(127.0.0.1\), raft-port: [0-9]*, client-port: \([0-9]*\)}.*/\1:\2/p' "$T/n1.yaml" | paste -sd,)
log "nodes $nodes"
"$RV_BIN/rv-lin-workload" --nodes "$nodes" --out "$T/history.jsonl" --clients 8 --paths 6 \
  --seconds 12 --seed $((RANDOM + 1)) >"$T/workload.txt" 2>&1 &
wl=$!
echo $wl >>"$T/pids"
sleep 3 # let the workload run on a healthy cluster before the first fault
leader=$(leader_agreed 3) || fail "no agreed leader before the first kill"
pid=$(actor_pid "$T/$leader.yaml" raft-peer)
log "kill -9 raft-peer of leader $leader (pid $pid)"
kill -9 "$pid"
sleep 4
wait_for "a leader again" 15 leader_agreed 3
leader=$(leader_agreed 3)
pid=$(actor_pid "$T/$leader.yaml" kv-store)
log "kill -9 kv-store of leader $leader (pid $pid)"
kill -9 "$pid"
wait $wl || fail "the workload failed: $(cat "$T/workload.txt")"
log "$(cat "$T/workload.txt")"
ops=$(wc -l <"$T/history.jsonl")
[ "$ops" -gt 100 ] || fail "only $ops operations recorded"
out=$("$RV_BIN/rv-lincheck" "$T/history.jsonl" --model namespace --timeout-s 60)
code=$?
log "$out"
[ $code -eq 0 ] || { cp "$T/history.jsonl" /tmp/rv-lin-failed-history.jsonl; fail "history not linearizable (exit $code), kept in /tmp/rv-lin-failed-history.jsonl"; }
log "ok"
