#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) against rv-ots-server. Every fault of the server's fault file under incremental writes (503 ServerBusy, partition
# unavailable, timeouts, per-row failures, conflicts, slow answers, dropped connections, a
# blackhole): the backend retries or gives up with RV_EUNAVAIL / RV_ETIMEDOUT, and after every
# step the remote copy is exactly the model at the index its meta row names.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive faults
ots_stop TERM
log PASS
