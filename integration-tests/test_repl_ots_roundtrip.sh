#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server. Claim, incremental writes (700 puts; updates, deletes and a key changed twice in one write),
# scans in key order that match the model, a second handle on the existing table, a repeated
# claim that moves nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive roundtrip
ots_stop TERM
log PASS
