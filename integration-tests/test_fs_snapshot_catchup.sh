#!/usr/bin/env bash
# A follower whose log the leader has compacted away catches up through a snapshot (the
# kv-store's namespace streamed by the leader's raft-peer), twice:
#   1. its node is stopped, ~1000 writes go by (the leader compacts past it: raft.compact-entries
#      is 100 here), its data-dir is wiped entirely, and it starts again from nothing (with a
#      new incarnation: its peers ignore it until `raftvisor raft rejoin` re-adds it);
#   2. its node is stopped, ~1000 more writes go by, and it starts again with its data intact.
# Each time its raft-peer log must say it installed a snapshot, and its own state (stale reads)
# must end equal to the leader's: `ls -R /` and `count /`; later writes reach it by the log.
# Then all three nodes, once each reports the same applied index, must report the same
# namespace digest (raftvisor fs -digest: every entry, attribute and file content, hashed by
# each node from its own state). The digest is the stronger check (all three nodes, every byte,
# times and contents of every file included); the ls/count comparison stays as the view a user
# has, and as a check that the digest is not blind: both must agree.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
for i in 1 2 3; do printf 'raft:\n  compact-entries: 100\n' >>"$T/n$i.yaml"; done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
wait_for "the namespace takes a write" 20 fs 1 -mkdir -p /a
leader=$(leader_agreed 3)
l=${leader#n}
f=$(follower_of 3 "$leader")
log "leader $leader, follower n$f"

head -c $((512 * 1024)) /dev/urandom >"$T/big"
# write_dirs ROUND: 10 directories holding 100 each (1010 writes), through the leader, and 8
# files of 512 KiB (so the snapshot spans several ~1 MiB chunks and fills the 4 MiB window)
write_dirs() {
  local r=$1 b k paths
  for ((b = 1; b <= 10; b++)); do
    paths="/a/r$r-b$b"
    for ((k = 1; k <= 100; k++)); do paths+=" /a/r$r-b$b/d$k"; done
    fs "$l" --retry 30000 -mkdir $paths || fail "round $r: mkdir batch $b"
  done
  for ((k = 1; k <= 8; k++)); do
    fs "$l" --retry 30000 -put "$T/big" "/a/big-$r-$k" || fail "round $r: put big $k"
  done
}

# same_as_leader: node nf's own state (stale reads) equals the leader's
same_as_leader() {
  local cmd
  for cmd in "-ls -R /" "-count /"; do
    fs_at "$l" --stale $cmd >"$T/leader.out" 2>&1 || return 1
    fs_at "$f" --stale $cmd >"$T/follower.out" 2>&1 || return 1
    cmp -s "$T/leader.out" "$T/follower.out" || return 1
  done
  fs_at "$f" --stale -cat /a/big-1-8 | cmp -s - "$T/big"
}

snapshots_installed() { grep -c "installed snapshot" "$T/n$f/log/raft-peer.log" 2>/dev/null || true; }
installed_at_least() { [ "$(snapshots_installed)" -ge "$1" ]; }
compacted_past() { [ "$(raft_field "$T/$leader.yaml" snapshot_index)" -gt "$1" ]; }

catch_up_round() {
  local r=$1 wipe=$2 before at_stop
  before=$(snapshots_installed || true)
  before=${before:-0}
  [ "$wipe" = wipe ] && before=0 # the log goes with the data-dir
  at_stop=$(raft_field "$T/$leader.yaml" commit)
  stop_node "$T/n$f.yaml"
  log "round $r: n$f stopped at commit $at_stop; writing"
  write_dirs "$r"
  wait_for "the leader compacts past n$f's log" 20 compacted_past "$at_stop"
  log "round $r: leader snapshot index $(raft_field "$T/$leader.yaml" snapshot_index)"
  if [ "$wipe" = wipe ]; then
    wipe_node "n$f"
    log "round $r: n$f's data-dir wiped"
  fi
  start_node "$T/n$f.yaml"
  [ "$wipe" = wipe ] && rejoin
  wait_for "n$f installs a snapshot" 30 installed_at_least $((before + 1))
  # what each side logged so far (informative: the leader may not have logged "done" yet)
  { grep "snapshot" "$T/n$f/log/raft-peer.log" || true; } | tail -n 2
  { grep "snapshot .* done" "$T/$leader/log/raft-peer.log" || true; } | tail -n 1
  wait_for "n$f's namespace equals the leader's" 30 same_as_leader
  digests_equal 3
  log "round $r: digest $DIGEST at applied index $DIGEST_INDEX on all three nodes"
  local caught_up=$DIGEST
  # later writes reach it through the log, after the snapshot
  fs "$l" -mkdir "/a/after-$r" || fail "mkdir /a/after-$r"
  wait_for "n$f applies writes after the snapshot" 20 same_as_leader
  digests_equal 3
  [ "$DIGEST" != "$caught_up" ] || fail "round $r: the digest did not move with a write"
  log "round $r ok: n$f: $(fs_at "$f" --stale -count /); digest $DIGEST at $DIGEST_INDEX"
}

# rejoin: the wiped nf is a stranger to the leader until `raftvisor raft rejoin` re-adds it
rejoin() {
  is_stranger() { status_json "$T/$leader.yaml" | jq -e --arg n "n$f" '.raft.strangers | index($n)'; }
  wait_for "the leader takes the wiped n$f for a stranger" 20 is_stranger
  "$RV" raft -c "$T/$leader.yaml" rejoin "n$f" || fail "raftvisor raft rejoin n$f"
}

# A follower that is up to date when its disk is lost and that comes back at once: the leader
# remembers it had everything; only its refusal of the next append says otherwise.
wiped_at_once_round() {
  local r=$1
  wait_for "n$f is up to date" 20 same_as_leader
  compacted_past 0 || fail "round $r: the leader has not compacted (the test needs a snapshot)"
  stop_node "$T/n$f.yaml"
  wipe_node "n$f"
  start_node "$T/n$f.yaml"
  log "round $r: n$f stopped while up to date, wiped and restarted at once"
  rejoin
  fs "$l" -mkdir "/a/wiped-at-once-$r" || fail "mkdir /a/wiped-at-once-$r"
  wait_for "n$f installs a snapshot" 30 installed_at_least 1
  wait_for "n$f's namespace equals the leader's" 30 same_as_leader
  digests_equal 3
  log "round $r ok: digest $DIGEST at applied index $DIGEST_INDEX on all three nodes"
}

catch_up_round 1 wipe
catch_up_round 2 keep
wiped_at_once_round 3
grep -q "snapshot .* done" "$T/$leader/log/raft-peer.log" || fail "the leader's log does not say it sent a snapshot"
log "ok: a follower behind the leader's compaction caught up by snapshot (wiped and intact)"
