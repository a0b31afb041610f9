#!/usr/bin/env bash
# The CLI is two programs (supervisor/CMakeLists.txt): raftvisor, which every `fs`, `haadmin`
# or `status` call starts, does not load RocksDB, libcurl or libmicrohttpd (with them, 59 shared
# libraries cost 10 ms of every call); it hands start, snapshot and meta-status to
# raftvisor-node beside it, in the same process. Without raftvisor-node those three say so and
# exit 1; the rest work alone.
source "$(dirname "$0")/lib.sh"
libs=$(ldd "$RV")
for lib in librocksdb libcurl libmicrohttpd; do
  case "$libs" in *"$lib"*) fail "raftvisor loads $lib: $(grep "$lib" <<<"$libs")" ;; esac
done
case "$(ldd "$RV_BIN/raftvisor-node")" in *librocksdb*) ;; *) fail "raftvisor-node without RocksDB?" ;; esac
# the three commands reach raftvisor-node, whose texts they are
for cmd in start snapshot meta-status; do
  out=$("$RV" "$cmd" --help) || fail "raftvisor $cmd --help failed"
  assert_contains "$out" "usage: raftvisor $cmd" "raftvisor $cmd --help"
  out=$("$RV" help "$cmd") || fail "raftvisor help $cmd failed"
  assert_contains "$out" "usage: raftvisor $cmd" "raftvisor help $cmd"
done
code=0
out=$("$RV" start --no-such-option 2>&1) || code=$?
assert_eq "$code" 2 "raftvisor start with a bad option: usage error from raftvisor-node"
assert_contains "$out" "raftvisor start" "raftvisor start with a bad option"
# a node started through raftvisor is raftvisor-node's process, at the pid raftvisor had
cluster_yaml 1 health-monitor
"$RV" start -c "$T/n1.yaml" >"$T/fg.out" 2>&1 &
fg=$!
echo "$fg" >>"$T/pids"
echo "started n1" >>"$T/nodes"
up() { [ "$(supervisor_pid "$T/n1.yaml" 2>/dev/null)" = "$fg" ]; }
wait_for "the foreground supervisor holds the node's lock at raftvisor's pid $fg" 20 up
assert_eq "$(readlink "/proc/$fg/exe")" "$(readlink -f "$RV_BIN/raftvisor-node")" \
  "the program at pid $fg"
stop_node "$T/n1.yaml"
wait "$fg" || fail "the foreground raftvisor start exited with $?: $(cat "$T/fg.out")"
# raftvisor alone (its libraries found as before): the three commands say what is missing
mkdir -p "$T/alone"
cp "$RV" "$T/alone/raftvisor"
code=0
out=$("$T/alone/raftvisor" start --help 2>&1) || code=$?
assert_eq "$code" 1 "raftvisor start without raftvisor-node beside it"
assert_contains "$out" "cannot run $T/alone/raftvisor-node" "raftvisor start without raftvisor-node"
out=$("$T/alone/raftvisor" fs --help) || fail "raftvisor fs --help alone failed"
assert_contains "$out" "usage: raftvisor fs" "raftvisor fs --help alone"
log "PASS"
