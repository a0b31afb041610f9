#!/usr/bin/env bash
# Recovery benchmark (a report, not a test): a three-node cluster with the file:// replica gets
# bench's bulk load of FILES files (default 1,500,000, as scripts/bench-fs.sh), waits for
# meta-status' _synced=1, is stopped and wiped; a new cluster in ots.recovery-mode loads the copy.
# Prints the bulk load's time, and the recovery's rows and time from RecoveryBegin applied to
# RecoveryFinish applied (kv-store's log), then checks that the digests are equal. Runs on the
# integration harness (integration-tests/lib.sh): an actor restarted on the way fails the run.
#   FILES=150000 scripts/bench-recovery.sh          (RV_RECOVERY_CHUNK_BYTES / _INFLIGHT tune it)
top=$(cd "$(dirname "$0")/.." && pwd)
export RV_BIN=${RV_BIN:-$top/build/bin}
source "$top/integration-tests/lib.sh"
FILES=${FILES:-1500000}
cluster_yaml 3 health-monitor raft-peer kv-store
mkdir -p "$T/remote"
for i in 1 2 3; do
  cp "$T/n$i.yaml" "$T/base$i.yaml"
  printf 'ots:\n  enabled: true\n  endpoint: "file://%s/remote"\n' "$T" >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "leader" 30 leader_agreed 3
wait_for "write" 30 fs 1 -mkdir -p /x
t0=$SECONDS
"$RV" bench -c "$T/n1.yaml" --workload bulk-load --dirs $((FILES / 1000 > 0 ? FILES / 1000 : 1)) --files "$FILES" --clients 64 >"$T/bench.out" 2>&1 || fail "bench: $(tail -5 "$T/bench.out")"
log "bulk load of $FILES files: $((SECONDS - t0)) s; $(grep -i 'files/s\|load' "$T/bench.out" | tail -2 | tr '\n' ' ')"
meta_synced() { "$RV" meta-status -c "$T/n1.yaml" 2>/dev/null | grep -q '^LEADER .* _synced=1 '; }
t0=$SECONDS
wait_for "_synced=1" 900 meta_synced
log "uploaded: $((SECONDS - t0)) s after the load; $("$RV" meta-status -c "$T/n1.yaml" | grep LEADER)"
digests_equal 3
A=$DIGEST
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do wipe_node "n$i"; done
for i in 1 2 3; do
  cp "$T/base$i.yaml" "$T/n$i.yaml"
  printf 'ots:\n  recovery-mode: true\n  endpoint: "file://%s/remote"\n' "$T" >>"$T/n$i.yaml"
done
t0=$SECONDS
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
fin() { "$RV" meta-status -c "$T/n1.yaml" 2>/dev/null | grep -q 'state=FINISH'; }
wait_for "FINISH" 1200 fin
log "recovery: FINISH $((SECONDS - t0)) s after the start; $("$RV" meta-status -c "$T/n1.yaml" | head -1)"
ms() { date -d "$(echo "$1" | cut -c1-23)Z" +%s%3N; }
b=$(grep -h "recovery-begin applied" "$T"/n*/log/kv-store.log | sort | head -1)
f=$(grep -h "recovery-finish applied" "$T"/n*/log/kv-store.log | sort | head -1)
rows=$(echo "$f" | sed -n 's/.*FINISH, \([0-9]*\) rows.*/\1/p')
took=$(($(ms "$f") - $(ms "$b")))
log "recovery of $FILES files: $rows rows in $took ms (RecoveryBegin to RecoveryFinish applied):" \
  "$((rows * 1000 / (took > 0 ? took : 1))) rows/s, $((FILES * 1000 / (took > 0 ? took : 1))) files/s"
digests_equal 3
[ "$DIGEST" = "$A" ] || fail "digest differs"
log "ok: digest equal $DIGEST"
