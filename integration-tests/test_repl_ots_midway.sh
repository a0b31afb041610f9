#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server. A transaction that fails midway (a row refused in a page, the commit refused, the meta update
# refused, a write past its bound: RV_ETOOBIG) leaves the old namespace visible, scan == before.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive midway
ots_stop TERM
log PASS
