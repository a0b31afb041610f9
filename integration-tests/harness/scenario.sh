#!/usr/bin/env bash
# A scenario for test_harness_check.sh, run by it as a child: it sources lib.sh like any
# scenario, does what HARNESS_CASE says, and exits 0 by itself; the harness check (or set -e)
# must turn the cases that hide a problem into a failure.
source "$(dirname "$0")/../lib.sh"
A=$RV_BIN/raftvisor-test-actor
case $HARNESS_CASE in
  clean) # nothing wrong: must pass
    cfg=$(node_yaml n1)
    start_node "$cfg"
    wait_for "a1 running" 10 field_is "$cfg" a1 state running
    ;;
  abort-at-stop) # an actor aborts at exit (ASan's way of reporting a leak)
    cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: leaky, exec: $A, args: [--abort-at-stop]}")
    start_node "$cfg"
    ;;
  abort-at-stop-declared) # the same, declared by the test: must pass
    cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: leaky, exec: $A, args: [--abort-at-stop]}")
    start_node "$cfg"
    expect_unclean_stop n1 leaky
    ;;
  sanitizer-text) # a sanitizer report in an actor's log, and the actor otherwise fine
    cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: noisy, exec: $A, args: [--say, 'x.c:12:5: runtime error: signed integer overflow']}")
    start_node "$cfg"
    wait_for "noisy's log line" 10 grep -q "runtime error" "$T/n1/log/noisy.log"
    ;;
  asan-text) # an ASan report in a node that the test wiped (its logs are kept aside)
    cfg=$(node_yaml n1 "  - {name: health-monitor}
  - {name: noisy, exec: $A, args: [--say, '==4242==ERROR: AddressSanitizer: heap-use-after-free']}")
    start_node "$cfg"
    wait_for "noisy's log line" 10 grep -q "AddressSanitizer" "$T/n1/log/noisy.log"
    stop_node "$cfg"
    wipe_node n1
    ;;
  sanitizer-file) # a report a process wrote to its log_path file (a CLI call, a tool)
    printf '==4243==ERROR: LeakSanitizer: detected memory leaks\n' >"$T/sanitizer.4243"
    ;;
  restart) # an actor restarts, the test did not say it would cause it
    cfg=$(node_yaml n1)
    start_node "$cfg"
    kill -9 "$(actor_pid "$cfg" a1)"
    wait_for "a1 restarted" 10 field_is "$cfg" a1 restarts 1
    ;;
  restart-declared) # the same, declared: must pass
    cfg=$(node_yaml n1)
    start_node "$cfg"
    expect_restart n1 a1
    kill -9 "$(actor_pid "$cfg" a1)"
    wait_for "a1 restarted" 10 field_is "$cfg" a1 restarts 1
    ;;
  restart-twice) # two restarts where the test declared one
    cfg=$(node_yaml n1)
    start_node "$cfg"
    expect_restart n1 a1
    kill -9 "$(actor_pid "$cfg" a1)"
    wait_for "a1 restarted" 10 field_is "$cfg" a1 restarts 1
    wait_for "a1 running" 10 field_is "$cfg" a1 state running
    kill -9 "$(actor_pid "$cfg" a1)"
    wait_for "a1 restarted twice" 10 field_is "$cfg" a1 restarts 2
    ;;
  supervisor-gone) # the node's supervisor dies and the test does not say so
    cfg=$(node_yaml n1)
    start_node "$cfg"
    kill -9 "$(supervisor_pid "$cfg")"
    wait_for "the supervisor gone" 10 gone "$(supervisor_pid "$cfg")"
    ;;
  bare-false) # a helper's failure in a bare call (as fs_all_acked was): set -e must stop here
    missing() { echo "something is missing"; return 1; }
    missing
    echo "not reached" >"$T/reached"
    ;;
  failed-assignment) # a failing command substitution
    out=$("$RV" status -c /nonexistent.yaml 2>&1)
    ;;
  hung) # a command that never returns (run with RV_IT_WATCHDOG_SECS=3): the watchdog names it
    cfg=$(node_yaml n1)
    start_node "$cfg"
    supervisor_pid "$cfg" >"$HARNESS_OUT/supervisor.pid"
    out=$(sleep 120)
    ;;
  fail) # an explicit fail: its exit code survives the cleanup
    fail "failing on purpose"
    ;;
  *) echo "unknown HARNESS_CASE $HARNESS_CASE" >&2; exit 2 ;;
esac
log "the scenario's body ends"
