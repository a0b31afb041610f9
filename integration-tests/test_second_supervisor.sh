#!/usr/bin/env bash
# A second supervisor for the same node is refused (a lock, not a pid file), and bad YAML
# starts nothing.
source "$(dirname "$0")/lib.sh"
cfg=$(node_yaml n1)
start_node "$cfg"
sup=$(supervisor_pid "$cfg")
out=$("$RV" start -c "$cfg" 2>&1)
code=$?
[ $code -eq 1 ] || fail "a second start exited $code, expected 1"
assert_contains "$out" "node n1 is already running (supervisor pid $sup holds" "second start"
out=$("$RV" start --daemon -c "$cfg" 2>&1)
[ $? -eq 1 ] || fail "a second start --daemon should fail"
assert_contains "$out" "already running" "second start --daemon"
alive "$sup" || fail "the first supervisor died"
assert_eq "$(status_json "$cfg" | jq -r .supervisor_pid)" "$sup" "supervisor pid"

# bad YAML: a clear error naming the file and line; nothing started
bad=$T/bad.yaml
printf 'node:\n  id: b1\n  data-dir: %s/b1\ncluster:\n  nodes:\n    - {id: b1, host: 127.0.0.1, raft-port: abc, client-port: 7000}\n' "$T" >"$bad"
out=$("$RV" start --daemon -c "$bad" 2>&1)
code=$?
[ $code -eq 1 ] || fail "start with bad YAML exited $code, expected 1"
assert_contains "$out" "$bad:6:" "bad YAML error names file and line"
assert_contains "$out" "raft-port" "bad YAML error names the key"
[ -e "$T/b1/run/supervisor.lock" ] && fail "bad YAML still created the node's run directory"
log "ok"
