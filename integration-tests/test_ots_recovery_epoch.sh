#!/usr/bin/env bash
# Uploads from a cluster rebuilt from the remote copy (issue 9: fencing across clusters, the
# epoch), file backend. Cluster A (ots.enabled) writes a few hundred files, its Raft term is
# raised by four failovers, and its copy reaches _synced=1; A is stopped (its data-dirs kept
# aside) and wiped. Cluster B, a new cluster at Raft term 1 or 2, recovers the copy in recovery
# mode, reaches FINISH, and leaves it the published way (ots.recovery-mode false, ots.enabled
# true, restart): its replicator holds its claim until kv-store says the recovery is LEFT, and
# its epoch is 1 (A's copy was of epoch 0); the copy, written by A's higher term at A's index,
# is replaced by B's base copy (token 1 << 32 | B's term), then B's writes are uploaded:
# _synced=1, the copy's digest equals `fs -digest`, meta-status shows epoch=1. Without the
# epoch, B's term is below A's and every upload is fenced. Last, A comes back from its saved
# data-dirs and writes: its replicator (epoch 0) is fenced and the copy stays B's.
source "$(dirname "$0")/lib.sh"
repl_cluster 3
manifest_term() { sed -n 's/^term //p' "$(ls "$T/remote/it"/manifest-* | sort | tail -n 1)"; }
meta() { "$RV" meta-status "$@" -c "$T/n1.yaml" 2>/dev/null || true; }
is_leader() { [ "$(leader_agreed 3)" = "$1" ]; }
the_leader() { # prints the leader all three nodes agree on, waiting (bounded) for one
  local l deadline=$((SECONDS + 30))
  until l=$(leader_agreed 3); do
    [ $SECONDS -lt $deadline ] || fail "no leader agreed by all within 30 s"
    sleep 0.02
  done
  echo "$l"
}

# ---- cluster A: a namespace, a raised term, uploaded ------------------------------------------
fs 1 -mkdir -p /a/d1 /a/d2 || fail "mkdir on A"
printf 'from A' | fs 1 -put - /a/d1/f || fail "put on A"
"$RV" bench -c "$T/n1.yaml" --workload create --clients 4 --ops 300 >"$T/bench-a.out" 2>&1 ||
  fail "bench on A: $(tail -n 3 "$T/bench-a.out")"
for k in 1 2 3 4; do
  L=$(the_leader)
  to=n1
  [ "$L" = n1 ] && to=n2
  wait_for "$to healthy" 20 "$RV" haadmin -c "$T/n1.yaml" -checkHealth "$to"
  out=$("$RV" haadmin -c "$T/n1.yaml" -failover "$L" "$to" 2>&1) || fail "failover $L -> $to: $out"
  wait_for "$to leads A" 30 is_leader "$to"
  fs 1 -mkdir "/a/after-failover-$k" || fail "mkdir after failover $k"
done
remote_digest_equal 3
A_TERM=$(manifest_term)
[ "$A_TERM" -ge 5 ] || fail "A's copy is at term $A_TERM after four failovers"
log "A: term $A_TERM holds the copy at index $REMOTE_INDEX ($REMOTE_DIGEST)"
A_DIGEST=$REMOTE_DIGEST
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do cp -a "$T/n$i" "$T/A-n$i"; done
for i in 1 2 3; do wipe_node "n$i"; done

