#!/usr/bin/env bash
# Exactly-once: a write sent twice with the same client id and seq (a client retrying after a
# lost answer, here through a follower that redirects) applies once and both answers are the
# first apply's outcome; even a different write carrying that id and seq only gets the recorded
# outcome and changes nothing. rv-fs-retry (client/tests) drives librvclient's session hook.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
f=$(follower_of 3 "$leader")
# the follower first: every attempt is redirected to the leader
nodes=$(client_addr "$f")
for i in 1 2 3; do [ "$i" = "$f" ] || nodes+=",$(client_addr "$i")"; done
before=$(fs 1 -count / | awk '{print $1}')
out=$("$RV_BIN/rv-fs-retry" "$nodes" /once /other) || fail "rv-fs-retry: $out"
log "$(echo "$out" | tr '\n' ';')"
first=$(echo "$out" | sed -n 's/^first //p')
again=$(echo "$out" | sed -n 's/^again //p')
other=$(echo "$out" | sed -n 's/^other //p')
assert_contains "$first" "code=0 replayed=0" "the first send"
index=$(echo "$first" | sed 's/.*index=\([0-9]*\).*/\1/')
[ "$index" -gt 0 ] || fail "the first send's index: $first"
assert_eq "$again" "${first/replayed=0/replayed=1}" "the retry's answer (the first outcome)"
assert_eq "$other" "${first/replayed=0/replayed=1}" "another write with the same id and seq"
# applied once: one directory more, /other never made; the same on every node
assert_eq "$(fs 1 -count / | awk '{print $1}')" $((before + 1)) "directories after the retries"
expect_fail 1 "stat: \`/other': No such file or directory" fs 1 -stat /other
dirs_on() { [ "$(fs_at "$1" --stale -count / | awk '{print $1}')" = "$2" ]; }
for i in 1 2 3; do wait_for "n$i applied the write once" 10 dirs_on "$i" $((before + 1)); done
# a fresh client's mkdir of the same path is a new write: it fails, as it should
expect_fail 1 "mkdir: \`/once': File exists" fs 1 -mkdir /once
log "ok: applied once, the first result returned to every retry"
