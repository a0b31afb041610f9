#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server. A moved meta row gives RV_ESTALE: an incremental write from an index the copy has left, and a
# base write that would make an older index current after an incremental commit overtook it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive stale
ots_stop TERM
log PASS