# ---- cluster B: recovered, left the published way, uploads on ---------------------------------
for i in 1 2 3; do sed -i 's/^  enabled: true$/  recovery-mode: true/' "$T/n$i.yaml"; done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
finished() { [ "$(meta | grep -c 'state=FINISH rows=')" = 3 ]; }
wait_for "B's recovery reaches FINISH on every node" 120 finished
digests_equal 3
[ "$DIGEST" = "$A_DIGEST" ] || fail "B's digest $DIGEST differs from A's $A_DIGEST"
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do sed -i 's/^  recovery-mode: true$/  enabled: true/' "$T/n$i.yaml"; done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "B: one leader agreed by all" 30 leader_agreed 3
wait_for "B writable (the leader left the FINISHed recovery)" 30 fs 1 -mkdir -p /b/after-recovery
L=$(the_leader)
B_TERM=$(raft_field "$T/${L}.yaml" term)
[ "$B_TERM" -lt "$A_TERM" ] || fail "B's term $B_TERM is not below A's $A_TERM: the test proves nothing"
printf 'from B' | fs 2 -put - /b/f || fail "put on B"
"$RV" bench -c "$T/n1.yaml" --workload create --clients 4 --ops 200 >"$T/bench-b.out" 2>&1 ||
  fail "bench on B: $(tail -n 3 "$T/bench-b.out")"
wait_for "B's replicator uploads (_synced=1 at term $B_TERM, below A's $A_TERM)" 60 meta_synced
remote_digest_equal 3
[ "$REMOTE_DIGEST" != "$A_DIGEST" ] || fail "the copy still holds A's namespace"
t=$(manifest_term)
[ $((t >> 32)) = 1 ] || fail "the copy's token is $t, not of epoch 1"
log "B: epoch 1, Raft term $((t & 0xffffffff)) (token $t) holds the copy at index $REMOTE_INDEX"
takeover=$(grep -h "replaces it with a base copy" "$T"/n*/log/ots-replicator.log) ||
  fail "no replicator said it replaced the earlier epoch's copy"
log "$(first_line "$takeover")"
out=$(meta)
[ "$(echo "$out" | grep -c ' epoch=1$')" = 3 ] || fail "meta-status: epoch=1 on every line: $out"
matches '^LEADER .* _synced=1 .* epoch=1$' "$out" || fail "meta-status: the leader's line: $out"
detail=$(meta --detail)
matches "^LEADER .* epoch=1 state=[a-z-]* .* remote_epoch=1 remote_term=$((t & 0xffffffff)) " "$detail" ||
  fail "meta-status --detail: $detail"
[ "$(meta --json | jq '[.nodes[] | select(.epoch == 1)] | length')" = 3 ] ||
  fail "meta-status --json: epoch 1 on every node: $(meta --json)"

# ---- the old cluster A comes back: its uploads are fenced --------------------------------------
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
# the copy as B left it (a leader elected while B's nodes stopped may have uploaded its entry)
r=$("$RV" meta-status --digest -c "$T/n1.yaml" 2>/dev/null) || fail "meta-status --digest"
B_COPY=$(echo "$r" | awk '{print $1 " " $2}')
t=$(manifest_term)
[ $((t >> 32)) = 1 ] || fail "B left the copy at token $t, not of epoch 1"
for i in 1 2 3; do
  wipe_node "n$i"
  mv "$T/A-n$i" "$T/n$i"
done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "A: one leader agreed by all" 30 leader_agreed 3
fs 1 -mkdir /a/late || fail "a write on the returning A"
a_fenced() { local d; d=$(meta --detail) && matches '^LEADER .* state=fenced ' "$d"; }
wait_for "A's leader's replicator is fenced" 30 a_fenced
L=$(the_leader)
grep -h "fenced in term" "$T/$L/log/ots-replicator.log" | tail -n 1 >"$T/fenced" ||
  fail "$L's replicator does not say it is fenced"
log "A's $L: $(cat "$T/fenced")"
r=$("$RV" meta-status --digest -c "$T/n1.yaml" 2>/dev/null) || fail "meta-status --digest"
[ "$(echo "$r" | awk '{print $1 " " $2}')" = "$B_COPY" ] ||
  fail "the copy moved after A came back: $r (B left it at $B_COPY)"
[ "$(manifest_term)" = "$t" ] || fail "the copy's token moved from $t to $(manifest_term)"
manifest_terms_monotonic >"$T/mono.out" || fail "a token went back: $(cat "$T/mono.out")"
log "ok: B (epoch 1, term $B_TERM) took over A's copy (term $A_TERM) and keeps it; A is fenced"
