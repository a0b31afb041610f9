#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server answering hostile
# responses (its corrupt faults): a wrong MD5, a wrong signature, a damaged row checksum are
# clear errors naming the endpoint, the action and the check; writes that meet one leave the
# remote copy exactly the model at its meta row's index.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive hostile
ots_stop TERM
log PASS
