#!/usr/bin/env bash
# A full data disk on the leader (issue 11), with ha.automatic-failover off (the default): a
# node that cannot persist must not keep the cluster unavailable. Three nodes, each data-dir on
# its own 64 MiB tmpfs, under a continuous writer:
#   1. the leader's tmpfs is filled to the last byte (dd): the leader hands leadership away (its
#      health-monitor reports it cannot persist; or, if its own Raft log fails first, it goes
#      silent and the others elect), and a write is acknowledged by a new leader; the time from
#      the disk full to that write is printed (a figure, not asserted);
#   2. while the disk stays full, writes go on and the full node does not lead again;
#   3. the space is freed: the full node catches up as a follower.
# At the end every acknowledged write is on every node and the three namespaces are identical.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do
  # below the tmpfs: the default 64 MB would call every node unhealthy (not what is tested)
  sed -i 's/^health:$/health:\n  min-free-disk-mb: 8/' "$T/n$i.yaml"
  mkdir -p "$T/n$i"
  mount -t tmpfs -o size=64m,mode=0700 "rvdisk-n$i" "$T/n$i" ||
    fail "cannot mount a 64 MiB tmpfs on $T/n$i"
  # at exit, after the harness check: the logs on the tmpfs are kept aside, then it goes
  at_cleanup "! mountpoint -q $T/n$i || { mkdir -p $T/saved-logs/n$i && cp -r $T/n$i/log/. $T/saved-logs/n$i/; umount -l $T/n$i; }"
done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /
fs 1 -mkdir /w /p || fail "mkdir /w /p"
fs_writer start 1
wait_for "20 writes acknowledged" 30 acked_at_least 20

progress() {
  local n
  n=$(wc -l <"$T/acked")
  wait_for "$1 more writes acknowledged" 60 acked_at_least $((n + $1))
}

leader=$(leader_agreed 3)
L=${leader#n}
# the full node's kv-store may still be restarted once if its store cannot be reopened
expect_restart "$leader" kv-store 3
expect_restart "$leader" raft-peer 3
rc=0
dd if=/dev/zero of="$T/$leader/filler" bs=1M 2>/dev/null || rc=$?
full_ns=$(date +%s%N)
log "1. the leader $leader's data disk filled ($(df -h --output=avail "$T/$leader" | tail -n 1 | tr -d ' ') left, dd exit $rc)"

# new_leader_write: a node other than the full one says it leads, and takes a write sent to it
# alone; records the time
probe=0
new_leader_write() {
  local k
  for k in 1 2 3; do
    [ "$k" = "$L" ] && continue
    [ "$(raft_field "$T/n$k.yaml" role)" = leader ] || continue
    probe=$((probe + 1))
    if fs_at "$k" -mkdir -p "/p/$probe" 2>/dev/null; then
      date +%s%N >"$T/first-write"
      echo "n$k" >"$T/new-leader"
      return 0
    fi
  done
  return 1
}
wait_for "a write acknowledged by a new leader" 60 new_leader_write
new=$(cat "$T/new-leader")
log "first write acknowledged by the new leader $new $((($(cat "$T/first-write") - full_ns) / 1000000)) ms after the disk was full"

log "2. writes go on while $leader's disk stays full"
progress 20
l=$(leader_agreed 3 || true)
[ "$l" != "$leader" ] || fail "the full node $leader leads again while its disk is full"
progress 10

log "3. $leader's disk freed"
rm -f "$T/$leader/filler"
wait_for "$leader says it can persist again" 30 grep -q "can persist again" "$T/$leader/log/raft-peer.log"
progress 20
fs_writer stop
log "$(wc -l <"$T/acked") writes acknowledged, $(wc -l <"$T/failed") failed; $leader's restarts:" \
  "kv-store $(actor_field "$T/$leader.yaml" kv-store restarts), raft-peer $(actor_field "$T/$leader.yaml" raft-peer restarts)"
[ ! -s "$T/failed" ] || fail "writes failed: $(head -n 5 "$T/writer.err")"
for i in 1 2 3; do
  wait_for "n$i holds every acknowledged write" 60 fs_all_acked "$i" --stale
done
digests_equal 3
log "ok: leadership left the full node, every acknowledged write on every node, one digest $DIGEST at index $DIGEST_INDEX"
