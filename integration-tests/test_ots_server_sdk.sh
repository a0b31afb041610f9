#!/usr/bin/env bash
# rv-ots-server (issue 9) driven by a client nobody here wrote: the official Tablestore SDK for
# JavaScript creates a table, puts, gets, updates and deletes with conditions, batch-writes,
# range-reads with paging both ways, and uses local transactions; every result is checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
sdk sdk_basic.js
# every request was logged, one line each, and the server stops cleanly
[ "$(grep -c ' POST ' "$OTS_LOG")" -ge 40 ] || fail "expected a log line per request"
ots_stop TERM
log PASS
