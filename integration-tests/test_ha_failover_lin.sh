#!/usr/bin/env bash
# haadmin -failover under write load: 8 clients run single-path operations (rv-lin-workload)
# while leadership is moved four times with -failover LEADER FOLLOWER; every failover must
# succeed, and the recorded history must be linearizable (rv-lincheck), so no acknowledged write
# was lost or applied twice across the handovers.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do start_node "$T/n$i.yaml" >/dev/null; done
wait_for "one leader agreed by all" 15 leader_agreed 3
nodes="$(client_addr 1),$(client_addr 2),$(client_addr 3)"
"$RV_BIN/rv-lin-workload" --nodes "$nodes" --out "$T/history.jsonl" --clients 8 --paths 6 \
  --seconds 10 --seed $((RANDOM + 1)) >"$T/workload.txt" 2>&1 &
wl=$!
echo $wl >>"$T/pids"
wait_for "the workload has written" 10 file_lines "$T/history.jsonl" 50
for k in 1 2 3 4; do
  from=$(leader_agreed 3) || { wait_for "a leader" 10 leader_agreed 3; from=$(leader_agreed 3); }
  to=n$(follower_of 3 "$from")
  wait_for "$to healthy" 10 "$RV" haadmin -c "$T/n1.yaml" -checkHealth "$to"
  out=$("$RV" haadmin -c "$T/n1.yaml" -failover "$from" "$to" 2>&1) || fail "failover $k: $out"
  log "failover $k: $out"
  wait_for "more history after failover $k" 10 file_lines "$T/history.jsonl" $((50 + 40 * k))
done
wait $wl || fail "the workload failed: $(cat "$T/workload.txt")"
log "$(cat "$T/workload.txt")"
out=$("$RV_BIN/rv-lincheck" "$T/history.jsonl" --model namespace --timeout-s 60)
code=$?
log "$out"
[ $code -eq 0 ] || { cp "$T/history.jsonl" /tmp/rv-ha-lin-failed-history.jsonl; fail "history not linearizable (exit $code), kept in /tmp/rv-ha-lin-failed-history.jsonl"; }
log "ok"
