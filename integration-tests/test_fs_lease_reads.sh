#!/usr/bin/env bash
# raft.lease-reads does what it says: with the default (true) the leader gives read indexes from
# its lease, to its own kv-store and to the followers that ask it, without a heartbeat round per
# read; not while a voter does not say it keeps clock leases (a build before them, stood for by
# RV_TEST_NO_CLOCK_LEASES=1), and again once it does; with false, every read index waits for a
# round a majority acknowledges. Both counted in
# status (raft.reads_lease, raft.reads_round), and every read sees the write before it. (That a
# lease is never trusted past its time, across pauses, is proved by raft_read_test, the
# simulation's pauses with its mutation test, and the nemesis suite's pause runs under the
# linearizability checker.)
source "$(dirname "$0")/lib.sh"
fs_cluster 3

# reads_by CFG: "LEASE ROUND" counted by that node's raft-peer (as of its last RaftState, which
# it publishes every 250 ms: wait for a count with counted)
reads_by() { status_json "$1" | jq -r '"\(.raft.reads_lease) \(.raft.reads_round)"'; }
# counted CFG N: the node's two counts add up to at least N
counted() {
  local l r
  read -r l r <<<"$(reads_by "$1")"
  [ $((l + r)) -ge "$2" ]
}

# reads_on_every_node TAG: a write through the leader, then linearizable stats of it on every
# node, each from a fresh CLI process
reads_on_every_node() {
  local i k
  for k in 1 2 3 4 5; do
    fs 1 -mkdir -p "/$1/d$k" || fail "mkdir /$1/d$k"
    for i in 1 2 3; do
      fs_at "$i" -test -d "/$1/d$k" || fail "a linearizable read on n$i missed /$1/d$k, written before it"
    done
  done
}

leader=$(leader_agreed 3)
assert_eq "$(status_json "$T/$leader.yaml" | jq .raft.lease_reads)" true "raft.lease_reads by default"
# null everywhere: on the leader nothing waits once every voter was heard from (status is
# published every 250 ms), and a follower says nothing
lease_wait_clear() { [ "$(status_json "$T/$leader.yaml" | jq -r .raft.lease_wait)" = null ]; }
wait_for "the leader's lease_wait to clear" 5 lease_wait_clear
for i in 1 2 3; do
  assert_eq "$(status_json "$T/n$i.yaml" | jq .raft.lease_wait)" null "n$i's raft.lease_wait"
done
read -r lease0 round0 <<<"$(reads_by "$T/$leader.yaml")"
reads_on_every_node lease
leader2=$(leader_agreed 3)
[ "$leader2" = "$leader" ] || fail "the leader changed during the reads ($leader -> $leader2): run again"
# 15 reads on three nodes, each its own read index, from the lease (one may take a round if the
# lease lapsed: a heartbeat answered over 100 ms late on a loaded host)
wait_for "15 read indexes" 5 counted "$T/$leader.yaml" $((lease0 + round0 + 15))
read -r lease1 round1 <<<"$(reads_by "$T/$leader.yaml")"
log "lease-reads true: the leader $leader gave $((lease1 - lease0)) read indexes from its lease, $((round1 - round0)) after a round"
[ $((lease1 - lease0)) -ge 10 ] || fail "only $((lease1 - lease0)) read indexes from the lease (and $((round1 - round0)) after a round) for 15 reads"

# a voter that does not say it keeps clock leases (as a build before them): the leader gives
# no read index from its lease while it is a voter, and says why in status
f=$(follower_of 3 "$leader")
stop_node "$T/n$f.yaml"
RV_TEST_NO_CLOCK_LEASES=1 start_node "$T/n$f.yaml"
lease_wait_names() { matches "voter n$f does not say" "$(status_json "$T/$leader.yaml" | jq -r '.raft.lease_wait // ""')"; }
wait_for "the leader's status to say lease reads wait for n$f" 20 lease_wait_names
log "leader $leader: $(status_json "$T/$leader.yaml" | jq -r .raft.lease_wait)"
assert_contains "$("$RV" status -c "$T/$leader.yaml")" "lease reads waiting: voter n$f does not say it keeps clock leases" "raftvisor status on the leader"
read -r lease2 round2 <<<"$(reads_by "$T/$leader.yaml")"
reads_on_every_node mixed
[ "$(leader_agreed 3)" = "$leader" ] || fail "the leader changed during the reads: run again"
wait_for "15 read indexes" 5 counted "$T/$leader.yaml" $((lease2 + round2 + 15))
read -r lease3 round3 <<<"$(reads_by "$T/$leader.yaml")"
log "with n$f saying no: $((lease3 - lease2)) read indexes from the lease, $((round3 - round2)) after a round"
assert_eq "$((lease3 - lease2))" 0 "read indexes from the lease while voter n$f keeps tick-only leases"
# n$f back at this build: lease reads again
stop_node "$T/n$f.yaml"
start_node "$T/n$f.yaml"
wait_for "the leader's lease reads to resume" 20 lease_wait_clear
reads_on_every_node again
wait_for "15 read indexes" 5 counted "$T/$leader.yaml" $((lease3 + round3 + 15))
read -r lease4 round4 <<<"$(reads_by "$T/$leader.yaml")"
log "n$f back: $((lease4 - lease3)) read indexes from the lease, $((round4 - round3)) after a round"
[ $((lease4 - lease3)) -ge 10 ] || fail "lease reads did not resume: $((lease4 - lease3)) from the lease, $((round4 - round3)) after a round"

# the same cluster with lease-reads: false
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do
  printf 'raft:\n  lease-reads: false\n' >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "one leader agreed by all" 20 leader_agreed 3
leader=$(leader_agreed 3)
assert_eq "$(status_json "$T/$leader.yaml" | jq .raft.lease_reads)" false "raft.lease_reads with lease-reads: false"
reads_on_every_node round
[ "$(leader_agreed 3)" = "$leader" ] || fail "the leader changed during the reads: run again"
wait_for "15 read indexes" 5 counted "$T/$leader.yaml" 15
read -r lease5 round5 <<<"$(reads_by "$T/$leader.yaml")"
log "lease-reads false: the leader $leader gave $lease5 read indexes from its lease, $round5 after a round"
assert_eq "$lease5" 0 "read indexes from the lease with lease-reads: false"
assert_eq "$(status_json "$T/$leader.yaml" | jq .raft.lease_wait)" null "lease_wait with lease-reads: false"
assert_contains "$("$RV" status -c "$T/$leader.yaml")" "lease reads off (raft.lease-reads: false)" "raftvisor status on the leader"
log "ok: lease reads on by default, off while a voter keeps tick-only leases and when configured off, every read saw the write before it"
