#!/usr/bin/env bash
# rv-ots-server refuses hostile requests with the status, code and message of the reference:
# bad or misplaced signatures, a bad MD5, each missing header, stale or malformed dates, another
# instance or key, GET, unknown actions, bad CRCs in a row, a missing proto2 field, no version
# condition, a wrong key schema, over-limit batches and bodies. Its answers are signed. A bad
# command line is refused with a clear message and the exit code of its kind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
sdk raw_hostile.js

# expect_exit CODE TEXT ARGS...: rv-ots-server ARGS exits with CODE and says TEXT on stderr
expect_exit() {
  local want=$1 text=$2 rc=0 out
  shift 2
  out=$(timeout 10 "$RV_BIN/rv-ots-server" "$@" 2>&1) || rc=$?
  [ "$rc" -eq "$want" ] || fail "rv-ots-server $*: exit $rc, expected $want: $out"
  assert_contains "$out" "$text" "rv-ots-server $*"
}
ok=(--data "$OTS_DIR/db2" --instance rv-test --access-key-id k --access-key-secret "@$OTS_DIR/secret")
expect_exit 2 "are required" --listen 127.0.0.1:0
expect_exit 2 "expected IPv4:PORT" --listen 127.0.0.1:99999 "${ok[@]}"
expect_exit 2 "unknown option '--bogus'" --listen 127.0.0.1:0 "${ok[@]}" --bogus 1
expect_exit 2 "--instance: expected 3-16" --listen 127.0.0.1:0 --data "$OTS_DIR/db2" --instance x --access-key-id k --access-key-secret "@$OTS_DIR/secret"
expect_exit 78 "takes @FILE" --listen 127.0.0.1:0 --data "$OTS_DIR/db2" --instance rv-test --access-key-id k --access-key-secret plain
expect_exit 78 "No such file" --listen 127.0.0.1:0 --data "$OTS_DIR/db2" --instance rv-test --access-key-id k --access-key-secret @/nonexistent
expect_exit 75 "cannot listen on 127.0.0.1:$OTS_PORT" --listen "127.0.0.1:$OTS_PORT" "${ok[@]}"
expect_exit 75 "rocksdb open" --listen 127.0.0.1:0 --data "$OTS_DIR/db" --instance rv-test --access-key-id k --access-key-secret "@$OTS_DIR/secret"
ots_stop TERM
log PASS
