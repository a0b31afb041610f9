#!/usr/bin/env bash
# ha.automatic-failover and ha.preferred-leader on three nodes; n1's data-dir is a small tmpfs.
# Leadership moves to the preferred node n1; manual transitions are refused ("Refusing to
# manually manage HA state") unless --forcemanual; the tmpfs is filled below
# health.min-free-disk-mb: n1's verdict fails "disk: ...", it hands leadership to a healthy
# voter, and it neither campaigns nor accepts a transfer (-transitionToActive --forcemanual n1
# fails); the fill is removed: leadership moves back to n1. -failover works with it on.
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
mkdir -p "$T/mnt"
mount -t tmpfs -o size=160m tmpfs "$T/mnt" || fail "cannot mount a tmpfs (root needed)"
at_cleanup "umount '$T/mnt'"
# n1's data-dir lives on the tmpfs; $T/n1 points there, where the harness looks for its files
rm -rf "$T/n1"
mkdir -p "$T/mnt/n1"
ln -s "$T/mnt/n1" "$T/n1"
sed -i "s|data-dir: $T/n1|data-dir: $T/mnt/n1|; s/^health:\$/health:\n  min-free-disk-mb: 100/" "$T/n1.yaml"
for i in 1 2 3; do printf 'ha:\n  automatic-failover: true\n  preferred-leader: n1\n' >>"$T/n$i.yaml"; done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
HA() { "$RV" haadmin -c "$T/n2.yaml" "$@"; }
is_leader() { [ "$(leader_agreed 3)" = "$1" ]; }
not_leader() { local l; l=$(leader_agreed 3) && [ "$l" != "$1" ]; }
wait_for "the preferred node n1 leads" 40 is_leader n1
fs 2 -mkdir -p /w || fail "a first write"

expect_fail 1 "Refusing to manually manage HA state" HA -transitionToActive n2
expect_fail 1 "specify the --forcemanual flag" HA -transitionToStandby n1
assert_eq "$(HA -getServiceState n1)" active "n1 after the refused transitions"

# fill n1's disk below its 100 MB threshold
avail=$(df -Pm "$T/mnt" | awk 'NR == 2 {print $4}')
dd if=/dev/zero of="$T/mnt/fill" bs=1M count=$((avail - 60)) status=none 2>/dev/null
filled=$(date +%s%N)
wait_for "n1 hands leadership away" 20 not_leader n1
log "leadership left the full node $(( ($(date +%s%N) - filled) / 1000000 )) ms after the fill, as seen by polling status (report only)"
log "n1 health-monitor: $(grep -m1 'node unhealthy: .*disk' "$T/mnt/n1/log/health-monitor.log" | cut -c1-140)"
log "n1 raft-peer: $(grep -m1 'automatic failover: this leader' "$T/mnt/n1/log/raft-peer.log" | cut -c1-140)"
log "n1 raft-peer: $(grep -m1 'role leader -> follower' "$T/mnt/n1/log/raft-peer.log" | cut -c1-80)"
expect_fail 1 "Health check failed: disk: " HA -checkHealth n1
fs 2 --retry 5000 -mkdir -p /w/after-fill || fail "writes through the new leader"
# an unhealthy node does not accept leadership, even forced
expect_fail 1 "Operation failed:" HA -transitionToActive --forcemanual n1
assert_eq "$(HA -getServiceState n1)" standby "n1 while its disk is full"

rm -f "$T/mnt/fill"
wait_for "n1 healthy again" 20 HA -checkHealth n1
wait_for "leadership back on the preferred node" 60 is_leader n1
fs 2 --retry 5000 -mkdir -p /w/back || fail "writes after n1 is back"
wait_for "n2 healthy" 10 HA -checkHealth n2
out=$(HA -failover n1 n2) || fail "-failover with automatic failover on exited $?"
assert_eq "$out" "Failover from n1 to n2 successful" "failover output"
log "ok"
