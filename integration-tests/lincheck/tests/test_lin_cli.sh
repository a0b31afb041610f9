#!/usr/bin/env bash
# rv-lincheck's contract with the integration tests: exit 0 linearizable, 1 NOT linearizable
# (with the report), 2 bad input or usage ("error: " naming file and line), 3 unknown (budget).
# Usage: test_lin_cli.sh PATH/TO/rv-lincheck DATA_DIR
set -u
BIN=$1
DATA=$2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect CODE "TEXT" ARGS...: runs rv-lincheck ARGS, checks the exit code and that the combined
# output contains TEXT.
expect() {
  local want=$1 text=$2
  shift 2
  local out code
  out=$($BIN "$@" 2>&1)
  code=$?
  [ "$code" -eq "$want" ] || fail "rv-lincheck $*: exit $code, expected $want; output: $out"
  case "$out" in
    *"$text"*) ;;
    *) fail "rv-lincheck $*: output lacks \"$text\"; output: $out" ;;
  esac
}

expect 0 "linearizable: 10 ops in 3 partitions" "$DATA/ns_ok.jsonl"
expect 0 "linearizable: 10 ops in 3 partitions" "$DATA/ns_ok.jsonl" --model namespace --timeout-s 5
expect 0 "stats: 10 ops (10 searched) in 3 partitions" "$DATA/ns_ok.jsonl" --stats
expect 1 "NOT linearizable: 1 of 2 partitions failed; partition \"/lin/f0\" (3 ops)" \
  "$DATA/ns_stale_cat.jsonl"
expect 1 "  client 2  cat /lin/f0 -> \"v1\"  [line 3, 500..600 us]: impossible in this state" \
  "$DATA/ns_stale_cat.jsonl"
expect 2 "error: $DATA/ns_bad_line.jsonl:3:" "$DATA/ns_bad_line.jsonl"
expect 2 "is a parent of \"/lin/d/f\"" "$DATA/ns_nested.jsonl"
expect 2 "op: \"write\" is not an operation of the namespace model" "$DATA/reg_ok.jsonl"
expect 0 "linearizable: 5 ops in 1 partitions" "$DATA/reg_ok.jsonl" --model register
expect 3 "unknown: budget exhausted (step budget) after 1000 steps" \
  "$DATA/reg_exponential.jsonl" --model register --max-steps 1000
expect 3 "unknown: budget exhausted (memory budget)" \
  "$DATA/reg_exponential.jsonl" --model register --max-memory-mb 1
# the wall-clock deadline: a search that would run for ages stops (exit 3, "stopped"); how long
# it took is printed, not asserted; a --timeout-s that never fires fails at the liveness
# deadline of 120 s (timeout(1)) instead of hanging
start=$(date +%s%3N)
BIN_REAL=$BIN
BIN="timeout 120 $BIN_REAL"
expect 3 "unknown: budget exhausted (stopped)" "$DATA/reg_exponential.jsonl" --model register \
  --timeout-s 1
BIN=$BIN_REAL
echo "--timeout-s 1 stopped the search after $(($(date +%s%3N) - start)) ms"
# stdin
out=$("$BIN" - --model register <"$DATA/reg_ok.jsonl") || fail "reading stdin failed: $out"
# usage
expect 0 "usage: rv-lincheck" --help
expect 2 "error: no history file given" --model register
expect 2 "error: unknown option --bogus" "$DATA/ns_ok.jsonl" --bogus
expect 2 "error: --timeout-s: expected an integer in 0..86400, got \"abc\"" "$DATA/ns_ok.jsonl" \
  --timeout-s abc
expect 2 "error: --timeout-s: expected an integer in 0..86400, got \"-1\"" "$DATA/ns_ok.jsonl" \
  --timeout-s -1
expect 2 "error: --max-steps needs a value" "$DATA/ns_ok.jsonl" --max-steps
expect 2 "error: --model: unknown model \"kv\"" "$DATA/ns_ok.jsonl" --model kv
expect 2 "error: more than one history file" "$DATA/ns_ok.jsonl" "$DATA/reg_ok.jsonl"
expect 2 "error: /nonexistent/h.jsonl: No such file or directory" /nonexistent/h.jsonl

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)" >&2
  exit 1
fi
echo "ok"
