# lib-ots.sh: what the rv-ots-server scenarios share, sourced after lib.sh: start and stop the
# server by pid on a free loopback port (it binds port 0 and logs the one it got), and run a
# scenario of the official Tablestore JS SDK against it. Waits are bounded, never bare sleeps.
OTS_DIR=$T/ots
OTS_SDK=${RV_OTS_SDK:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/ots-sdk}
OTS_JS=$(cd "$(dirname "${BASH_SOURCE[0]}")/js" && pwd)
OTS_LOG=$OTS_DIR/log/server.log
OTS_FAULTS=$OTS_DIR/faults
mkdir -p "$OTS_DIR/log"
printf 'rv-test-secret-%s\n' "$RANDOM$RANDOM" >"$OTS_DIR/secret"
chmod 600 "$OTS_DIR/secret" # as a node's config check wants a secret file

# The SDK comes from scripts/setup.sh; sdk installs it at its first call if it is missing (fails
# loudly offline). Scenarios that drive only our own client never need it.
OTS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ots_need_sdk() {
  bash "$OTS_LIB_DIR/install-sdk.sh" || fail "cannot install the Tablestore JS SDK (npm registry unreachable?)"
  command -v node >/dev/null || fail "node is missing: run scripts/setup.sh"
}

# ots_start [extra server args...]: starts rv-ots-server on $OTS_DIR/db; sets OTS_PID, OTS_PORT.
ots_start() {
  local before
  before=$(grep -c 'listening on' "$OTS_LOG" 2>/dev/null || true)
  "$RV_BIN/rv-ots-server" --listen 127.0.0.1:0 --data "$OTS_DIR/db" --instance rv-test \
    --access-key-id rvTestKeyId --access-key-secret "@$OTS_DIR/secret" --fault-file "$OTS_FAULTS" \
    "$@" 2>>"$OTS_LOG" &
  OTS_PID=$!
  echo "$OTS_PID" >>"$T/pids"
  wait_for "rv-ots-server to listen" 15 ots_listening "${before:-0}"
  OTS_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$OTS_LOG" | tail -n 1 | cut -d: -f2)
  [ -n "$OTS_PORT" ] || fail "no port in $OTS_LOG"
  log "rv-ots-server pid $OTS_PID on 127.0.0.1:$OTS_PORT"
}
ots_listening() {
  alive "$OTS_PID" || fail "rv-ots-server exited at start"
  [ "$(grep -c 'listening on' "$OTS_LOG")" -gt "$1" ]
}

# ots_stop [SIGNAL]: stops the server (TERM by default) and waits for it; with TERM the exit
# status must be 0.
ots_stop() {
  local sig=${1:-TERM} rc=0
  kill -"$sig" "$OTS_PID"
  wait_for "rv-ots-server $OTS_PID to exit" 15 gone "$OTS_PID"
  wait "$OTS_PID" || rc=$?
  if [ "$sig" = TERM ] && [ "$rc" -ne 0 ]; then fail "rv-ots-server exited $rc on SIGTERM"; fi
  log "rv-ots-server $OTS_PID stopped by SIG$sig (exit $rc)"
}

# sdk SCRIPT.js [args...]: runs a scenario of the official SDK against the server.
sdk() {
  local script=$1
  shift
  ots_need_sdk
  NODE_PATH=$OTS_SDK/node_modules OTS_ENDPOINT="http://127.0.0.1:$OTS_PORT" OTS_INSTANCE=rv-test \
    OTS_AKID=rvTestKeyId OTS_SECRET_FILE="$OTS_DIR/secret" OTS_FAULT_FILE="$OTS_FAULTS" OTS_LOG="$OTS_LOG" \
    timeout 150 node "$OTS_JS/$script" "$@" || fail "SDK scenario $script $* failed"
}

# repl_ots_drive SCENARIO: runs a scenario of raftvisor's Tablestore backend (rv-repl-ots-drive,
# actors/ots-replicator/tests/repl_ots_drive.c) against the server; its stderr goes to the log.
repl_ots_drive() {
  local rc=0
  OTS_ENDPOINT="http://127.0.0.1:$OTS_PORT" OTS_INSTANCE=rv-test OTS_AKID=rvTestKeyId \
    OTS_SECRET_FILE="$OTS_DIR/secret" OTS_FAULT_FILE="$OTS_FAULTS" \
    timeout 160 "$RV_BIN/rv-repl-ots-drive" "$1" 2>"$OTS_DIR/log/drive-$1.log" || rc=$?
  cat "$OTS_DIR/log/drive-$1.log"
  [ "$rc" -eq 0 ] || fail "rv-repl-ots-drive $1 exited $rc (server log: $OTS_LOG)"
}

# ots_remote_digest CLUSTER: "DIGEST SYNCED_INDEX GENERATION ROWS TERM" of the cluster's copy in
# the server (the namespace digest `fs -digest` prints, computed over a scan), or "none".
ots_remote_digest() {
  OTS_ENDPOINT="http://127.0.0.1:$OTS_PORT" OTS_INSTANCE=rv-test OTS_AKID=rvTestKeyId \
    OTS_SECRET_FILE="$OTS_DIR/secret" OTS_FAULT_FILE="$OTS_FAULTS" \
    timeout 60 "$RV_BIN/rv-repl-ots-drive" digest "$1"
}

# ots_faults TEXT: replaces the server's fault file (by rename, so it is read whole).
ots_faults() {
  printf '%s' "$1" >"$OTS_FAULTS.new"
  mv "$OTS_FAULTS.new" "$OTS_FAULTS"
}
