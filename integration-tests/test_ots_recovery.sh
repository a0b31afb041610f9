#!/usr/bin/env bash
# Recovery of a new cluster from the off-cluster replica (issue 9), with the file backend.
# Cluster A (ots.enabled, file:// replica) gets a namespace from fs and a bench bulk load; once
# the leader's replicator has uploaded everything (synced_index at A's applied index, lag 0),
# A is stopped and its three data-dirs wiped. A new cluster on the same replica starts with
# ots.recovery-mode: writes are refused with exactly the 25021 line while it RUNs (proved by a
# digest that differs from A's right after the refusal, and meta-status' state=RUNNING) and at
# FINISH; the leader's replicator is killed with -9 during the load, then the whole leader node
# (kill -9 of every process); the load resumes from the replicated cursor on the new leader;
# at FINISH `fs -count` and `fs -digest` equal A's on all three nodes (the killed node caught up
# after its restart). Leaving: `raftvisor finish-recovery` makes it writable without a restart;
# a second new cluster, recovered the same way, leaves the published way (ots.recovery-mode
# false, ots.enabled true, restart: the leader's replicator leaves the FINISHed recovery), and
# uploads into the copy (its epoch 1 token above A's terms): _synced=1, the copy = C.
# RV_RECOVERY_BACKEND=tablestore runs the same scenario against rv-ots-server, the local
# Tablestore-protocol server (test_ots_recovery_tablestore.sh).
source "$(dirname "$0")/lib.sh"
FILES=${RV_RECOVERY_FILES:-20000}
BACKEND=${RV_RECOVERY_BACKEND:-file}
if [ "$BACKEND" = tablestore ]; then
  source "$(dirname "$0")/ots-server/lib-ots.sh"
  ots_start
fi
ots_yaml() { # LINES...: the node's ots: section, these lines and the backend's endpoint
  printf 'ots:\n'
  printf '  %s\n' "$@"
  if [ "$BACKEND" = tablestore ]; then
    printf '  endpoint: "http://127.0.0.1:%s"\n  instance: rv-test\n  access-key-id: rvTestKeyId\n  access-key-secret: "@%s"\n' \
      "$OTS_PORT" "$OTS_DIR/secret"
  else
    printf '  endpoint: "file://%s/remote"\n' "$T"
  fi
}
cluster_yaml 3 health-monitor raft-peer kv-store
mkdir -p "$T/remote"
for i in 1 2 3; do
  cp "$T/n$i.yaml" "$T/base$i.yaml"
  ots_yaml "enabled: true" >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "one leader agreed by all" 30 leader_agreed 3
wait_for "the namespace takes a write" 30 fs 1 -mkdir -p /data/small

# ---- cluster A: a namespace, uploaded -------------------------------------------------------
for k in 1 2 3 4 5; do
  printf 'content %s' "$k" | fs 1 -put - "/data/small/f$k" || fail "put /data/small/f$k"
done
fs 1 -mkdir -p /home/alice/empty || fail "mkdir"
fs 1 -mv /data/small/f5 /home/alice/moved || fail "mv"
fs 1 -rm /data/small/f4 || fail "rm"
"$RV" bench -c "$T/n1.yaml" --workload bulk-load --dirs 30 --files "$FILES" --clients 16 \
  >"$T/bench.out" 2>&1 || fail "bench bulk-load: $(tail -n 5 "$T/bench.out")"
digests_equal 3
A_DIGEST=$DIGEST
A_INDEX=$DIGEST_INDEX
A_COUNT=$(fs 1 -count /) || fail "count / on A"
log "cluster A: digest $A_DIGEST at index $A_INDEX; -count /: $A_COUNT"

leader_cfg() { echo "$T/n$(leader_agreed 3 | tr -d n).yaml"; }
repl_note() { actor_field "$1" ots-replicator health_reason; }
synced_at() { # CFG INDEX: the replicator on CFG uploads, has synced INDEX or more, lag 0
  local note idx
  note=$(repl_note "$1") || return 1
  case "$note" in *"lag 0 entries"*) ;; *) return 1 ;; esac
  idx=$(echo "$note" | sed -n 's/.*synced_index \([0-9]*\).*/\1/p')
  [ -n "$idx" ] && [ "$idx" -ge "$2" ]
}
L=$(leader_cfg)
wait_for "A's leader uploaded index $A_INDEX (lag 0)" 120 synced_at "$L" "$A_INDEX"
meta_synced() { local m; m=$("$RV" meta-status -c "$T/n1.yaml") && matches '^LEADER .* _synced=1 ' "$m"; }
wait_for "meta-status: _synced=1 on A's leader" 60 meta_synced
log "A's replicator: $(repl_note "$L"); $("$RV" meta-status -c "$T/n1.yaml" | grep '^LEADER')"

