# lib.sh: the small library every integration scenario sources. It makes a private directory,
# writes node YAML files, starts and stops nodes through the CLI only, waits for conditions with
# deadlines (never a bare sleep to synchronise), and on exit kills every process it started, by
# pid. Scenarios call `fail MESSAGE` to fail with context.
#
# Errors are never dropped: scenarios run under `set -Eeuo pipefail` (and inherit_errexit), so a
# bare call that fails (a helper such as fs_all_acked, an assignment from a failing $(...))
# fails the test and names the line; a command whose failure is expected is written
# `cmd || code=$?` or inside `if`/`!`.
#
# The harness check (harness_check, run by the EXIT trap of every scenario, and by stop_node for
# a node stopped mid-test) fails the test, printing the offending lines, on:
#   - sanitizer text (AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer, "runtime
#     error:", "==PID==ERROR: ") in any log of any node, logs of wiped data-dirs included, and in
#     the reports any process of the scenario wrote to $T/sanitizer.PID (sanitizer builds);
#   - a restart of an actor the test did not cause: a scenario declares what it kills or
#     restarts on purpose with `expect_restart NODE ACTOR [N]` (allows N more, default 1);
#   - an actor that did not end cleanly (exit code 0 on SIGTERM) when its node was stopped, as
#     `raftvisor stop --json` reports it (`expect_unclean_stop NODE ACTOR` for a deliberate one);
#   - a node whose supervisor is gone though the test neither stopped it nor declared it with
#     `expect_node_down NODE`.
# A failed scenario keeps its directory ($T) for inspection (unless RV_IT_KEEP_FAILED=0, as
# mutation.sh sets); a passing one removes it.
set -Eeuo pipefail
shopt -s inherit_errexit
RV_BIN=${RV_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../build/bin" && pwd)}
RV=$RV_BIN/raftvisor
# short paths: unix socket paths are limited to 107 bytes
T=$(mktemp -d /tmp/rvit.XXXXXX)
SCENARIO=$(basename "$0" .sh)
: >"$T/configs"
: >"$T/pids"
: >"$T/expect"
: >"$T/check.failures"
: >"$T/nodes"
# In a sanitizer build, every process the scenario starts (CLI calls whose stderr a helper drops,
# tools, the supervisor and its actors) writes its reports to $T/sanitizer.PID, which the harness
# check scans with the logs.
# Who the tests are: every YAML below is secure (CURVE keys, see security_section), the tests'
# client key stands for the login name ($ADMIN), and that principal is the clusters' superuser,
# so scenarios run as the superuser. SECURITY_EXTRA (lines of the security: section, indented by
# two spaces) adds keys such as groups or permissions: false. A scenario about what the server
# does with the user a client asserts sets SECURITY_YAML (the whole section, insecure: true) and
# unsets RV_CLIENT_KEY; its commands then say who they are with HADOOP_USER_NAME.
unset HADOOP_USER_NAME
SECURITY_YAML=${SECURITY_YAML:-}
SECURITY_EXTRA=${SECURITY_EXTRA:-}
SECURITY_CLIENTS=${SECURITY_CLIENTS:-} # more principals accepted, each with its key ($T/keys)
if [ -n "${ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T/sanitizer"; fi
if [ -n "${UBSAN_OPTIONS:-}" ]; then export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$T/sanitizer"; fi

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$SCENARIO" "$*"; }

dump_logs() {
  local f
  for f in "$T"/*/log/*.log; do
    [ -f "$f" ] || continue
    echo "----- $f (last 30 lines)"
    tail -n 30 "$f"
  done
}

fail() {
  log "FAIL: $*"
  dump_logs
  exit 1
}

# The ERR trap: names the failed command, where it is and the chain of calls that led there (in
# the top-level shell only: a failure inside $(...) is reported where its result is used).
s_on_err() {
  local rc=$1 line=$2 cmd=$3 where k
  [ "$BASHPID" = "$$" ] || return 0
  where="$(basename "${BASH_SOURCE[1]:-?}"):$line"
  for ((k = 1; k < ${#FUNCNAME[@]} - 1; k++)); do
    where+=" in ${FUNCNAME[$k]}, called at $(basename "${BASH_SOURCE[$((k + 1))]:-?}"):${BASH_LINENO[$k]}"
  done
  log "FAIL: '$cmd' exited with $rc at $where"
}
trap 's_on_err $? $LINENO "$BASH_COMMAND"' ERR

# A process counts as alive unless it is gone or a zombie (state Z): a killed orphan lingers as a
# zombie until PID 1 reaps it.
alive() {
  local st
  st=$(awk '{sub(/.*\) /, ""); print substr($0, 1, 1)}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# ---- what the test does on purpose (for the harness check) -----------------------------------

# expect_restart NODE ACTOR [N]: the test causes N (default 1) restarts of ACTOR on NODE (a
# kill, a SIGSTOP, `raftvisor restart`); the check allows that many.
expect_restart() { echo "restart $1 $2 ${3:-1}" >>"$T/expect"; }
# expect_unclean_stop NODE ACTOR: ACTOR is meant not to end cleanly when NODE stops (ignores
# SIGTERM, aborts at exit).
expect_unclean_stop() { echo "unclean $1 $2 1" >>"$T/expect"; }
# expect_node_down NODE: NODE's supervisor is meant to be gone at the end (it gave up, or was
# killed) without a stop.
expect_node_down() { echo "down $1 - 1" >>"$T/expect"; }

s_expected() { # KIND NODE ACTOR: how many the test declared
  awk -v k="$1" -v n="$2" -v a="$3" '$1 == k && $2 == n && $3 == a {s += $4} END {print s + 0}' \
    "$T/expect"
}

s_check_fail() { echo "$*" >>"$T/check.failures"; }

s_node_name() { basename "$1" .yaml; }
s_node_dir() { echo "$T/$(s_node_name "$1")"; }

# s_check_restarts CFG: status --json of a running node against the declared restarts.
s_check_restarts() {
  local cfg=$1 node json name restarts allowed
  node=$(s_node_name "$cfg")
  json=$("$RV" status --json -c "$cfg" 2>&1) || { s_check_fail "node $node: status failed: $json"; return 0; }
  while read -r name restarts; do
    allowed=$(s_expected restart "$node" "$name")
    [ "$restarts" -le "$allowed" ] ||
      s_check_fail "node $node: actor $name restarted $restarts times, the test caused $allowed" \
        "(last exit: $(echo "$json" | jq -r --arg a "$name" '.actors[] | select(.name == $a) | .last_exit'))"
  done < <(echo "$json" | jq -r '.actors[] | "\(.name) \(.restarts)"')
}

# s_stop_checked CFG [norestarts]: stops a running node with stop --json and checks how each
# actor ended (and its restarts first, unless told the caller did).
s_stop_checked() {
  local cfg=$1 node json name exit_text pid
  node=$(s_node_name "$cfg")
  pid=$(supervisor_pid "$cfg")
  [ "${2:-}" = norestarts ] || s_check_restarts "$cfg"
  if ! json=$("$RV" stop --json -c "$cfg" 2>&1); then
    s_check_fail "node $node: raftvisor stop failed: $json"
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    echo "stopped $node" >>"$T/nodes"
    return 0
  fi
  echo "$json" >>"$T/stops.jsonl"
  while IFS=$'\t' read -r name exit_text; do
    [ "$(s_expected unclean "$node" "$name")" -gt 0 ] && continue
    s_check_fail "node $node: actor $name did not end cleanly at stop: $exit_text"
  done < <(echo "$json" | jq -r '.actors[] | select(.clean | not) |
    "\(.name)\t\(if .exit == "" then "never ran" else .exit end)\(if .killed then " (killed at its shutdown timeout)" else "" end) (state at stop: \(.state_at_stop))"')
  echo "stopped $node" >>"$T/nodes"
}

SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|MemorySanitizer|ThreadSanitizer|runtime error: |==[0-9]+==(ERROR|WARNING): '

# s_scan_logs: sanitizer text in any log of any node (and the scenario's own captured output).
s_scan_logs() {
  local f
  while IFS= read -r f; do
    s_check_fail "sanitizer report in $f:
$(grep -n -E -A 12 "$SANITIZER_RE" "$f" | sed -n 1,60p)"
  done < <(find "$T" -type f \( -path '*/log/*' -o -path "$T/saved-logs/*" -o -name '*.err' \
    -o -name '*.txt' -o -name 'sanitizer.*' \) -print0 2>/dev/null | xargs -0 -r grep -l -I -E "$SANITIZER_RE" 2>/dev/null)
  return 0
}

# harness_check: the checks above for every node; prints each problem; returns 1 if any.
harness_check() {
  local cfg node pid
  # restarts of every running node first: stopping one node of a cluster must not count against
  # the others
  for cfg in $(sort -u "$T/configs"); do
    pid=$(supervisor_pid "$cfg")
    if [ -n "$pid" ] && alive "$pid"; then s_check_restarts "$cfg"; fi
  done
  for cfg in $(sort -u "$T/configs"); do
    node=$(s_node_name "$cfg")
    pid=$(supervisor_pid "$cfg")
    if [ -n "$pid" ] && alive "$pid"; then
      s_stop_checked "$cfg" norestarts
    elif [ "$(s_node_state "$node")" = up ] && [ "$(s_expected down "$node" -)" -eq 0 ]; then
      s_check_fail "node $node: its supervisor (pid ${pid:-?}) is gone, though the test did not stop it; its log ends:
$(tail -n 5 "$T/$node/log/supervisor.log" 2>/dev/null)"
    fi
  done
  s_scan_logs
  [ -s "$T/check.failures" ] || return 0
  log "FAIL: the harness check found:"
  cat "$T/check.failures"
  return 1
}

# The last thing recorded for a node in $T/nodes: "up" (started), "stopped", or "" (never).
s_node_state() {
  awk -v n="$1" '$2 == n {s = $1} END {print (s == "started" ? "up" : s)}' "$T/nodes" 2>/dev/null
}

# The EXIT trap: the harness check, then every process of ours still alive is killed (by the pids
# recorded), the directory removed if all went well. The scenario's exit code is kept, and
# becomes 1 when the check fails.
cleanup() {
  local rc=$? pid
  set +eE
  trap - ERR
  [ ! -e "$T/watchdog.fired" ] || [ "$rc" -ne 0 ] || rc=1 # stopped by the watchdog's SIGTERM
  harness_check || rc=1
  for pid in $(cat "$T"/pids 2>/dev/null); do alive "$pid" && kill -9 "$pid" 2>/dev/null; done
  local hook
  if [ -f "$T/at-cleanup" ]; then
    while IFS= read -r hook; do bash -c "$hook" || true; done <"$T/at-cleanup"
  fi
  s_release_ports
  if [ "$rc" -eq 0 ] || [ "${RV_IT_KEEP_FAILED:-1}" = 0 ]; then
    rm -rf "$T"
  else
    log "exit $rc; the scenario's files are kept in $T"
  fi
  [ -z "${S_WATCHDOG:-}" ] || kill "$S_WATCHDOG" 2>/dev/null
  exit "$rc"
}
trap cleanup EXIT

# ---- the watchdog ------------------------------------------------------------------------------
# ctest kills a scenario that outlives its TIMEOUT with SIGKILL: no trap runs, so its nodes would
# live on and the log would not say what hung. RV_IT_TIMEOUT (ctest's timeout for the scenario,
# set by CMakeLists.txt) arms a watchdog: 15 s before it, it logs every process below the
# scenario's shell (the command it is stuck in) and kills those that are not nodes, so the stuck
# command fails and the ERR and EXIT traps name it and stop the nodes; 8 s later, if the scenario
# is still there, it sends it SIGTERM. It checks once a second and ends with the scenario.
s_descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    s_descendants "$p"
  done
}
# s_outlives PID SECS: waits up to SECS seconds, looking once a second; false once PID is gone.
s_outlives() {
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    sleep 1 </dev/null >/dev/null 2>&1 || true
    kill -0 "$1" 2>/dev/null || return 1
  done
}
s_watchdog() {
  local main=$1 secs=$2 me=$BASHPID p c nodes stuck=""
  s_outlives "$main" "$secs" || exit 0
  nodes=" $(tr '\n' ' ' <"$T/pids" 2>/dev/null) "
  for c in $(ps -o pid= --ppid "$main" 2>/dev/null); do
    [ "$c" != "$me" ] || continue
    for p in $c $(s_descendants "$c"); do [[ $nodes == *" $p "* ]] || stuck+="$p "; done
  done
  : >"$T/watchdog.fired"
  log "FAIL: still running after $secs s (ctest kills it at ${RV_IT_TIMEOUT:-?} s); stuck in:"
  stuck=${stuck% }
  [ -z "$stuck" ] || ps -o pid,etimes,args -p "${stuck// /,}" 2>/dev/null || true
  for p in $stuck; do kill -9 "$p" 2>/dev/null || true; done
  s_outlives "$main" 8 || exit 0
  kill -TERM "$main" 2>/dev/null || true
}
# RV_IT_WATCHDOG_SECS sets the seconds directly (test_harness_check.sh's hung case).
S_WATCHDOG_SECS=${RV_IT_WATCHDOG_SECS:-}
if [ -z "$S_WATCHDOG_SECS" ] && [ "${RV_IT_TIMEOUT:-0}" -gt 30 ]; then
  S_WATCHDOG_SECS=$((RV_IT_TIMEOUT - 15))
fi
if [ -n "$S_WATCHDOG_SECS" ]; then
  (
    set +eE
    trap - ERR EXIT
    s_watchdog $$ "$S_WATCHDOG_SECS"
  ) &
  S_WATCHDOG=$!
fi

# at_cleanup COMMAND: runs COMMAND (a shell line) at exit, after the harness check has stopped
# the nodes and before the scenario's files are removed (e.g. unmounting a tmpfs under $T).
at_cleanup() { echo "$*" >>"$T/at-cleanup"; }

# ---- ports -------------------------------------------------------------------------------------

# claim_ports COUNT: prints a base port B (a multiple of 16) such that B+1..B+COUNT (COUNT < 16)
# are free on loopback (no socket of any state uses them, per ss) and claimed against other
# scenarios running at once (an atomic mkdir of /tmp/rvit-ports/B, released at exit; blocks of
# 16 never overlap). Below the kernel's ephemeral range (32768-60999), where outgoing
# connections take ports.
claim_ports() {
  local count=$1 base k try used owner
  mkdir -p /tmp/rvit-ports
  for ((try = 0; try < 200; try++)); do
    base=$((10000 + 16 * (RANDOM % 1250)))
    if ! mkdir "/tmp/rvit-ports/$base" 2>/dev/null; then
      owner=$(cat "/tmp/rvit-ports/$base/pid" 2>/dev/null || true)
      [ -n "$owner" ] && alive "$owner" && continue
      rm -rf "/tmp/rvit-ports/$base" # a claim left by a scenario that died
      mkdir "/tmp/rvit-ports/$base" 2>/dev/null || continue
    fi
    echo $$ >"/tmp/rvit-ports/$base/pid"
    used=$(ss -Htan | awk '{n = split($4, a, ":"); print a[n]}' | sort -u)
    for ((k = 1; k <= count; k++)); do
      if grep -qx "$((base + k))" <<<"$used"; then
        rm -rf "/tmp/rvit-ports/$base"
        continue 2
      fi
    done
    echo "$base" >>"$T/ports"
    echo "$base"
    return 0
  done
  fail "no block of $count free ports found in 200 tries"
}
s_release_ports() {
  local base
  for base in $(cat "$T/ports" 2>/dev/null); do rm -rf "/tmp/rvit-ports/$base"; done
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 20 ms until it succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && fail "timed out after ${secs}s waiting for: $what"
    sleep 0.02
  done
}

# ---- CURVE keys: every node here runs secure, as scripts/lib-cluster.sh's do -----------------

# The principal of the tests' own client key: the login name (the superuser of the clusters).
ADMIN=$(id -un)
export RV_CLIENT_KEY=$T/keys/$ADMIN.secret # for the tools given node lists (rv-lin-workload...)

# key_of NAME: writes $T/keys/NAME.secret and NAME.pub once (raftvisor keys gen); prints NAME's
# public key.
key_of() {
  if [ ! -s "$T/keys/$1.key" ]; then
    mkdir -p -m 0700 "$T/keys"
    "$RV" keys gen --out "$T/keys" "$1" >"$T/keys/$1.key" || fail "raftvisor keys gen $1"
  fi
  cat "$T/keys/$1.key"
}

# security_yaml NODE: the security section of node NODE's file: its key pair, the tests' client
# key for the CLI, that key accepted as $ADMIN (and SECURITY_CLIENTS' keys as themselves),
# $ADMIN the superuser, and SECURITY_EXTRA.
security_yaml() {
  printf 'security:\n  key: "@%s/keys/%s.secret"\n  client-key: %s/keys/%s.secret\n' "$T" "$1" \
    "$T" "$ADMIN"
  printf '  clients:\n    - {principal: %s, key: "%s"}\n' "$ADMIN" "$(key_of "$ADMIN")"
  local c
  for c in $SECURITY_CLIENTS; do printf '    - {principal: %s, key: "%s"}\n' "$c" "$(key_of "$c")"; done
  printf '  superuser: %s\n' "$ADMIN"
  if [ -n "$SECURITY_EXTRA" ]; then printf '%s\n' "$SECURITY_EXTRA"; fi
}

# security_section NODE: what the node files below carry: SECURITY_YAML when the scenario set
# it (an insecure cluster), else security_yaml NODE.
security_section() {
  if [ -n "$SECURITY_YAML" ]; then printf '%s\n' "$SECURITY_YAML"; else security_yaml "$1"; fi
}

# server_keys_of N: RV_SERVER_KEYS for the tools: "host:client-port=KEY,..." of n1..nN.
server_keys_of() {
  local i out=""
  for ((i = 1; i <= $1; i++)); do out+="${out:+,}$(client_addr "$i")=$(key_of "n$i")"; done
  echo "$out"
}

# export_server_keys: RV_SERVER_KEYS from every node entry of every YAML written so far, so that
# commands and tools given node lists (fs --nodes, fs_at, rv-lin-workload) authenticate the
# nodes; start_node calls it.
export_server_keys() {
  local f k=""
  [ -f "$T/configs" ] || return 0
  while read -r f; do
    [ -f "$f" ] || continue
    k+="$(sed -n 's/.*public-key: "\([^"]*\)",.* host: \([^,]*\), raft-port: [0-9]*, client-port: \([0-9]*\)}.*/\2:\3=\1/p' "$f")
"
  done <"$T/configs"
  RV_SERVER_KEYS=$(printf '%s' "$k" | sed '/^$/d' | sort -u | paste -sd,)
  export RV_SERVER_KEYS
}

# node_yaml NAME [ACTOR_YAML]: writes $T/NAME.yaml for a one-node cluster; ACTOR_YAML is the
# body of the actors: list (default: the health-monitor and two well-behaved test actors).
# RV_INTENSITY, RV_MIN_DELAY_MS and RV_MAX_DELAY_MS override the restart policy.
node_yaml() {
  local name=$1 actors=${2:-} port
  port=$(($(claim_ports 2) + 1))
  if [ -z "$actors" ]; then
    actors="  - {name: health-monitor}
  - {name: a1, exec: $RV_BIN/raftvisor-test-actor}
  - {name: a2, exec: $RV_BIN/raftvisor-test-actor}"
  fi
  cat >"$T/$name.yaml" <<YAML
node:
  id: $name
  data-dir: $T/$name
cluster:
  nodes:
    - {public-key: "$(key_of "$name")", id: $name, host: 127.0.0.1, raft-port: $port, client-port: $((port + 1))}
$(security_section "$name")
supervisor:
  heartbeat-interval-ms: 100
  heartbeat-timeout-ms: 1500
  restart-min-delay-ms: ${RV_MIN_DELAY_MS:-50}
  restart-max-delay-ms: ${RV_MAX_DELAY_MS:-1000}
  restart-intensity: ${RV_INTENSITY:-10}
  restart-period-s: 30
  shutdown-timeout-ms: 1000
health:
  ping-interval-ms: 200
  ping-timeout-ms: 2000
actors:
$actors
YAML
  echo "$T/$name.yaml" >>"$T/configs"
  echo "$T/$name.yaml"
}

# start_node CFG: starts the node as a daemon (quietly; a failure fails the test) and records its
# supervisor for cleanup and the harness check.
start_node() {
  local out
  export_server_keys
  out=$("$RV" start --daemon -c "$1" 2>&1) || fail "raftvisor start -c $1 failed: $out"
  supervisor_pid "$1" >>"$T/pids"
  echo "started $(s_node_name "$1")" >>"$T/nodes"
}

# stop_node CFG: stops a node mid-test with the harness check of its restarts and of how each
# actor ended (raftvisor stop --json); fails the test at once if the check does.
stop_node() {
  local before
  before=$(wc -l <"$T/check.failures")
  s_stop_checked "$1"
  [ "$(wc -l <"$T/check.failures")" -eq "$before" ] ||
    fail "stopping $(s_node_name "$1"): $(tail -n +$((before + 1)) "$T/check.failures")"
}

# wipe_node NAME: removes a stopped node's data-dir (its disk is lost), keeping its logs aside in
# $T/saved-logs for the sanitizer scan.
wipe_node() {
  local k=1
  while [ -e "$T/saved-logs/$1.$k" ]; do k=$((k + 1)); done
  mkdir -p "$T/saved-logs/$1.$k"
  if [ -d "$T/$1/log" ]; then cp -r "$T/$1/log/." "$T/saved-logs/$1.$k/"; fi
  rm -rf "${T:?}/$1"
}

supervisor_pid() {
  local run dir
  run=$(dirname "$1")/$(basename "$1" .yaml)/run
  if [ ! -e "$run/supervisor.lock" ]; then # a YAML named otherwise than its data-dir
    dir=$(sed -n '/^  data-dir: */{s///p;q}' "$1")
    [ -n "$dir" ] && run=$dir/run
  fi
  head -n1 "$run/supervisor.lock" 2>/dev/null
}

status_json() { "$RV" status --json -c "$1"; }

# actor_field CFG ACTOR FIELD: one field of one actor from status --json.
actor_field() {
  status_json "$1" | jq -r --arg a "$2" --arg f "$3" '.actors[] | select(.name == $a) | .[$f]'
}

actor_pid() { actor_field "$1" "$2" pid; }

# The pids of every actor of a node, from status (recorded for cleanup too).
all_actor_pids() {
  status_json "$1" | jq -r '.actors[].pid' | grep -v '^0$' | tee -a "$T/pids"
}

assert_eq() { [ "$1" = "$2" ] || fail "$3: expected \"$2\", got \"$1\""; }
# matches ERE TEXT: true when a line of TEXT matches. Never `echo "$x" | grep -q` nor
# `cmd | grep -q`: under pipefail, grep -q exits at its first match, and a writer with more to
# write (bash's echo and printf write line by line; a program's output over 4 KiB) dies of
# SIGPIPE and fails the pipeline, a false failure that comes and goes (CI, stop 19).
# test_harness_check refuses the pattern in every scenario.
matches() { grep -Eq -- "$1" <<<"$2"; }
# first_line TEXT: the first line of TEXT, without a pipe into head (same reason)
first_line() { printf '%s\n' "${1%%$'\n'*}"; }
# clip N TEXT: TEXT on one line, cut to N characters (for messages)
clip() { local s=${2//$'\n'/ }; printf '%s' "${s:0:$1}"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "$3: expected to contain \"$2\", got: $1" ;; esac; }

# one_active CFG: true when haadmin -getAllServiceState (asked through CFG) shows an active node
one_active() { local s; s=$("$RV" haadmin -c "$1" -getAllServiceState) && matches ' active$' "$s"; }

# field_is CFG ACTOR FIELD VALUE: true when status shows that value (for wait_for, which must
# re-run the query each time, so never pass it "$(actor_field ...)").
field_is() { [ "$(actor_field "$1" "$2" "$3")" = "$4" ]; }
gone() { ! alive "$1"; }

# cluster_yaml N ACTORS...: writes $T/n1.yaml .. $T/nN.yaml for an N-node cluster on loopback
# with the given actors (names; programs beside raftvisor), prints nothing. Ports are claimed
# free (claim_ports): raft-ports base+1..base+N, client-ports base+N+1..base+2N.
cluster_yaml() {
  local n=$1
  shift
  local base i k a nodes="" actors=""
  base=$(claim_ports $((2 * n)))
  for ((k = 1; k <= n; k++)); do
    nodes+="    - {public-key: \"$(key_of "n$k")\", id: n$k, host: 127.0.0.1, raft-port: $((base + k)), client-port: $((base + n + k))}
"
  done
  for a in "$@"; do actors+="  - {name: $a}
"; done
  for ((i = 1; i <= n; i++)); do
    cat >"$T/n$i.yaml" <<YAML
node:
  id: n$i
  data-dir: $T/n$i
cluster:
  id: it
  nodes:
$nodes
$(security_section "n$i")
supervisor:
  heartbeat-interval-ms: 100
  heartbeat-timeout-ms: 1500
  restart-min-delay-ms: 50
  restart-intensity: 20
health:
  ping-interval-ms: 200
  ping-timeout-ms: 2000
actors:
$actors
YAML
    echo "$T/n$i.yaml" >>"$T/configs"
  done
  export_server_keys
}

# raft_field CFG FIELD: one field of the node's Raft state (status --json .raft).
raft_field() { status_json "$1" | jq -r --arg f "$2" '.raft[$f] // empty'; }

# leader_of N: prints the node name that all N nodes agree is leader, in one term, with exactly
# one of them in the leader role; fails (returns 1) otherwise.
leader_agreed() {
  local n=$1 i leaders="" terms="" roles=""
  for ((i = 1; i <= n; i++)); do
    local s
    s=$(status_json "$T/n$i.yaml" 2>/dev/null) || return 1
    leaders+="$(echo "$s" | jq -r '.raft.leader // ""') "
    terms+="$(echo "$s" | jq -r '.raft.term // 0') "
    roles+="$(echo "$s" | jq -r '.raft.role // ""') "
  done
  [ "$(echo $leaders | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] || return 1
  [ "$(echo $terms | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] || return 1
  [ "$(echo $roles | tr ' ' '\n' | grep -c '^leader$')" -eq 1 ] || return 1
  local l
  l=$(echo $leaders | cut -d' ' -f1)
  [ -n "$l" ] || return 1
  echo "$l"
}

# ---- the namespace (raftvisor fs) ------------------------------------------------------------

# fs_cluster N: writes and starts an N-node cluster running the whole node (health-monitor,
# raft-peer, kv-store) and waits until a leader is agreed and the namespace answers a write.
fs_cluster() {
  local n=$1 i
  cluster_yaml "$n" health-monitor raft-peer kv-store
  for ((i = 1; i <= n; i++)); do start_node "$T/n$i.yaml"; done
  wait_for "one leader agreed by all" 20 leader_agreed "$n"
  wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /
}

# fs I ARGS...: raftvisor fs against the cluster, through node nI's YAML (nI is tried first).
fs() {
  local i=$1
  shift
  "$RV" fs -c "$T/n$i.yaml" "$@"
}

# client_addr I: node nI's client address, host:client-port (from the YAML cluster_yaml wrote).
client_addr() {
  sed -n "s/.*id: n$1, host: \([^,]*\), raft-port: [0-9]*, client-port: \([0-9]*\)}.*/\1:\2/p" \
    "$T/n$1.yaml"
}

# fs_at I ARGS...: raftvisor fs given node nI only (it still follows a redirect to the leader).
fs_at() {
  local i=$1
  shift
  "$RV" fs --nodes "$(client_addr "$i")" "$@"
}

# follower_of N LEADER: prints the number of a node that is not LEADER ("n2" -> e.g. 1).
follower_of() {
  local n=$1 leader=${2#n} i
  for ((i = 1; i <= n; i++)); do [ "$i" != "$leader" ] && { echo "$i"; return; }; done
}

# expect_fail CODE MESSAGE COMMAND...: runs COMMAND, which must exit with CODE and print
# MESSAGE (a substring) on stderr.
expect_fail() {
  local code=$1 msg=$2 out rc=0
  shift 2
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" = "$code" ] || fail "$*: expected exit $code, got $rc ($out)"
  assert_contains "$out" "$msg" "$*"
}

# fs_writer start I | stop: a background client writing /w/1, /w/2, ... through node nI's YAML,
# one CLI call per write (every 4th a put with content "v<i>", the others mkdir). Acknowledged
# numbers go to $T/acked, failed ones to $T/failed (stderr in $T/writer.err). /w must exist.
fs_writer() {
  if [ "$1" = stop ]; then
    touch "$T/writer.stop"
    wait "$(cat "$T/writer.pid")" 2>/dev/null
    return 0
  fi
  local node=$2
  : >"$T/acked"
  : >"$T/failed"
  rm -f "$T/writer.stop"
  (
    i=0
    while [ ! -e "$T/writer.stop" ] && [ $i -lt 5000 ]; do
      i=$((i + 1))
      if [ $((i % 4)) = 0 ]; then
        printf 'v%d' $i | fs "$node" --retry 30000 -put - "/w/$i" 2>>"$T/writer.err"
      else
        fs "$node" --retry 30000 -mkdir "/w/$i" 2>>"$T/writer.err"
      fi && echo $i >>"$T/acked" || echo $i >>"$T/failed"
    done
  ) &
  echo $! >"$T/writer.pid"
  echo $! >>"$T/pids"
}

# acked_at_least N: true once the writer has N acknowledged writes.
acked_at_least() { [ "$(wc -l <"$T/acked")" -ge "$1" ]; }

# fs_all_acked I [OPTS]: true when node nI's listing of /w (OPTS e.g. --stale) holds every
# acknowledged write, and the puts among them read back their content; prints what is missing.
fs_all_acked() {
  local i=$1 opts=${2:-} missing k
  fs_at "$i" $opts -ls /w | awk 'NR > 1 {sub(".*/", "", $NF); print $NF}' | sort >"$T/have.$i" ||
    return 1
  sort "$T/acked" >"$T/want"
  missing=$(comm -23 "$T/want" "$T/have.$i" | sed -n 1,5p)
  if [ -n "$missing" ]; then
    echo "n$i misses acknowledged writes: $missing"
    return 1
  fi
  for k in $(awk '$1 % 4 == 0' "$T/acked" | tail -n 5); do
    [ "$(fs_at "$i" $opts -cat "/w/$k")" = "v$k" ] || { echo "n$i: /w/$k lost its content"; return 1; }
  done
}

# fs_digest I: node nI's own namespace digest, "DIGEST APPLIED_INDEX NODE" (raftvisor fs
# -digest, stale: nI answers from what it has applied, at once).
fs_digest() { fs_at "$1" --stale -digest; }

# same_applied_index N: true when nodes n1..nN, each asked directly, report the same applied
# index; their answers stay in $T/digests (one line per node) for digests_equal.
same_applied_index() {
  local n=$1 i out
  : >"$T/digests"
  for ((i = 1; i <= n; i++)); do
    out=$(fs_digest "$i") || return 1
    [ "${out##* }" = "$(client_addr "$i")" ] || return 1 # answered by nI itself
    echo "$out" >>"$T/digests"
  done
  [ "$(awk '{print $2}' "$T/digests" | sort -u | wc -l)" -eq 1 ]
}

# digests_equal N: waits (bounded) until nodes n1..nN are at one applied index, then requires
# one digest: replicas that applied the same log must hold byte-identical namespaces. Sets
# DIGEST and DIGEST_INDEX (call it in this shell, not in $(...), so a failure stops the test).
digests_equal() {
  local n=$1
  wait_for "n1..n$n at one applied index (-digest)" 30 same_applied_index "$n"
  [ "$(awk '{print $1}' "$T/digests" | sort -u | wc -l)" -eq 1 ] ||
    fail "replicas at one applied index hold different namespaces: $(tr '\n' ';' <"$T/digests")"
  DIGEST=$(awk 'NR == 1 {print $1}' "$T/digests")
  DIGEST_INDEX=$(awk 'NR == 1 {print $2}' "$T/digests")
}

# ---- fencing ----------------------------------------------------------------------------------

# fence_yaml NAME ACTORS HA_YAML: writes $T/NAME.yaml, node NAME of the two-node cluster n1, n2
# (ports from FENCE_BASE, chosen once per scenario), running ACTORS (names, space-separated;
# the fencer is added by the configuration when HA_YAML configures methods). HA_YAML is the
# body of the ha: section, indented by two spaces. Prints the file's path.
FENCE_BASE=${FENCE_BASE:-$((10000 + RANDOM % 20000))} # below the ephemeral range
fence_yaml() {
  local name=$1 actors="" a
  for a in $2; do actors+="  - {name: $a}
"; done
  cat >"$T/$name.yaml" <<YAML
node:
  id: $name
  data-dir: $T/$name
cluster:
  id: fc
  nodes:
    - {public-key: "$(key_of n1)", id: n1, host: 127.0.0.1, raft-port: $((FENCE_BASE + 1)), client-port: $((FENCE_BASE + 101))}
    - {public-key: "$(key_of n2)", id: n2, host: 127.0.0.1, raft-port: $((FENCE_BASE + 2)), client-port: $((FENCE_BASE + 102))}
$(security_section "$name")
supervisor:
  heartbeat-interval-ms: 100
  heartbeat-timeout-ms: 1500
  restart-min-delay-ms: 50
health:
  ping-interval-ms: 200
  ping-timeout-ms: 2000
actors:
$actors
ha:
$3
YAML
  echo "$T/$name.yaml" >>"$T/configs"
  echo "$T/$name.yaml"
}

# listening PORT: true while some process listens on tcp PORT.
listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

# file_lines FILE N: true once FILE has at least N lines.
file_lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# ---- the off-cluster replica (ots-replicator, file:// backend) --------------------------------

# repl_cluster N: an N-node cluster running the whole node with the replica on (ots.enabled, a
# file:// endpoint in $T/remote, the shared directory), started, a leader agreed, a write taken.
# REPL_METRICS_BASE set: node nI also serves /metrics on 127.0.0.1:REPL_METRICS_BASE+I.
repl_cluster() {
  local n=$1 i
  cluster_yaml "$n" health-monitor raft-peer kv-store
  mkdir -p "$T/remote"
  for ((i = 1; i <= n; i++)); do
    if [ -n "${REPL_METRICS_BASE:-}" ]; then
      echo "metrics: {listen: \"127.0.0.1:$((REPL_METRICS_BASE + i))\"}" >>"$T/n$i.yaml"
    fi
    printf 'ots:\n  enabled: true\n  endpoint: "file://%s/remote"\n' "$T" >>"$T/n$i.yaml"
    start_node "$T/n$i.yaml"
  done
  wait_for "one leader agreed by all" 20 leader_agreed "$n"
  wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /
}

# meta_synced: true when `raftvisor meta-status` (through n1's YAML) shows the leader's
# _synced=1 (the remote copy holds every committed entry).
meta_synced() {
  local out
  out=$("$RV" meta-status -c "$T/n1.yaml" 2>/dev/null) || true
  case "$out" in *"_synced=1 "*) return 0 ;; esac
  return 1
}

# s_applied_same N: true when nodes n1..nN (raftvisor status, cheap) report one applied index
# equal to their commit index.
s_applied_same() {
  local n=$1 i a c all=""
  for ((i = 1; i <= n; i++)); do
    a=$(raft_field "$T/n$i.yaml" applied) || return 1
    c=$(raft_field "$T/n$i.yaml" commit) || return 1
    [ -n "$a" ] && [ "$a" = "$c" ] || return 1
    all+="$a "
  done
  [ "$(echo $all | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ]
}

# s_remote_matches N: true when the remote copy's digest (meta-status --digest) equals the
# digest of every node n1..nN at the same index; the answers stay in $T/remote.digests. Each
# digest reads a whole store: called a few times, not polled.
s_remote_matches() {
  local n=$1 r
  r=$("$RV" meta-status --digest -c "$T/n1.yaml" 2>/dev/null) || return 1
  same_applied_index "$n" || return 1
  echo "$r" >"$T/remote.digests"
  cat "$T/digests" >>"$T/remote.digests"
  [ "$(awk '{print $2}' "$T/remote.digests" | sort -u | wc -l)" -eq 1 ] || return 1
  [ "$(awk '{print $1}' "$T/remote.digests" | sort -u | wc -l)" -eq 1 ]
}

# remote_digest_equal N: waits (bounded) for _synced=1 and for n1..nN to settle at one applied
# index, then requires the remote copy and every node to show one digest at one index (the copy
# holds exactly the cluster's namespace); a few tries, in case an entry (a client session)
# slipped in between. Sets REMOTE_DIGEST and REMOTE_INDEX.
remote_digest_equal() {
  local n=$1 try
  for try in 1 2 3 4 5; do
    wait_for "meta-status shows _synced=1 on the leader" 60 meta_synced
    wait_for "n1..n$n settled at one applied index" 60 s_applied_same "$n"
    if s_remote_matches "$n"; then
      REMOTE_DIGEST=$(awk 'NR == 1 {print $1}' "$T/remote.digests")
      REMOTE_INDEX=$(awk 'NR == 1 {print $2}' "$T/remote.digests")
      return 0
    fi
  done
  fail "the remote copy and the nodes differ: $(tr '\n' ';' <"$T/remote.digests" 2>/dev/null)"
}

# manifest_terms_monotonic: true when the file backend's manifests, in sequence order, never go
# back to a lower term (a deposed leader's late commit never landed after a newer claim). The
# last 16 are kept; one removed by the leader's housekeeping while this reads is skipped.
manifest_terms_monotonic() {
  local prev=0 f t
  for f in $(ls "$T/remote/it"/manifest-* | sort); do
    t=$(sed -n 's/^term //p' "$f" 2>/dev/null) || continue
    [ -n "$t" ] || continue
    [ "$t" -ge "$prev" ] || { echo "$f: term $t after term $prev"; return 1; }
    prev=$t
  done
}
