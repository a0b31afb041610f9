#!/usr/bin/env bash
# Exactly-once sessions bound to their principal (issue 8): mallory opens sessions by the
# hundred (more than the cluster's whole session table holds, security.sessions-max 200) and
# only mallory's own oldest sessions go (security.sessions-per-principal 50), so alice's retry
# of her write, sent again with the same session and seq after the flood, is still recognised:
# the recorded outcome, applied once. A forged seq on alice's session from mallory is refused
# (RV_EPERM) and applies nothing, and alice's next seq goes through (it would be ESTALE had the
# forged seq been taken). rv-fs-session (client/tests) drives the sessions by hand.
source "$(dirname "$0")/lib.sh"
SECURITY_YAML="security:
  insecure: true
  superuser: $(id -un)
  sessions-max: 200
  sessions-per-principal: 50"
unset RV_CLIENT_KEY RV_SERVER_KEYS # an insecure cluster: plain tcp, asserted users
fs_cluster 3
fs 1 -mkdir /shared
fs 1 -chmod 777 /shared
nodes="$(client_addr 1),$(client_addr 2),$(client_addr 3)"
S=$RV_BIN/rv-fs-session
as() { local u=$1; shift; HADOOP_USER_NAME=$u "$S" "$nodes" "$@"; }

first=$(as alice write a11ce 1 /shared/a1) || fail "rv-fs-session: $first"
assert_contains "$first" "code=0 replayed=0" "alice's first write"
index=$(echo "$first" | sed 's/.*index=\([0-9]*\).*/\1/')

out=$(as mallory flood 500 /shared/m 2>"$T/flood.err") || fail "rv-fs-session flood: $out $(cat "$T/flood.err")"
case "$out" in
  *"ok=500 failed=0"*) ;;
  *) # seen once in CI: a fresh client of the flood reached no node for its whole 15 s, and the
    # next ones too. What that client counted, whether a new process gets through, the sockets:
    log "flood: $(cat "$T/flood.err")"
    log "a new process now: $(as mallory write 5eed 1 /shared/probe 2>&1)"
    ports=$(sed 's/[^,]*://g; s/,/|/g' <<<"$nodes")
    log "tcp states on the client ports: $(ss -tanH | grep -E ":($ports) " | awk '{print $1}' |
      sort | uniq -c | tr '\n' ' ')"
    fail "mallory's 500 sessions: $out" ;;
esac
log "mallory opened 500 sessions: $out"

again=$(as alice write a11ce 1 /shared/a1) || fail "rv-fs-session: $again"
assert_eq "$again" "code=0 replayed=1 index=$index msg=" "alice's retry after the flood"
log "ok: alice's retry answered with its first outcome (index $index), not applied again"

forged=$(as mallory write a11ce 1000 /shared/forged) || fail "rv-fs-session: $forged"
assert_contains "$forged" "code=26 " "mallory's forged seq on alice's session"
assert_contains "$forged" "the session belongs to another user" "the refusal's reason"
peek=$(as mallory write a11ce 1 /shared/a1) || fail "rv-fs-session: $peek"
assert_contains "$peek" "code=26 replayed=0" "mallory replaying alice's seq 1"
next=$(as alice write a11ce 2 /shared/a2) || fail "rv-fs-session: $next"
assert_contains "$next" "code=0 replayed=0" "alice's next seq after the forgery"
expect_fail 1 "stat: \`/shared/forged': No such file or directory" fs 1 -stat /shared/forged
log "ok: a forged seq on another principal's session is refused and blocks nothing"

d1=$(fs_at 1 -digest | awk '{print $1}')
same_digest() { [ "$(fs_at "$1" -digest | awk '{print $1}')" = "$d1" ]; }
for i in 2 3; do wait_for "n$i's namespace equals n1's" 10 same_digest "$i"; done