for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do wipe_node "n$i"; done

# ---- cluster B: recovery mode ---------------------------------------------------------------
recovery_yaml() { # the base YAML with recovery mode on the same replica
  for i in 1 2 3; do
    cp "$T/base$i.yaml" "$T/n$i.yaml"
    ots_yaml "recovery-mode: true" >>"$T/n$i.yaml"
  done
}
recovery_yaml
# small commands, one at a time, make the load last long enough to be watched: 1 KiB (some 8
# rows, 7,500 commands) on the file backend, where 4 KiB loaded 60,000 rows in 5 s and ended
# before the CLI calls of a loaded host could kill the replicator; 4 KiB (some 30 rows, 2,000
# commands, each a GetRange) on the Tablestore backend
CHUNK=1024
[ "$BACKEND" = tablestore ] && CHUNK=4096
export RV_RECOVERY_CHUNK_BYTES=$CHUNK RV_RECOVERY_INFLIGHT=1
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
unset RV_RECOVERY_CHUNK_BYTES RV_RECOVERY_INFLIGHT
EXACT='ErrorCode : 25021 , ErrorMsg: Namespace is under recovery mode, and is read-only.'
refused_exactly() { # I PATH: a write through nI fails with exactly the 25021 line
  local out rc=0
  out=$(fs "$1" -mkdir "$2" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "mkdir $2 on a recovering cluster: exit $rc ($out)"
  [ "$out" = "$EXACT" ] || fail "mkdir $2: expected exactly '$EXACT', got '$out'"
}
loader_in() { # PHASE: prints the YAML of the node whose loader is in PHASE (only a leader's is)
  local i
  for i in 1 2 3; do
    case "$(repl_note "$T/n$i.yaml" 2>/dev/null)" in *"load $1:"*) echo "$T/n$i.yaml"; return 0 ;; esac
  done
  return 1
}
meta() { "$RV" meta-status -c "$T/n1.yaml" 2>/dev/null || true; }
running() { case "$(meta)" in *"state=RUNNING rows="*) return 0 ;; esac; return 1; }
meta_leader() { # prints the YAML of the node meta-status calls LEADER
  local port id
  port=$(meta | sed -n 's/^LEADER *[^ ]*:\([0-9]*\) .*/\1/p')
  [ -n "$port" ] || return 1
  id=$(grep -o "id: n[0-9], host: [^,]*, raft-port: [0-9]*, client-port: [0-9]*" "$T/n1.yaml" |
    grep -E "port: $port(,|\$)" | sed 's/^id: \(n[0-9]\).*/\1/')
  [ -n "$id" ] && echo "$T/$id.yaml"
}
wait_for "B's recovery RUNNING (meta-status state=RUNNING)" 60 running
L=$(meta_leader) || fail "meta-status names no leader: $(meta)"
log "B loading on $(basename "$L" .yaml): $(repl_note "$L")"

# the leader's replicator killed with -9 mid-load: while it is down the state stays RUNNING
pid=$(actor_pid "$L" ots-replicator)
expect_restart "$(basename "$L" .yaml)" ots-replicator 1
kill -9 "$pid"
refused_exactly 1 /written-while-running
json=$(fs 2 --json -mkdir /json-while-running 2>/dev/null) && fail "a write succeeded while recovering"
[ "$(echo "$json" | jq -r .code)" = 25021 ] || fail "--json: code is not 25021: $json"
LN=$(basename "$L" .yaml)
d=$(fs_digest "${LN#n}" | awk '{print $1}')
# the digest differs from A's after the refusal: the load had not finished (FINISH needs every
# row, and only the loader, dead now, proposes it), so the refusal came while RUNNING
[ -n "$d" ] && [ "$d" != "$A_DIGEST" ] || fail "the load finished before the replicator was killed"
ms=$("$RV" meta-status -c "$T/n1.yaml") || true
case "$ms" in *"state=RUNNING rows="*) ;; *) fail "meta-status during the load: $ms" ;; esac
log "a write was refused with the 25021 line while RUNNING (digest $d); $(first_line "$ms")"
wait_for "the replicator restarted" 20 field_is "$L" ots-replicator restarts 1

