#!/usr/bin/env bash
# mutation.sh: proves the tests can fail. Each mutation below breaks one rule on purpose (the
# seven of issue 14, and one per safety property of Raft, of the durable log, of exactly-once),
# in a scratch copy of the tree: the exact text is replaced (it must occur once in its file), the
# scratch build is rebuilt, and the named tests are run; at least one of them must fail. At the
# end, a table: CAUGHT (a test failed), SURVIVED (every test passed: a hole), BROKEN (the mutant
# does not compile, or the text is not in the file: fix the list). Exit 0 only if all are
# CAUGHT. Not in CI (slow: a rebuild and a test run per mutation, 4 to 8 min on 2 cores).
#
#   scripts/mutation.sh            every mutation
#   scripts/mutation.sh ID...      only those (e.g. codec-default-limit raft-vote-once)
#   scripts/mutation.sh --list     the list
#
# The work tree is never touched: the copy lives in a fresh /tmp/rvmut.XXXXXX (removed at the
# end; RV_MUT_KEEP=1 keeps it). The table also goes to $RV_MUT_TABLE if set.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export RV_IT_KEEP_FAILED=0 # a mutant's failed scenarios leave nothing in /tmp
jobs=${RV_MUT_JOBS:-2}

# ID @@ FILE @@ EXACT TEXT @@ REPLACEMENT @@ TESTS (ctest names, |-separated) @@ WHAT IT BREAKS
MUTATIONS=$(cat <<'EOF'
codec-default-limit @@ messages/rv_codec.c @@   if (max == 0 || max > RV_ENVELOPE_MAX) max = RV_ENVELOPE_MAX; @@   if (max == 0) max = SIZE_MAX; @@ test_rv_codec @@ max 0 means unlimited, not the 8 MiB default
sup-min-spacing @@ supervisor/sup_core.c @@   uint64_t earliest = manual ? now : c->spawned_ms + core->policy.restart_min_delay_ms; @@   uint64_t earliest = now; @@ test_sup_core|it_test_crash_loop @@ no minimum spacing between restarts
sup-backoff-doubles @@ supervisor/sup_core.c @@   for (unsigned i = 1; i < quick_exits && d < p->restart_max_delay_ms; i++) d *= 2; @@   for (unsigned i = 1; i < quick_exits && d < p->restart_max_delay_ms; i++) d *= 1; @@ it_test_crash_loop @@ the backoff stops doubling
store-torn-tail-zeroed @@ actors/raft-peer/shell/raft_store.c @@     c->zero_len = (end < size ? end : size) - off; @@     c->zero_len = 0; @@ test_raft_store_damage @@ a torn tail's bytes are never zeroed
client-same-seq-on-resend @@ client/rv_client.c @@       s_next_node(c, l, now);\n    }\n    if (!l->in_flight && l->resend_us @@       if (l->client_id) { rv_err_t e; rv_client_reencode(&l->frame, &l->len, l->client_id, ++l->seq, &e); }\n      s_next_node(c, l, now);\n    }\n    if (!l->in_flight && l->resend_us @@ test_rv_client @@ a timed-out write is resent with seq+1
actor-aborts-at-exit @@ actors/runtime/rv_actor.c @@   if (a->sigfd >= 0) close(a->sigfd); @@   if (a->sigfd >= 0) close(a->sigfd);\n  abort(); @@ test_rv_actor|it_test_stop_order @@ every actor aborts at exit (as ASan does on a leak)
kv-read-waits-for-index @@ actors/kv-store/shell/kv_reads.c @@     if (r->kind != KV_REQ_READ || r->state != KV_REQ_WAITING || r->index > s->applied) continue; @@     if (r->kind != KV_REQ_READ || r->state != KV_REQ_WAITING) continue; @@ test_kv_actor|it_test_fs_linearizable_read @@ a linearizable read is served before its read index is applied
raft-vote-once @@ actors/raft-peer/core/raft_election.c @@   bool can_vote = r->vote == m->from || (r->vote == 0 && r->leader == 0) || @@   bool can_vote = true || @@ raft_paper_election_test|raft_sim_test @@ election safety: at most one vote per term (§5.2)
raft-vote-up-to-date @@ actors/raft-peer/core/raft_election.c @@   bool up_to_date = raft_log_is_up_to_date(&r->log, m->index, m->log_term); @@   bool up_to_date = true; @@ raft_paper_election_test|raft_sim_test @@ leader completeness: no vote for a candidate whose log is behind (§5.4.1)
raft-up-to-date-length @@ actors/raft-peer/core/raft_log.c @@          (last_term == my_term && last_index >= raft_log_last_index(log)); @@          (last_term == my_term); @@ raft_paper_election_test|raft_sim_test @@ leader completeness: a shorter log of the same term is behind (§5.4.1)
raft-commit-current-term @@ actors/raft-peer/core/raft_replication.c @@   if (!current_term) return false; @@   (void)current_term; @@ raft_paper_replication_test|raft_sim_test @@ state machine safety: old-term entries are not committed by counting (§5.4.2, Figure 8)
raft-log-matching @@ actors/raft-peer/core/raft_replication.c @@   if (!raft_log_match_term(log, m->index, m->log_term)) { @@   if (false) { @@ raft_paper_replication_test|raft_sim_test @@ log matching: append only after prevLogIndex/prevLogTerm match (§5.3)
raft-follower-commit-bound @@ actors/raft-peer/core/raft_replication.c @@   raft_log_commit_to(log, m->commit < last_new ? m->commit : last_new); @@   raft_log_commit_to(log, m->commit < raft_log_last_index(log) ? m->commit : raft_log_last_index(log)); @@ raft_paper_replication_test|raft_sim_test @@ a follower commits only entries the append proved to match (§5.3)
raft-stale-term-ignored @@ actors/raft-peer/core/raft_core.c @@   } else if (m->term < r->term) { @@   } else if (false) { @@ raft_paper_election_test|raft_paper_replication_test|raft_sim_test @@ messages of an older term are not acted on (§5.1)
raft-lease-leader-clock @@ actors/raft-peer/core/raft_read.c @@   return !raft_lease_uses_clock(r) || @@   return true || @@ raft_read_test|raft_sim_test @@ leases: a leader trusts its lease only while the clock says it holds (its ticks stall in a pause)
raft-vote-lease-clock @@ actors/raft-peer/core/raft_election.c @@               (raft_lease_uses_clock(r) && raft_clock_us(r) < r->vote_lease_until_us); @@               (false && raft_clock_us(r) < r->vote_lease_until_us); @@ raft_read_test @@ leases: a voter's lease runs on the clock through the ticks it owes after a pause
store-checksum @@ actors/raft-peer/shell/raft_store_codec.c @@   if (s_crc(off, h, h + RS_HDR, len, h + RS_HDR + len, padlen) != s_get_u32(h)) return false; @@   (void)padlen; @@ test_raft_store_damage|test_raft_store_model @@ durable log: a record whose checksum is wrong is not replayed
store-fsync-before-ack @@ actors/raft-peer/shell/raft_store_write.c @@   if ((e = rs_datasync(s, s->fd, name))) return s_io_fail(s, err, e, "fdatasync", name, s->off); @@   (void)rs_datasync; @@ test_raft_store @@ durable log: every record is fdatasynced (and its failure reported) before the save returns
store-middle-damage @@ actors/raft-peer/shell/raft_store.c @@   if (later != S_NONE)\n    return rv_err_set(err, RV_ECORRUPT,\n                      "raft log %s/%s: offset %llu: the record is damaged, but a valid record " @@   if (false)\n    return rv_err_set(err, RV_ECORRUPT,\n                      "raft log %s/%s: offset %llu: the record is damaged, but a valid record " @@ test_raft_store_damage @@ durable log: damage before the last record is refused, not taken for a torn tail
kv-dedup-same-seq @@ actors/kv-store/core/kv_core.c @@     if (sess.found && cmd.seq == sess.last_seq) { @@     if (false) { @@ test_kv_session|test_kv_core|it_test_fs_retry_once @@ exactly-once: a retried write (same client id and seq) returns the first outcome, applies once
kv-dedup-old-seq @@ actors/kv-store/core/kv_core.c @@     if (sess.found && cmd.seq < sess.last_seq) @@     if (false) @@ test_kv_session @@ exactly-once: a write older than the session's last seq is refused
kv-apply-index-once @@ actors/kv-store/core/kv_core.c @@   if (index <= c->pending.applied) return s_replay(c, index, data, len, res, err); @@   (void)s_replay; @@ test_kv_core @@ exactly-once: an entry at or below the applied index is not applied again (crash recovery)
client-new-session-once @@ client/rv_client.c @@   if (!r->retry && r->code == RV_ESTALE && rv_client_op_writes(l->op) && l->attempts == 1 && @@   if (!r->retry && r->code == RV_ESTALE && rv_client_op_writes(l->op) && @@ test_rv_client @@ exactly-once: only a write never sent before may restart under a new session
raft-snapshot-leader-only @@ actors/raft-peer/core/raft_snapshot.c @@   if (term > r->term || r->role != RAFT_FOLLOWER || r->leader != from) @@   if (term > r->term) @@ raft_snapshot_test|it_test_snapshot_forged @@ a snapshot is taken only from the leader this node follows (issue 8: a deposed or forged stream replaced the namespace)
kv-fence-blocks-writes @@ actors/kv-store/shell/kv_clients.c @@   if (s->ha.fence[0]) { @@   if (false) { @@ it_test_ha_fence_new_leader @@ fencing: a new leader takes no write until the previous leader is fenced
kv-reopen-after-failed-sync @@ actors/kv-store/shell/kv_actor.c @@   s->store_broken = true; @@   s->store_broken = false; @@ it_test_fs_fsync_error @@ durability: after a failed RocksDB write or sync the store is reopened from disk, never retried in place
replica-commit-fenced @@ actors/ots-replicator/shell/repl_backend_file.c @@     if (m.meta.term > w->term) { @@     if (false) { @@ test_repl_backend_file @@ fencing of the remote copy: a deposed leader's late commit is refused by the term in the manifest
recovery-read-only @@ actors/kv-store/core/kv_core.c @@   if ((c->rec_pending.phase == KV_RECOVERY_RUNNING || c->rec_pending.phase == KV_RECOVERY_FINISH) && @@   if (false && @@ test_kv_recovery @@ recovery: every client write is refused with 25021 while the namespace is rebuilt
perm-checked-in-apply @@ actors/kv-store/core/kv_op_access.c @@   if (kv_perm_check(x->who, &pp, w, x->res->msg, sizeof x->res->msg)) x->res->code = RV_EPERM; @@   if (false && kv_perm_check(x->who, &pp, w, x->res->msg, sizeof x->res->msg)) x->res->code = RV_EPERM; @@ test_kv_perm|it_test_fs_permissions @@ permissions: a write the path's bits do not allow is refused in the apply path
ha-admin-superuser @@ actors/kv-store/shell/kv_auth.c @@   if (who.superuser) return RV_OK; @@   if (true) return RV_OK; @@ it_test_fs_principal_from_key @@ security: only the superuser moves leadership or fences through the client port (kv_auth_superuser)
EOF
)

if [ "${1:-}" = --list ]; then
  echo "$MUTATIONS" | awk -F' @@ ' '{printf "%-26s %-45s %s\n", $1, $2, $6}'
  exit 0
fi
want=" $* "

scratch=$(mktemp -d /tmp/rvmut.XXXXXX)
cleanup() { [ "${RV_MUT_KEEP:-0}" = 1 ] && echo "kept $scratch" || rm -rf "$scratch"; }
trap cleanup EXIT
log() { printf '[%s mutation] %s\n' "$(date +%H:%M:%S)" "$*"; }

log "copying the tree to $scratch/src"
mkdir -p "$scratch/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$scratch/src/")
log "building the unmutated copy (RelWithDebInfo)"
cmake -S "$scratch/src" -B "$scratch/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$scratch/build" -j "$jobs" >"$scratch/build.log" 2>&1 ||
  { tail -n 30 "$scratch/build.log"; echo "mutation.sh: the unmutated tree does not build" >&2; exit 1; }

# the baseline: every test the list names passes on the unmutated tree (a test that fails
# anyway would "catch" its mutation for nothing)
selected() { [ "$want" = "  " ] || [[ "$want" == *" $1 "* ]]; }
baseline=$(echo "$MUTATIONS" | while IFS= read -r line; do
  if [ -n "$line" ] && selected "$(awk -F' @@ ' '{print $1}' <<<"$line")"; then
    awk -F' @@ ' '{print $5}' <<<"$line" | tr '|' '\n'
  fi
done | sort -u | paste -sd'|')
log "baseline: the named tests on the unmutated tree: ${baseline//|/, }"
if ! (cd "$scratch/build" && ctest -R "^($baseline)\$" --no-tests=error --timeout 300 -j "$jobs" \
  >"$scratch/baseline.log" 2>&1); then
  grep -E "Failed|\*\*\*" "$scratch/baseline.log" >&2 || true
  echo "mutation.sh: the unmutated tree fails its own tests; nothing to learn from mutants" >&2
  exit 1
fi

results=()
status=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  id=$(awk -F' @@ ' '{print $1}' <<<"$line")
  selected "$id" || continue
  file=$(awk -F' @@ ' '{print $2}' <<<"$line")
  tests=$(awk -F' @@ ' '{print $5}' <<<"$line")
  what=$(awk -F' @@ ' '{print $6}' <<<"$line")
  src=$scratch/src/$file
  cp "$top/$file" "$src"
  # the exact text, once; "\n" in the list stands for a line break
  if ! ml=$(MUT_LINE="$line" python3 - "$src" <<'PY'
import os, sys
f = sys.argv[1]
parts = os.environ["MUT_LINE"].split(" @@ ")
old, new = parts[2].replace("\\n", "\n"), parts[3].replace("\\n", "\n")
s = open(f).read()
n = s.count(old)
if n != 1:
    print(f"the text occurs {n} times", end="")
    sys.exit(1)
print(s[: s.index(old)].count("\n") + 1, end="")
open(f, "w").write(s.replace(old, new))
PY
  ); then
    results+=("$id"$'\t'"$file"$'\t'"-"$'\t'"$tests"$'\t'"BROKEN ($ml)"$'\t'"$what")
    status=1
    log "$id: BROKEN: $ml in $file"
    continue
  fi
  log "$id: $file:$ml mutated; building"
  if ! cmake --build "$scratch/build" -j "$jobs" >"$scratch/build.log" 2>&1; then
    results+=("$id"$'\t'"$file:$ml"$'\t'"-"$'\t'"$tests"$'\t'"BROKEN (does not compile)"$'\t'"$what")
    status=1
    log "$id: BROKEN: the mutant does not compile: $(grep -m1 'error' "$scratch/build.log")"
    cp "$top/$file" "$src"
    continue
  fi
  caught=""
  for t in ${tests//|/ }; do
    if (cd "$scratch/build" && ctest -R "^$t\$" --no-tests=error --timeout 300 >"$scratch/ctest.log" 2>&1); then
      log "$id: $t passed"
    else
      caught+="${caught:+, }$t"
      log "$id: $t FAILED (caught)"
    fi
  done
  if [ -n "$caught" ]; then
    results+=("$id"$'\t'"$file:$ml"$'\t'"$caught"$'\t'"$tests"$'\t'"CAUGHT"$'\t'"$what")
  else
    results+=("$id"$'\t'"$file:$ml"$'\t'"-"$'\t'"$tests"$'\t'"SURVIVED"$'\t'"$what")
    status=1
  fi
  cp "$top/$file" "$src"
done <<<"$MUTATIONS"
# leave the scratch build as the tree is (no mutant binaries behind)
cmake --build "$scratch/build" -j "$jobs" >/dev/null 2>&1 || true

table=$(
  echo "| mutation | where | breaks | tests run | failed | result |"
  echo "|---|---|---|---|---|---|"
  for r in "${results[@]}"; do
    IFS=$'\t' read -r id where caught tests res what <<<"$r"
    echo "| $id | $where | $what | ${tests//|/, } | $caught | $res |"
  done
)
echo
echo "$table"
if [ -n "${RV_MUT_TABLE:-}" ]; then echo "$table" >"$RV_MUT_TABLE"; fi
n=${#results[@]}
c=$(printf '%s\n' "${results[@]}" | awk -F'\t' '$5 == "CAUGHT"' | wc -l)
echo
echo "mutation.sh: $c of $n mutations caught ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$top" rev-parse --short HEAD))"
exit $status
