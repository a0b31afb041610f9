#!/usr/bin/env bash
# Linearizability under failover: 8 concurrent clients do single-path operations (put, create,
# cat, stat, rm) on a 3-node cluster while the leader's raft-peer, then the next leader's
# kv-store, are killed with SIGKILL, each after the workload has made progress. The recorded
# history (call and return times, results; timed-out operations as never returned) must be
# linearizable (rv-lincheck: Wing & Gong with Lowe's memoization, per path). The workload's seed
# is logged; RV_LIN_SEED=N replays its choices.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 15 leader_agreed 3
nodes=$(sed -n 's/.*host: \(127.0.0.1\), raft-port: [0-9]*, client-port: \([0-9]*\)}.*/\1:\2/p' "$T/n1.yaml" | paste -sd,)
seed=${RV_LIN_SEED:-$((RANDOM + 1))}
log "nodes $nodes; workload seed $seed (RV_LIN_SEED=$seed replays it)"
: >"$T/history.jsonl"
"$RV_BIN/rv-lin-workload" --nodes "$nodes" --out "$T/history.jsonl" --clients 8 --paths 6 \
  --seconds 20 --seed "$seed" >"$T/workload.txt" 2>&1 &
wl=$!
echo $wl >>"$T/pids"
ops() { wc -l <"$T/history.jsonl"; }
ops_at_least() { [ "$(ops)" -ge "$1" ]; }
# faults only once the workload has made progress on a healthy cluster, then after a failover
wait_for "100 operations on a healthy cluster" 20 ops_at_least 100
leader=$(leader_agreed 3) || fail "no agreed leader before the first kill"
pid=$(actor_pid "$T/$leader.yaml" raft-peer)
log "after $(ops) operations: kill -9 raft-peer of leader $leader (pid $pid)"
expect_restart "$leader" raft-peer
kill -9 "$pid"
wait_for "a leader again" 15 leader_agreed 3
at=$(ops)
wait_for "100 more operations after the failover" 20 ops_at_least $((at + 100))
leader=$(leader_agreed 3)
pid=$(actor_pid "$T/$leader.yaml" kv-store)
log "after $(ops) operations: kill -9 kv-store of leader $leader (pid $pid)"
expect_restart "$leader" kv-store
kill -9 "$pid"
wait $wl || fail "the workload failed: $(cat "$T/workload.txt")"
log "$(cat "$T/workload.txt")"
ops=$(ops)
[ "$ops" -gt 300 ] || fail "only $ops operations recorded"
code=0
out=$("$RV_BIN/rv-lincheck" "$T/history.jsonl" --model namespace --timeout-s 60) || code=$?
log "$out"
if [ $code -ne 0 ]; then
  cp "$T/history.jsonl" "/tmp/rv-lin-failed-history-$seed.jsonl"
  fail "history not linearizable (exit $code; seed $seed), kept in /tmp/rv-lin-failed-history-$seed.jsonl"
fi
log "ok: seed $seed"