# then the whole leader node, kill -9 of every process, during the load if it still runs
L=$(meta_leader) || L=$(leader_cfg)
LN=$(basename "$L" .yaml)
log "kill -9 of every process of the leader $LN: $(meta | grep '^LEADER')"
procs="$(supervisor_pid "$L") $(all_actor_pids "$L" | tr '\n' ' ')"
expect_node_down "$LN"
kill -9 $procs
for p in $procs; do wait_for "pid $p gone" 10 gone "$p"; done
others=""
for i in 1 2 3; do [ "n$i" != "$LN" ] && others+=" $i"; done
two_agree() {
  local i l="" x
  for i in $others; do
    x=$(raft_field "$T/n$i.yaml" leader) || return 1
    [ -n "$x" ] || return 1
    l+="$x "
  done
  [ "$(echo $l | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ]
}
wait_for "a new leader among the two others" 30 two_agree
start_node "$L"
wait_for "B: one leader agreed by all after the restart" 30 leader_agreed 3
finished() { loader_in done; }
wait_for "B's recovery reaches FINISH" 300 finished
log "B finished: $(repl_note "$(leader_cfg)")"
refused_exactly 2 /written-at-finish
# every node says FINISH once it applied the entry (the node killed above may still catch up)
finish_everywhere() { [ "$(meta | grep -c 'state=FINISH rows=')" = 3 ]; }
wait_for "meta-status: state=FINISH on all three nodes" 120 finish_everywhere
digests_equal 3
[ "$DIGEST" = "$A_DIGEST" ] || fail "B's digest $DIGEST differs from A's $A_DIGEST"
for i in 1 2 3; do
  c=$(fs_at "$i" --stale -count /) || fail "count / on n$i"
  [ "$c" = "$A_COUNT" ] || fail "n$i: -count / is '$c', A's was '$A_COUNT'"
done
log "B equals A on n1..n3: digest $DIGEST, -count / $A_COUNT"

# ---- leaving, without a restart ---------------------------------------------------------------
out=$("$RV" finish-recovery -c "$T/n1.yaml" 2>&1) || fail "finish-recovery: $out"
assert_contains "$out" "recovery mode left" "finish-recovery"
fs 3 -mkdir /after-recovery || fail "a write after finish-recovery"
out=$("$RV" finish-recovery -c "$T/n2.yaml" 2>&1) || fail "finish-recovery again: $out"
assert_contains "$out" "nothing to leave" "finish-recovery again"

# ---- cluster C: recovered, then left the published way ----------------------------------------
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do wipe_node "n$i"; done
recovery_yaml
# big entries (issue 11): 2 MiB commands, the loader's largest, some 25,000 rows each, in
# ApplyBatches of up to raft-peer's 4 MiB. kv-store applies them in bounded slices (an entry
# over the key bound in parts), so heartbeats are answered between slices: the harness fails
# the test on any restart it did not cause, and C must end equal to A on every node.
export RV_RECOVERY_CHUNK_BYTES=2097152 RV_RECOVERY_INFLIGHT=4
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
unset RV_RECOVERY_CHUNK_BYTES RV_RECOVERY_INFLIGHT
wait_for "C: one leader agreed by all" 30 leader_agreed 3
wait_for "C's recovery reaches FINISH" 300 finished
refused_exactly 1 /c-at-finish
digests_equal 3
[ "$DIGEST" = "$A_DIGEST" ] || fail "C's digest $DIGEST (2 MiB commands) differs from A's $A_DIGEST"
for i in 1 2 3; do
  parts=$(grep -c "apply slice\|in parts" "$T/n$i/log/kv-store.log" || true)
  log "C n$i: kv-store loop lag max $(actor_field "$T/n$i.yaml" kv-store loop_lag_max_us) us;" \
    "restarts $(actor_field "$T/n$i.yaml" kv-store restarts); slow-slice lines: $parts"
done
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do
  cp "$T/base$i.yaml" "$T/n$i.yaml"
  ots_yaml "enabled: true" "recovery-mode: false" >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "C: one leader agreed by all after the restart" 30 leader_agreed 3
wait_for "C writable after the restart with recovery-mode off" 30 fs 1 -mkdir /c-after
digests_equal 3
log "C left recovery after its restart; digest $DIGEST at index $DIGEST_INDEX"
# C (epoch 1: its Raft term starts again below A's) uploads into the copy it came from: its
# first leader replaces A's copy by a base copy, then C's writes follow
wait_for "C uploads into A's copy (_synced=1 under epoch 1)" 300 meta_synced
remote_digest_equal 3
log "ok: the copy = C at index $REMOTE_INDEX ($REMOTE_DIGEST): $("$RV" meta-status -c "$T/n1.yaml" | grep '^LEADER')"
