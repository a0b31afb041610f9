#!/usr/bin/env bash
# The CLI's contract with operators and their tools: version, --name=value options, tap of an
# unknown actor, status without access to the run directory ("permission denied", never "not
# running": a monitoring agent would page "node down"), SIGHUP reopens the log files (logrotate)
# and leaves the node running, and exit codes that tell "nothing runs there" (3) from "running,
# but no quorum" (1), with the error printed once.
source "$(dirname "$0")/lib.sh"

out=$("$RV" version) || fail "raftvisor version failed"
[[ "$out" =~ ^raftvisor\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "raftvisor version printed \"$out\""
assert_eq "$("$RV" --version)" "$out" "--version"
assert_contains "$("$RV" --help)" "--version" "--help lists --version"
expect_fail 2 "unexpected argument \"x\"" "$RV" version x

cfg=$(node_yaml solo)
expect_fail 3 "node solo is not running" "$RV" status --config="$cfg"
code=0; out=$("$RV" status --json=yes -c "$cfg" 2>&1) || code=$?; [ $code -eq 2 ] || fail "--json=yes should be a usage error"
out=$("$RV" config check --config="$cfg") || fail "config check --config=FILE failed: $out"
start_node "$cfg"
out=$("$RV" status --json --config="$cfg") || fail "status --config=FILE failed"
assert_eq "$(echo "$out" | jq -r .node)" solo "status --config=FILE"

# tap: an actor that the node does not have is a usage error naming the ones it has
expect_fail 2 "node solo has no actor named \"nosuch\" (it has: supervisor, health-monitor, a1, a2)" \
  "$RV" tap -c "$cfg" --actor nosuch --count 1
out=$("$RV" tap -c "$cfg" --actor=a1 --type=HeartbeatAck --count=1 --timeout=20) ||
  fail "tap --actor=a1 failed"
assert_contains "$out" "solo/a1 -> solo/supervisor HeartbeatAck" "tap --actor=a1"

# status as a user who may not enter the run directory (0700, the node's user's); the node's
# key pair is opened to that user for this part only (the YAML names it, and the loader reads
# it: otherwise the refusal would be about the key file, not the run directory)
chmod 755 "$T" "$T/keys"
chmod 644 "$cfg" "$T/keys/solo.secret"
if [ "$(id -u)" = 0 ]; then
  as_other=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
else
  chmod 000 "$T/solo/run"
  as_other=()
fi
code=0; out=$("${as_other[@]}" "$RV" status -c "$cfg" 2>&1) || code=$?
[ "$(id -u)" = 0 ] || chmod 700 "$T/solo/run"
[ $code -eq 1 ] || fail "status without access to the run dir exited $code, expected 1 ($out)"
assert_contains "$out" "permission denied: cannot read $T/solo/run/supervisor.lock" "status, no access"
case "$out" in *"not running"*) fail "status without access said: $out" ;; esac
out=$("${as_other[@]}" "$RV" stop -c "$cfg" 2>&1) && fail "stop without access succeeded: $out"
assert_contains "$out" "permission denied" "stop, no access"
chmod 600 "$T/keys/solo.secret"
chmod 700 "$T/keys"

# SIGHUP: logrotate moved the files away; the node reopens them and keeps running
sup=$(supervisor_pid "$cfg")
a1=$(actor_pid "$cfg" a1)
mv "$T/solo/log/supervisor.log" "$T/solo/log/supervisor.log.1"
mv "$T/solo/log/a1.log" "$T/solo/log/a1.log.1"
kill -HUP "$sup"
reopened() { grep -q "log file reopened" "$T/solo/log/$1.log" 2>/dev/null; }
wait_for "supervisor.log reopened" 20 reopened supervisor
wait_for "a1.log reopened" 20 reopened a1
alive "$sup" || fail "the supervisor stopped on SIGHUP"
assert_eq "$(actor_pid "$cfg" a1)" "$a1" "a1's pid after SIGHUP (not restarted)"
assert_eq "$(status_json "$cfg" | jq -r .state)" running "node state after SIGHUP"
expect_restart solo a2 1
"$RV" restart -c "$cfg" a2 >/dev/null || fail "restart a2 failed"
wait_for "a2 restarted" 10 field_is "$cfg" a2 restarts 1
wait_for "the supervisor logs to the new file" 10 grep -q "spawned actor a2" "$T/solo/log/supervisor.log"

# fs and bench against a cluster where nothing runs: exit 3, the error printed once
cluster_yaml 3 health-monitor raft-peer kv-store
code=0; out=$(fs 1 --retry 1000 -mkdir /a 2>&1) || code=$?
[ $code -eq 3 ] || fail "fs on a stopped cluster exited $code, expected 3 ($out)"
assert_eq "$(echo "$out" | wc -l)" 1 "lines fs printed on a stopped cluster"
assert_contains "$out" "mkdir: \`/a': no node could be reached within 1000 ms (tried 127.0.0.1:" "fs, stopped cluster"
assert_contains "$out" "is the cluster running?" "fs, stopped cluster"
case "$out" in *attempts*) fail "fs counted attempts it never made: $out" ;; esac
code=0; out=$("$RV" bench -c "$T/n1.yaml" --retry 1000 --workload stat --clients 1 --ops 1 2>&1) || code=$?
[ $code -eq 3 ] || fail "bench on a stopped cluster exited $code, expected 3 as fs does ($out)"
assert_contains "$out" "no node could be reached" "bench, stopped cluster"
assert_eq "$(echo "$out" | grep -c "no node could be reached")" 1 "bench prints the error once"
case "$out" in *"0 attempts"*) fail "bench counted attempts it never made: $out" ;; esac
# raft and snapshot save on a stopped node: not running (3), as status says
code=0; out=$("$RV" raft --json -c "$T/n1.yaml" transfer n2 2>&1) || code=$?
[ $code -eq 3 ] || fail "raft on a stopped node exited $code, expected 3 ($out)"
code=0; out=$("$RV" snapshot save "$T/s.rvs" -c "$T/n1.yaml" 2>&1) || code=$?
[ $code -eq 3 ] || fail "snapshot save from a stopped node exited $code, expected 3 ($out)"
assert_eq "$(echo "$out" | wc -l)" 1 "lines snapshot save printed for a stopped node"
assert_contains "$out" "is the node running?" "snapshot save, stopped node"
[ ! -e "$T/s.rvs" ] && [ ! -e "$T/s.rvs.part" ] || fail "a failed save left a file"

# one node of three running: it answers, but without quorum nobody decides; not "not running"
start_node "$T/n1.yaml"
code=0; out=$(fs 1 --retry 1500 -mkdir /a 2>&1) || code=$?
[ $code -eq 1 ] || fail "fs without quorum exited $code, expected 1 ($out)"
assert_contains "$out" "mkdir: \`/a': no node decided it within 1500 ms" "fs without quorum"
case "$out" in *"cluster running"*) fail "fs without quorum asked if the cluster runs: $out" ;; esac
code=0; out=$("$RV" bench -c "$T/n1.yaml" --retry 1500 --workload create --clients 1 --ops 1 2>&1) || code=$?
[ $code -eq 1 ] || fail "bench without quorum exited $code, expected 1 as fs does ($out)"
# raft admin without quorum: the node runs, so a failure (1), as one JSON object with --json
code=0; out=$("$RV" raft --json -c "$T/n1.yaml" transfer n2) || code=$?
[ $code -eq 1 ] || fail "raft without quorum exited $code, expected 1 ($out)"
assert_eq "$(echo "$out" | jq -r .ok)" false "raft --json without quorum"
[ "$(echo "$out" | jq -r .error)" != null ] || fail "raft --json without quorum names no error: $out"
log "ok"
