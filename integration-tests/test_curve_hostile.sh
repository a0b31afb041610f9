#!/usr/bin/env bash
# Trust nothing on the wire (issue 8): the Raft and client ports take only CURVE keys the YAML
# lists, and on the Raft port a key speaks only as its own node. Before CURVE, any process that
# reached the Raft port presenting a down member's routing id was a full Raft peer: a forged
# higher-term message deposed the leader, a forged AppendEntries put a command straight into a
# follower's namespace (two replicas, one index, two digests), and any TCP client could do
# anything on the client port.
#
# With n3 down (its routing id free), rv-hostile-peer sends to the follower's Raft port, as n3:
#   - a RequestVote at a much higher term and an AppendEntries carrying mkdir /forged, with no
#     key and with a key nobody listed: refused at the handshake, counted;
#   - the same with n(leader)'s own key, presenting n3's id: the handshake passes (a listed
#     key), the messages are dropped before the Raft core (a key speaks only as its node),
#     counted.
# Afterwards the term and the leader are unchanged, no replica holds /forged, n1 and n2 hold
# one digest at one index, and writes go on. On the client port, no key and an unlisted key are
# refused at the handshake (counted), the tests' own key is answered, and `raftvisor fs` with an
# unlisted key says at once that the server refused it, naming the principal.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
export RV_SERVER_KEYS
RV_SERVER_KEYS=$(server_keys_of 3)
for i in 1 2; do start_node "$T/n$i.yaml"; done # n3 is never started
leader_of_two() {
  local a b
  a=$(raft_field "$T/n1.yaml" leader) && b=$(raft_field "$T/n2.yaml" leader) || return 1
  [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != n3 ] && echo "$a"
}
wait_for "n1 and n2 agree on a leader" 20 leader_of_two
leader=$(leader_of_two)
l=${leader#n}
f=$((3 - l))
wait_for "the namespace takes a write" 20 fs "$l" -mkdir -p /before
status_line() { "$RV" status -c "$T/n$f.yaml"; }
assert_contains "$(status_line)" "security: CURVE on the raft and client ports" "status of n$f"
refused() { status_json "$T/n$f.yaml" | jq -r '.security.auth_refused'; }
refused_at_least() { [ "$(refused)" -ge "$1" ]; }
assert_eq "$(refused)" 0 "n$f's refusals before any attack"
term=$(raft_field "$T/n$f.yaml" term)
last=$(raft_field "$T/n$f.yaml" last_index)
log "leader $leader (term $term), follower n$f (last index $last); n3 down"

hostile() { "$RV_BIN/rv-hostile-peer" -c "$T/n$f.yaml" "$@"; }
key_of mallory >/dev/null # a well-formed key pair that no YAML lists
forged_term=$((term + 5))
n=0
for key in none "$T/keys/mallory.secret" random; do
  for kind in vote append; do
    rc=0
    out=$(hostile --key "$key" --as n3 "$kind" --term "$forged_term" --prev-index "$last" \
      --prev-term "$term" --mkdir /forged) || rc=$?
    [ "$rc" = 3 ] || fail "a $kind with key $key: expected refused at the handshake (3), got $rc: $out"
    assert_contains "$out" "refused at the handshake" "a $kind with key $key"
    n=$((n + 1))
    wait_for "n$f counts $n refused connections" 10 refused_at_least "$n"
  done
done
log "no key, an unlisted key and a random key: $n connections refused at the handshake"

# a member's key (the leader's own) presenting the down node's id
for kind in vote append; do
  out=$(hostile --key "$T/keys/n$l.secret" --as n3 "$kind" --term "$forged_term" \
    --prev-index "$last" --prev-term "$term" --mkdir /forged) ||
    fail "rv-hostile-peer with n$l's key: $out"
  n=$((n + 1))
  wait_for "n$f refuses n$l's key speaking as n3 ($kind)" 10 refused_at_least "$n"
done
grep -q "presenting id \"it/n3\" over a connection authenticated as \"node:n$l\"" \
  "$T/n$f/log/raft-peer.log" || fail "n$f's raft-peer log does not name the id/key mismatch"
grep -q "refused a connection from .* on the raft port: " "$T/n$f/log/raft-peer.log" ||
  fail "n$f's raft-peer log does not name the refused handshakes"

# nothing changed: term, leader, namespace
assert_eq "$(raft_field "$T/n$f.yaml" term)" "$term" "n$f's term after the forgeries"
assert_eq "$(raft_field "$T/n$l.yaml" term)" "$term" "n$l's term after the forgeries"
assert_eq "$(leader_of_two)" "$leader" "the leader after the forgeries"
wait_for "a write after the forgeries" 20 fs "$l" -mkdir -p /after
digests_equal 2
log "digest $DIGEST at applied index $DIGEST_INDEX on n1 and n2; term still $term"
for i in 1 2; do
  rc=0
  fs_at "$i" --stale -test -e /forged || rc=$?
  [ "$rc" = 1 ] || fail "n$i holds /forged (fs -test -e: $rc)"
done

# the client port
before=$(refused)
for key in none random "$T/keys/mallory.secret"; do
  rc=0
  out=$(hostile --key "$key" client --wait 2000) || rc=$?
  [ "$rc" = 3 ] || fail "a client with key $key: expected refused (3), got $rc: $out"
  assert_contains "$out" "refused at the handshake" "a client with key $key"
done
wait_for "n$f counts 3 more refused connections" 10 refused_at_least $((before + 3))
out=$(hostile --key "$T/keys/$ADMIN.secret" client) || fail "the tests' own key: $out"
assert_contains "$out" "answered" "a client with the tests' key"
start=$SECONDS
rc=0
out=$("$RV" fs -c "$T/n$f.yaml" --key "$T/keys/mallory.secret" -ls / 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "fs with an unlisted key: expected exit 1, got $rc: $out"
assert_contains "$out" "the server refused our key: is mallory's public key listed in security.clients?" \
  "fs with an unlisted key"
[ $((SECONDS - start)) -lt 10 ] || fail "fs with an unlisted key took $((SECONDS - start)) s to say so"
log "client port: no key, a random key, an unlisted key refused; fs says: $out"
log "PASS"
