#!/usr/bin/env bash
# The harness check catches what it claims: each case of harness/scenario.sh (a scenario run as a
# child, with lib.sh) that hides a problem (an actor that aborts at exit, sanitizer text in a
# log, even a wiped node's log, a restart the test did not cause or more of them than declared, a
# supervisor gone, a failing bare call or assignment, an explicit fail, a command that hangs)
# must exit non-zero and print the offending line; the same scenarios with the problem declared,
# or none, must pass.
source "$(dirname "$0")/lib.sh"
S=$(dirname "$0")/harness/scenario.sh
# run_case CASE WANT_RC TEXT: runs the case, checks its exit code (0, or 1 for "fails") and
# that its output holds TEXT
run_case() {
  local c=$1 want=$2 text=$3 out rc=0
  out=$(HARNESS_CASE=$c HARNESS_OUT=$T bash "$S" 2>&1) || rc=$?
  echo "$out" >"$T/case-$c.out"
  if [ "$want" = 0 ]; then
    [ "$rc" -eq 0 ] || fail "case $c: expected to pass, exited $rc: $out"
  else
    [ "$rc" -ne 0 ] || fail "case $c: the problem went unnoticed (exit 0): $out"
  fi
  assert_contains "$out" "$text" "case $c's output"
  # a failed case keeps its directory: remove it (it is the child's, not ours)
  local dir
  dir=$(sed -n 's/.*the scenario.s files are kept in \(\/tmp\/rvit\.[A-Za-z0-9]*\).*/\1/p;T;q' <<<"$out")
  if [ -n "$dir" ]; then rm -rf "$dir"; fi
  log "case $c: exit $rc, as expected"
}
run_case clean 0 "the scenario's body ends"
run_case abort-at-stop 1 "node n1: actor leaky did not end cleanly at stop: killed by signal 6"
run_case abort-at-stop-declared 0 "the scenario's body ends"
run_case sanitizer-text 1 "runtime error: signed integer overflow"
run_case asan-text 1 "==4242==ERROR: AddressSanitizer: heap-use-after-free"
run_case sanitizer-file 1 "==4243==ERROR: LeakSanitizer: detected memory leaks"
run_case restart 1 "node n1: actor a1 restarted 1 times, the test caused 0 (last exit: killed by signal 9)"
run_case restart-declared 0 "the scenario's body ends"
run_case restart-twice 1 "node n1: actor a1 restarted 2 times, the test caused 1"
run_case supervisor-gone 1 "node n1: its supervisor"
bare_line=$(grep -n '^    missing$' "$S" | cut -d: -f1)
run_case bare-false 1 "exited with 1 at scenario.sh:$bare_line"
[ ! -e "$T/reached" ] || fail "bare-false went on after the failure"
run_case failed-assignment 1 "exited with 1"
run_case fail 1 "FAIL: failing on purpose"
# a command that hangs: the watchdog (lib.sh, armed by ctest's timeout) names it, kills it, and
# the scenario fails and stops its node before ctest's SIGKILL would leave the node running
RV_IT_WATCHDOG_SECS=3 run_case hung 1 "FAIL: still running after 3 s"
assert_contains "$(cat "$T/case-hung.out")" "sleep 120" "the watchdog names the stuck command"
assert_contains "$(cat "$T/case-hung.out")" "exited with 137" "the stuck command fails"
wait_for "the hung case's node stopped" 10 gone "$(cat "$T/supervisor.pid")"
# the sanitizer case names the file the line is in
assert_contains "$(cat "$T/case-sanitizer-text.out")" "sanitizer report in" "the sanitizer failure names the log"
log "ok: every hidden problem failed its scenario"
# No scenario pipes into a reader that quits early (grep -q, grep -m, head): under pipefail the
# writer, if it has more to write (bash's echo and printf write line by line), dies of SIGPIPE
# and fails the pipeline now and then, a false failure (stop 19's CI: the conformance test's
# `printf | grep -Eq`). lib.sh's `matches`, `first_line` and `clip` take the text instead.
early=$(grep -rnE '\|\s*(grep(\s+-[A-Za-z]+)*\s+-[A-Za-z]*[qm][0-9]*(\s|$)|[h]ead\b)' "$(dirname "$0")" --include='*.sh' |
  grep -vE '^[^:]+:[0-9]+:\s*#' || true)
[ -z "$early" ] || fail "a pipe into a reader that quits early (use matches/first_line/clip): $early"
log "ok: no pipe into grep -q or head in any scenario"
