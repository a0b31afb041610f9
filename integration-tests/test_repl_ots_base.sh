#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server. A base write into a new generation (skipping one an abandoned base write left rows in, with a
# 5 MiB value split into parts) made current by one meta update; tidy then leaves only the meta
# row and the current generation's rows in the cluster's partition.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive base
ots_stop TERM
log PASS
