#!/usr/bin/env bash
# rv-ots-server keeps its tables and rows across its own restart: after a clean stop (SIGTERM)
# and after SIGKILL (every write is synced before it is answered).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
sdk sdk_restart.js write 1
ots_stop TERM
ots_start
sdk sdk_restart.js verify 1
sdk sdk_restart.js write 2
ots_stop KILL
ots_start
sdk sdk_restart.js verify 2
ots_stop TERM
log PASS
