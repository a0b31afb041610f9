#!/usr/bin/env bash
# The nemesis suite's short run of: the leader isolated, the bridge shape, a one-way loss, in network namespaces with iptables.
# One seeded run each (the seed is printed; RV_NEMESIS_SEED=N replays it) under a concurrent
# client workload on three nodes in network namespaces, then: one leader, converged digests,
# every acknowledged write on every node, a linearizable history (integration-tests/nemesis/).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nemesis/nemesis_lib.sh"
NEM_TAIL_S=1
nem_main --nemesis partition-leader,partition-bridge,partition-oneway --runs-each 1 --fault-seconds 2 ${RV_NEMESIS_SEED:+--seed "$RV_NEMESIS_SEED"}
