#!/usr/bin/env bash
# Recovery of a new cluster from the off-cluster replica (issue 9), with the Tablestore backend:
# test_ots_recovery.sh's scenario (write a namespace, _synced=1, stop and wipe, a new cluster in
# recovery mode, the exact 25021 error while RUNNING, kill -9 of the leader's replicator and of
# the whole leader node during the load, FINISH, -count and -digest equal on all three nodes,
# leaving with finish-recovery and the published way) against rv-ots-server.
RV_RECOVERY_BACKEND=tablestore
source "$(dirname "$0")/test_ots_recovery.sh"
