#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server. Fencing: after term 3 claims the copy, term 2's late base commit fails with RV_EFENCED, and so
# do its incremental begin, claim and tidy; term 3 goes on from where the copy is.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive fence
ots_stop TERM
log PASS
