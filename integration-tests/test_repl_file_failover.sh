#!/usr/bin/env bash
# The off-cluster replica (file:// backend) across crashes and leader changes, under a steady
# write load: kill -9 of the leader's ots-replicator mid-upload (restarted by its supervisor; it
# claims its term again and goes on from the remote synced_index), kill -9 of the whole leader
# node (a new leader's replicator claims a newer term and takes over from the remote
# synced_index; the old node comes back as a follower), and a leader frozen with SIGSTOP while
# it uploads, then thawed after a new leader claimed: its late uploads must not land (the
# manifests' terms never go down; its replicator says it is fenced if it tried). At the end the
# remote copy holds exactly the cluster's namespace (no gap: every acknowledged write; no double
# effect: one digest with every node at one index).
source "$(dirname "$0")/lib.sh"
repl_cluster 3
fs 1 -mkdir /w || fail "mkdir /w"
fs_writer start 1

leader_num() { local l; l=$(leader_agreed 3) || return 1; echo "${l#n}"; }
# the leader among the nodes given (numbers), as one of them reports in the leader role
leader_among() {
  local i
  for i in "$@"; do
    [ "$(raft_field "$T/n$i.yaml" role 2>/dev/null)" = leader ] && { echo "$i"; return 0; }
  done
  return 1
}
more_acked() { local n; n=$(wc -l <"$T/acked"); wait_for "$1 more writes acknowledged" 60 acked_at_least $((n + $1)); }

more_acked 30
L=$(leader_num) || fail "no leader"
pid=$(actor_pid "$T/n$L.yaml" ots-replicator)
expect_restart "n$L" ots-replicator 1
log "kill -9 n$L's ots-replicator (pid $pid) during uploads"
kill -9 "$pid"
wait_for "n$L's ots-replicator restarted" 15 field_is "$T/n$L.yaml" ots-replicator restarts 1
more_acked 30


# the whole leader node, kill -9
L=$(leader_num) || fail "no leader before the node crash"
others=$(for i in 1 2 3; do if [ "$i" != "$L" ]; then echo "$i"; fi; done | tr "\n" " ")
sup=$(supervisor_pid "$T/n$L.yaml")
actors=$(all_actor_pids "$T/n$L.yaml" | tr '\n' ' ')
expect_node_down "n$L"
log "kill -9 every process of the leader n$L (supervisor $sup; actors $actors)"
kill -9 $sup $actors
for p in $sup $actors; do wait_for "pid $p gone" 10 gone "$p"; done
wait_for "a new leader among n${others// /, n}" 30 leader_among $others
N=$(leader_among $others)
log "n$N leads now"
more_acked 30
start_node "$T/n$L.yaml"
wait_for "one leader agreed by all after n$L's return" 30 leader_agreed 3

# a leader frozen mid-upload, thawed after a newer term claimed the copy
L=$(leader_num) || fail "no leader before the freeze"
others=$(for i in 1 2 3; do if [ "$i" != "$L" ]; then echo "$i"; fi; done | tr "\n" " ")
more_acked 20
sup=$(supervisor_pid "$T/n$L.yaml")
actors=$(all_actor_pids "$T/n$L.yaml" | tr '\n' ' ')
term_before=$(raft_field "$T/n$L.yaml" term)
log "SIGSTOP n$L (term $term_before) while it uploads"
kill -STOP $sup $actors
wait_for "a new leader among n${others// /, n}" 30 leader_among $others
N=$(leader_among $others)
claimed() { [ "$(sed -n 's/^term //p' "$(ls "$T/remote/it"/manifest-* | sort | tail -n 1)")" -gt "$term_before" ]; }
wait_for "n$N's replicator claimed a term above $term_before in the remote copy" 30 claimed
more_acked 20
log "SIGCONT n$L"
kill -CONT $sup $actors
wait_for "one leader agreed by all after the thaw" 30 leader_agreed 3
more_acked 20
fs_writer stop
if grep -h "fenced in term" "$T/n$L/log/ots-replicator.log" >"$T/fenced.lines"; then
  log "n$L's replicator after the thaw: $(head -n 1 "$T/fenced.lines")"
fi
manifest_terms_monotonic >"$T/mono.out" || fail "a late upload landed: $(cat "$T/mono.out")"

log "$(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed"
wait_for "n1's state holds every acknowledged write" 30 fs_all_acked 1 --stale
remote_digest_equal 3
log "ok: the remote copy = the cluster at index $REMOTE_INDEX ($REMOTE_DIGEST) after a replicator" \
  "kill -9, a leader kill -9 and a frozen leader"
