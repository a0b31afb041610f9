#!/usr/bin/env bash
# rv-ots-server (issue 9) driven by a client nobody here wrote: the official Tablestore SDK for
# JavaScript creates a table, puts, gets, updates and deletes with conditions, batch-writes,
# range-reads with paging both ways, and uses local transactions; every result is checked. Then,
# with a short transaction timeout, an abandoned transaction is aborted by the server.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
sdk sdk_basic.js
# every request was logged, one line each, and the server stops cleanly
[ "$(grep -c ' POST ' "$OTS_LOG")" -ge 40 ] || fail "expected a log line per request"
ots_stop TERM
ots_start --txn-timeout-ms 1500
sdk sdk_txn_timeout.js 1500
grep -q 'expired, aborted' "$OTS_LOG" || fail "the server did not log the expiry"
ots_stop TERM
log PASS
