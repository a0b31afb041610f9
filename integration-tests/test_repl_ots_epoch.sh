#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server: fencing across epochs
# (the token is epoch << 32 | Raft term): epoch 1 term 2 is fenced by epoch 1 term 3; epoch 2
# term 1 (a cluster recovered from the copy) passes over epoch 1 term 9 with a base write at its
# own, lower index, and epoch 1 term 9's late commit, claim, base write and tidy are then
# RV_EFENCED; a second epoch-2 base write from the old row is RV_ESTALE; a token past the
# generations' range (epoch 128) is refused naming the limit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive epoch
ots_stop TERM
log PASS
