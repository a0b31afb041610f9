#!/usr/bin/env bash
# A second supervisor for the same node is refused (a lock, not a pid file), and bad YAML
# starts nothing.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
sup=$(supervisor_pid "$cfg")
expect_fail 1 "node n1 is already running (supervisor pid $sup holds" "$RV" start -c "$cfg"
expect_fail 1 "already running" "$RV" start --daemon -c "$cfg"
alive "$sup" || fail "the first supervisor died"
assert_eq "$(status_json "$cfg" | jq -r .supervisor_pid)" "$sup" "supervisor pid"

# bad YAML: a clear error naming the file and line; nothing started
bad=$T/bad.yaml
printf 'node:\n  id: b1\n  data-dir: %s/b1\ncluster:\n  nodes:\n    - {id: b1, host: 127.0.0.1, raft-port: abc, client-port: 7000}\n' "$T" >"$bad"
expect_fail 1 "$bad:6:" "$RV" start --daemon -c "$bad"
expect_fail 1 "raft-port" "$RV" start --daemon -c "$bad"
[ ! -e "$T/b1/run/supervisor.lock" ] || fail "bad YAML still created the node's run directory"
log "ok"
