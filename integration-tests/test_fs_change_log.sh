#!/usr/bin/env bash
# The remote replica's change log in a running three-node cluster (ots.enabled, a file://
# endpoint whose shared directory is not mounted, so the ots-replicator can upload nothing and
# retries with backoff; nothing trims): `raftvisor status` shows kv-store's backlog on every node,
# a base copy needed from index 1 on a cluster that enables it; writes grow it on every node; a
# kv-store killed with -9 comes back with its log (it is written in kv-store's own RocksDB
# batches); and the replicas' namespace digests still agree (the log is node-local, in no
# digest).
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do
  printf 'ots:\n  enabled: true\n  endpoint: "file://%s/not-mounted"\n  change-log-max-bytes: 1048576\n' \
    "$T" >>"$T/n$i.yaml"
  "$RV" start --daemon -c "$T/n$i.yaml" >/dev/null || fail "raftvisor start -c $T/n$i.yaml failed"
  supervisor_pid "$T/n$i.yaml" >>"$T/pids"
done
wait_for "one leader agreed by all" 20 leader_agreed 3

# kv-store's note in status: "change log N B of CAP, oldest index I[, base copy needed]"
note() { actor_field "$T/n$1.yaml" kv-store health_reason; }
note_has() { case "$(note "$1")" in *"$2"*) return 0 ;; esac; return 1; }
log_bytes() { note "$1" | sed -n 's/^change log \([0-9]*\) B of .*/\1/p'; }
bytes_at_least() {
  local b
  b=$(log_bytes "$1")
  [ -n "$b" ] && [ "$b" -ge "$2" ]
}

for i in 1 2 3; do
  wait_for "n$i's status shows the change log" 10 \
    note_has "$i" "B of 1048576, oldest index 1, base copy needed"
done
for k in $(seq 1 20); do fs 1 -mkdir -p "/d$k/e" || fail "mkdir -p /d$k/e"; done
printf 'hello' | fs 1 -put - /d1/e/f || fail "put"
for i in 1 2 3; do wait_for "n$i's change log grew" 10 bytes_at_least "$i" 1; done
before=$(log_bytes 2)
log "change log on n2: $before bytes after 21 writes; $(note 2)"

pid=$(actor_pid "$T/n2.yaml" kv-store)
expect_restart n2 kv-store 1
kill -9 "$pid"
wait_for "n2's kv-store restarted" 10 field_is "$T/n2.yaml" kv-store restarts 1
wait_for "n2's change log is back (same floor, at least as many bytes)" 10 \
  bytes_at_least 2 "$before"
note_has 2 "oldest index 1, base copy needed" || fail "n2's log after the restart: $(note 2)"

# the replicator says why nothing is uploaded
repl_note() { actor_field "$T/n1.yaml" ots-replicator health_reason; }
case "$(repl_note)" in *"is the shared directory mounted?"*) ;; *) fail "n1's ots-replicator note: $(repl_note)" ;; esac

digests_equal 3
log "ok: digests agree at index $DIGEST_INDEX; n1: $(note 1)"
