#!/usr/bin/env bash
# The nemesis suite's short run of: SIGSTOP of an actor of the leader (1 s), of every process of the leader's node, of a follower's node (resumed while the leader and the other follower are cut from each other), of the leader's supervisor.
# One seeded run each (the seed is printed; RV_NEMESIS_SEED=N replays it) under a concurrent
# client workload on three nodes in network namespaces, then: one leader, converged digests,
# every acknowledged write on every node, a linearizable history (integration-tests/nemesis/).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nemesis/nemesis_lib.sh"
NEM_TAIL_S=1
nem_main --nemesis pause-actor,pause-node,pause-follower,pause-supervisor --runs-each 1 --fault-seconds 2 ${RV_NEMESIS_SEED:+--seed "$RV_NEMESIS_SEED"}
