#!/usr/bin/env bash
# raft.lease-reads does what it says: with the default (true) the leader gives read indexes from
# its lease, to its own kv-store and to the followers that ask it, without a heartbeat round per
# read; with false, every read index waits for a round a majority acknowledges. Both counted in
# status (raft.reads_lease, raft.reads_round), and every read sees the write before it. (That a
# lease is never trusted past its time, across pauses, is proved by raft_read_test, the
# simulation's pauses with its mutation test, and the nemesis suite's pause runs under the
# linearizability checker.)
source "$(dirname "$0")/lib.sh"
fs_cluster 3

# reads_by CFG: "LEASE ROUND" counted by that node's raft-peer
reads_by() { status_json "$1" | jq -r '"\(.raft.reads_lease) \(.raft.reads_round)"'; }

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
read -r lease0 round0 <<<"$(reads_by "$T/$leader.yaml")"
reads_on_every_node lease
leader2=$(leader_agreed 3)
[ "$leader2" = "$leader" ] || fail "the leader changed during the reads ($leader -> $leader2): run again"
read -r lease1 round1 <<<"$(reads_by "$T/$leader.yaml")"
log "lease-reads true: the leader $leader gave $((lease1 - lease0)) read indexes from its lease, $((round1 - round0)) after a round"
# 15 reads on three nodes; a read index can serve several reads, and one may come before the
# lease's first round after an election: most must come from the lease
[ $((lease1 - lease0)) -ge 10 ] || fail "only $((lease1 - lease0)) read indexes from the lease (and $((round1 - round0)) after a round) for 15 reads"

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
read -r lease2 round2 <<<"$(reads_by "$T/$leader.yaml")"
log "lease-reads false: the leader $leader gave $lease2 read indexes from its lease, $round2 after a round"
assert_eq "$lease2" 0 "read indexes from the lease with lease-reads: false"
[ "$round2" -ge 10 ] || fail "only $round2 read indexes after a round for 15 reads"
log "ok: lease reads on by default, off when configured, every read saw the write before it"
