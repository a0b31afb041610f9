#!/usr/bin/env bash
# The Raft port fuzzed as an authenticated member (issue 8): n3 is stopped, and rv-fuzz takes
# its place with n3's real key pair, routing id and incarnation, sending n1 and n2 seeded random
# and mutated valid Raft frames of every kind (RaftBatch holding every Raft message type,
# SnapshotChunk, SnapshotAck), mixed with random bytes, while a writer writes through the
# cluster. A member may legitimately disturb liveness (a higher term deposes the leader), so what
# is checked is what must still hold: no crash, no actor restart and no sanitizer report (the
# harness check), and once the fuzzer stops: the cluster elects and takes writes again, n1 and
# n2 hold one digest at one applied index, and every write acknowledged to the writer is on both.
# (What no Raft implementation can defend against a key holder is left out by rv-fuzz --member:
# agreeing to what it does not hold; see its header.)
#   RV_FUZZ_SEED=S     replays a run (the seed is printed: "rv-fuzz: seed S")
#   RV_FUZZ_FRAMES=N   frames per target node (default 1500)
#   RV_FUZZ_MINUTES=M  runs M minutes per target instead (scripts/fuzz.sh --minutes M)
source "$(dirname "$0")/lib.sh"
fs_cluster 3
fs 1 -mkdir -p /w
wait_for "n3 applied what the others did" 20 same_applied_index 3
inc=$(sed -n 2p "$T/n3/raft/incarnation")
[[ "$inc" =~ ^[0-9a-f]{16}$ ]] || fail "n3's incarnation file: \"$inc\""
stop_node "$T/n3.yaml"
leader_of_two() {
  local a b
  a=$(raft_field "$T/n1.yaml" leader) && b=$(raft_field "$T/n2.yaml" leader) || return 1
  [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != n3 ] && echo "$a"
}
wait_for "n1 and n2 agree on a leader without n3" 20 leader_of_two
seed=${RV_FUZZ_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
if [ -n "${RV_FUZZ_MINUTES:-}" ]; then amount=(--minutes "$RV_FUZZ_MINUTES")
else amount=(--frames "${RV_FUZZ_FRAMES:-1500}"); fi
pids_before=$(for i in 1 2; do all_actor_pids "$T/n$i.yaml"; done)
fs_writer start 1
wait_for "the writer's first acknowledged writes" 30 acked_at_least 3
fuzzers=()
for i in 1 2; do
  term=$(raft_field "$T/n$i.yaml" term)
  commit=$(raft_field "$T/n$i.yaml" commit)
  log "fuzzing n$i's Raft port as n3 (incarnation $inc, n$i at term $term, commit $commit), seed $((seed + i)) (replay: RV_FUZZ_SEED=$seed)"
  "$RV_BIN/rv-fuzz" -c "$T/n$i.yaml" --port raft --seed $((seed + i)) "${amount[@]}" \
    --member n3 --incarnation "$inc" --term "$term" --commit "$commit" \
    --key "$T/keys/n3.secret" --server-key "$(key_of "n$i")" >"$T/fuzz.n$i.out" 2>&1 &
  fuzzers+=($!)
  echo $! >>"$T/pids"
done
for k in 0 1; do
  wait "${fuzzers[$k]}" || fail "rv-fuzz --member against n$((k + 1)) (RV_FUZZ_SEED=$seed): $(cat "$T/fuzz.n$((k + 1)).out")"
  cat "$T/fuzz.n$((k + 1)).out"
done
fs_writer stop
log "writer: $(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed during the fuzzing"
wait_for "n1 and n2 agree on a leader after the fuzzing" 60 leader_of_two
wait_for "a write after the fuzzing" 60 fs 1 --retry 20000 -mkdir -p /after
digests_equal 2
for i in 1 2; do
  fs_all_acked "$i" --stale || fail "n$i lost acknowledged writes (RV_FUZZ_SEED=$seed)"
done
pids_after=$(for i in 1 2; do all_actor_pids "$T/n$i.yaml"; done)
assert_eq "$pids_after" "$pids_before" "the actors' pids after the fuzzing (RV_FUZZ_SEED=$seed)"
for i in 1 2; do
  log "n$i: term $(raft_field "$T/n$i.yaml" term), fault $(raft_field "$T/n$i.yaml" fault), counted: $(status_json "$T/n$i.yaml" |
    jq -c '{raft: (.raft | {dropped_not_member, dropped_stranger, dropped_malformed, snapshots_refused}), auth_refused: .security.auth_refused}')"
done
log "PASS: seed $seed, digest $DIGEST at applied index $DIGEST_INDEX on n1 and n2"
