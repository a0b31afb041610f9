#!/usr/bin/env bash
# A seeded, bounded fuzz run against a running three-node cluster: rv-fuzz sends each node's
# client port and Raft port valid envelopes of every message type (random field values), the
# same mutated (bits flipped, cut short, bytes inserted, varints run away) and random bytes.
# Afterwards no actor may have crashed or restarted (the harness check fails the test on any
# restart or sanitizer report), the namespace must still take writes, and all three replicas
# must hold one namespace at one applied index.
#   RV_FUZZ_SEED=S     replays a run (the seed is printed: "rv-fuzz: seed S")
#   RV_FUZZ_FRAMES=N   frames per port and node (default 1500)
#   RV_FUZZ_MINUTES=M  runs M minutes per node instead (scripts/fuzz.sh --minutes M)
source "$(dirname "$0")/lib.sh"
# The ports without CURVE: what an unauthenticated process can reach there (on a secure cluster
# the handshake refuses it first; an authenticated client goes through the same listener, whose
# bounds are what this checks)
SECURITY_YAML="security:
  insecure: true
  superuser: $ADMIN"
unset RV_CLIENT_KEY RV_SERVER_KEYS
fs_cluster 3
for ((k = 1; k <= 10; k++)); do fs 1 -mkdir -p "/before/d$k" || fail "mkdir /before/d$k"; done
head -c 4096 /dev/urandom >"$T/small"
fs 1 -put "$T/small" /before/small || fail "put /before/small"
seed=${RV_FUZZ_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
if [ -n "${RV_FUZZ_MINUTES:-}" ]; then amount=(--minutes "$RV_FUZZ_MINUTES")
else amount=(--frames "${RV_FUZZ_FRAMES:-1500}"); fi
pids_before=$(for i in 1 2 3; do all_actor_pids "$T/n$i.yaml"; done)
for i in 1 2 3; do
  log "fuzzing n$i's client and Raft ports, seed $((seed + i)) (replay: RV_FUZZ_SEED=$seed)"
  "$RV_BIN/rv-fuzz" -c "$T/n$i.yaml" --seed $((seed + i)) "${amount[@]}" ||
    fail "rv-fuzz against n$i (RV_FUZZ_SEED=$seed)"
done
wait_for "a write after the fuzzing" 30 fs 1 -mkdir -p /after
digests_equal 3
pids_after=$(for i in 1 2 3; do all_actor_pids "$T/n$i.yaml"; done)
assert_eq "$pids_after" "$pids_before" "the actors' pids after the fuzzing (RV_FUZZ_SEED=$seed)"
for i in 1 2 3; do
  log "n$i counted: $(status_json "$T/n$i.yaml" |
    jq -c '[.actors[] | {(.name): {bad_frames, port_rejected}}] | add')"
done
log "PASS: seed $seed, digest $DIGEST at applied index $DIGEST_INDEX on all three nodes"
