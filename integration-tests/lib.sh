# lib.sh: the small library every integration scenario sources. It makes a private directory,
# writes node YAML files, starts and stops nodes through the CLI only, waits for conditions with
# deadlines (never a bare sleep to synchronise), and on exit kills every process it started, by
# pid. Scenarios call `fail MESSAGE` to fail with context.
set -u
RV_BIN=${RV_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../build/bin" && pwd)}
RV=$RV_BIN/raftvisor
# short paths: unix socket paths are limited to 107 bytes
T=$(mktemp -d /tmp/rvit.XXXXXX)
SCENARIO=$(basename "$0" .sh)

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$SCENARIO" "$*"; }

dump_logs() {
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

# A process counts as alive unless it is gone or a zombie (state Z): a killed orphan lingers as a
# zombie until PID 1 reaps it.
alive() {
  local st
  st=$(awk '{sub(/.*\) /, ""); print substr($0, 1, 1)}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

cleanup() {
  local cfg pid
  # node_yaml runs in $(...): its list of configs is kept in a file, not a variable
  for cfg in $(cat "$T/configs" 2>/dev/null); do
    pid=$(supervisor_pid "$cfg")
    if [ -n "$pid" ] && alive "$pid"; then
      "$RV" stop -c "$cfg" >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null
    fi
  done
  # anything of ours still alive (by the pids recorded in the run dirs' logs) is killed
  for pid in $(cat "$T"/pids 2>/dev/null); do alive "$pid" && kill -9 "$pid" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

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

# node_yaml NAME [ACTOR_YAML]: writes $T/NAME.yaml for a one-node cluster; ACTOR_YAML is the
# body of the actors: list (default: the health-monitor and two well-behaved test actors).
node_yaml() {
  local name=$1 actors=${2:-}
  # below the kernel's ephemeral range (32768-60999), where outgoing connections take ports
  local port=$((10000 + RANDOM % 20000))
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
    - {id: $name, host: 127.0.0.1, raft-port: $port, client-port: $((port + 1))}
supervisor:
  heartbeat-interval-ms: 100
  heartbeat-timeout-ms: 1500
  restart-min-delay-ms: 50
  restart-max-delay-ms: 1000
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

start_node() {
  "$RV" start --daemon -c "$1" || fail "raftvisor start -c $1 failed"
  supervisor_pid "$1" >>"$T/pids"
}

supervisor_pid() {
  local run
  run=$(dirname "$1")/$(basename "$1" .yaml)/run
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
assert_contains() { case "$1" in *"$2"*) ;; *) fail "$3: expected to contain \"$2\", got: $1" ;; esac; }

# field_is CFG ACTOR FIELD VALUE: true when status shows that value (for wait_for, which must
# re-run the query each time, so never pass it "$(actor_field ...)").
field_is() { [ "$(actor_field "$1" "$2" "$3")" = "$4" ]; }
gone() { ! alive "$1"; }

# cluster_yaml N ACTORS...: writes $T/n1.yaml .. $T/nN.yaml for an N-node cluster on loopback
# with the given actors (names; programs beside raftvisor), prints nothing. Ports are random.
cluster_yaml() {
  local n=$1
  shift
  local base=$((10000 + RANDOM % 20000)) i k nodes="" actors="" # below the ephemeral range
  for ((k = 1; k <= n; k++)); do
    nodes+="    - {id: n$k, host: 127.0.0.1, raft-port: $((base + k)), client-port: $((base + 100 + k))}
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
  for ((i = 1; i <= n; i++)); do # (as start_node, quietly, and a failure shows the logs)
    "$RV" start --daemon -c "$T/n$i.yaml" >/dev/null || fail "raftvisor start -c $T/n$i.yaml failed"
    supervisor_pid "$T/n$i.yaml" >>"$T/pids"
  done
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
  local code=$1 msg=$2 out rc
  shift 2
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
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
  missing=$(comm -23 "$T/want" "$T/have.$i" | head -n 5)
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
    - {id: n1, host: 127.0.0.1, raft-port: $((FENCE_BASE + 1)), client-port: $((FENCE_BASE + 101))}
    - {id: n2, host: 127.0.0.1, raft-port: $((FENCE_BASE + 2)), client-port: $((FENCE_BASE + 102))}
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
