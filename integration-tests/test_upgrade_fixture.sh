#!/usr/bin/env bash
# Upgrade from the previous release's on-disk formats: integration-tests/fixtures/ holds the
# data-dirs (Raft logs, RocksDB namespace stores) of a three-node cluster written by raftvisor
# e7e8172 (the tip of 2026-11-22), with a manifest of what it held (made by
# scripts/make-upgrade-fixture.sh, which builds that release and runs it). The current binaries
# are started on them, as an operator would after replacing the binaries of a stopped cluster:
#   - n3's namespace store is removed first, so its kv-store rebuilds it from the old release's
#     Raft log, entry by entry (the previous release's command encoding, replayed by this one);
#   - every directory and file of the manifest is there, each file's content has its CRC, and
#     every node's namespace digest is the one the old cluster reported;
#   - the cluster takes writes, and a node restarted on its upgraded data-dir comes back to the
#     same digest as the others.
source "$(dirname "$0")/lib.sh"
fixture=$(dirname "$0")/fixtures/upgrade-e7e8172.tar.gz
[ -f "$fixture" ] || fail "the fixture $fixture is missing (scripts/make-upgrade-fixture.sh)"
cluster_yaml 3 health-monitor raft-peer kv-store
tar -xzf "$fixture" -C "$T"
for i in 1 2 3; do [ -d "$T/n$i/raft" ] && [ -d "$T/n$i/kv" ] || fail "fixture: n$i is incomplete"; done
rm -rf "${T:?}/n3/kv"
read -r _ want_digest want_index < <(grep '^digest ' "$T/manifest")
log "fixture: $(grep -c '^[d-] ' "$T/manifest") entries, digest $want_digest at index $want_index"
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "one leader agreed by all" 30 leader_agreed 3
digests_equal 3
assert_eq "$DIGEST" "$want_digest" "the namespace digest after the upgrade (the old cluster's)"
[ "$DIGEST_INDEX" -ge "$want_index" ] || fail "applied index $DIGEST_INDEX < the fixture's $want_index"
grep -q "namespace at $T/n3/kv: applied index 0" "$T/n3/log/kv-store.log" ||
  fail "n3's kv-store did not start from an empty store"

# every entry of the manifest, and each file's content: the tree copied out in one call
# (fs -get, as an operator would check it), then compared locally
fs 1 -get /fixture "$T/got"
while read -r kind path rest; do
  local_path=$T/got${path#/fixture}
  case $kind in
    d) [ -d "$local_path" ] || fail "directory $path is missing after the upgrade" ;;
    -) [ -f "$local_path" ] || fail "file $path is missing after the upgrade" ;;
    crc) assert_eq "$(cksum <"$local_path" | cut -d' ' -f1)" "$rest" "the content of $path" ;;
  esac
done <"$T/manifest"
listed=$(fs 1 -ls -R /fixture | grep -c '^[d-]')
assert_eq "$listed" "$(grep -c '^[d-] ' "$T/manifest")" "entries under /fixture"
fs 1 -test -e /fixture/gone && fail "/fixture/gone was removed by the old release"
assert_eq "$(fs 1 -stat %a /fixture/dirs/a)" 700 "a mode set by the old release"

# writes go on, and a node restarted on its upgraded data-dir agrees
fs 1 -mkdir /fixture/after-upgrade
printf 'new' | fs 2 -put - /fixture/after-upgrade/x
fs 1 -mv /fixture/files/f1 /fixture/after-upgrade/f1
stop_node "$T/n2.yaml"
start_node "$T/n2.yaml"
wait_for "one leader agreed by all" 30 leader_agreed 3
digests_equal 3
[ "$DIGEST" != "$want_digest" ] || fail "the writes after the upgrade did not change the digest"
assert_eq "$(fs 2 --stale -cat /fixture/after-upgrade/x)" new "a write after the upgrade, on n2"
