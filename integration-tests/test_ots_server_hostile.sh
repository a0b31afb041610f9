#!/usr/bin/env bash
# rv-ots-server refuses hostile requests with the status, code and message of the reference:
# bad or misplaced signatures, a bad MD5, each missing header, stale or malformed dates, another
# instance or key, GET, unknown actions, bad CRCs in a row, a missing proto2 field, no version
# condition, a wrong key schema, over-limit batches and bodies. Its answers are signed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
sdk raw_hostile.js
ots_stop TERM
log PASS
