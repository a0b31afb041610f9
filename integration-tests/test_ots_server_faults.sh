#!/usr/bin/env bash
# Every fault mode of rv-ots-server is observable by the official JS SDK: 503 ServerBusy (a
# count, a percentage), PartitionUnavailable, Timeout, ServerUnavailable, RowOperationConflict,
# QuotaExhausted, per-row failures in a BatchWriteRow, a slow answer, a dropped connection, a
# blackhole, and a fault file that does not parse.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
sdk sdk_faults.js
grep -q 'blackholed' "$OTS_LOG" || fail "no blackholed request in the log"
# a blackholed request must not keep the server from stopping
ots_stop TERM
log PASS
