#!/usr/bin/env bash
# raftvisor snapshot save / status / restore, as etcdctl snapshot:
#   1. a three-node cluster with directories and files; once every node is at one applied index,
#      `snapshot save` from n2 (a follower or the leader, whichever) writes a file whose index
#      and digest are the cluster's (`fs -digest`), and `snapshot status` verifies it (text and
#      --json); writes made after the save are not in it;
#   2. a damaged copy (one byte flipped in a block) and a truncated copy are refused, naming
#      the offset; a file of another kind is refused as such; --help of each subcommand;
#   3. restore refuses a non-empty data-dir and writes nothing there;
#   4. the cluster is stopped and three new data-dirs are restored from the file (a new cluster
#      id): the three nodes elect a leader and hold exactly the saved namespace (the digest at
#      the saved index, the post-save writes absent, contents intact), and take writes.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
fs 1 -mkdir -p /data/a /data/b/c /empty
mkdir "$T/local"
for k in 1 2 3 4 5; do printf 'content %d' "$k" >"$T/local/f$k"; done
fs 1 -put "$T"/local/f* /data/a/
head -c 300000 /dev/urandom >"$T/big" # spans no more than a chunk, but more than a page
fs 1 -put "$T/big" /data/b/c/big
digests_equal 3
saved_digest=$DIGEST
saved_index=$DIGEST_INDEX
log "cluster at index $saved_index, digest $saved_digest"

# ---- 1. save and status ------------------------------------------------------------------------
rc=0
out=$("$RV" snapshot save "$T/backup.rvs" -c "$T/n2.yaml" --json) || rc=$?
[ "$rc" = 0 ] || fail "snapshot save: exit $rc: $out"
assert_eq "$(echo "$out" | jq -r .index)" "$saved_index" "save: the index"
assert_eq "$(echo "$out" | jq -r .digest)" "$saved_digest" "save: the digest"
assert_eq "$(echo "$out" | jq -r .cluster)" "it" "save: the cluster"
assert_eq "$(echo "$out" | jq -r .node)" "n2" "save: the node that served it"
[ "$(echo "$out" | jq -r .term)" -ge 1 ] || fail "save: no term: $out"
[ ! -e "$T/backup.rvs.part" ] || fail "save left its temporary file"
st=$("$RV" snapshot status "$T/backup.rvs" --json)
for f in schema_version format_version index term digest entries size crc32; do
  [ "$(echo "$st" | jq -r ".$f")" != null ] || fail "status --json lacks $f: $st"
done
assert_eq "$(echo "$st" | jq -r .index)" "$saved_index" "status: the index"
assert_eq "$(echo "$st" | jq -r .digest)" "$saved_digest" "status: the digest"
assert_eq "$(echo "$st" | jq -r .format_version)" 1 "status: the format version"
assert_eq "$(echo "$st" | jq -r .size)" "$(stat -c %s "$T/backup.rvs")" "status: the size"
# 5 directories (/, /data, /data/a, /data/b, /data/b/c, /empty: 6) and 6 files
assert_eq "$(echo "$st" | jq -r .entries)" 12 "status: directories and files"
text=$("$RV" snapshot status "$T/backup.rvs")
assert_contains "$text" "raft index:      $saved_index" "status (text)"
# writes after the save are not in it
fs 1 -mkdir /after-save
printf 'changed' | fs 1 -put -f - /data/a/f1

# ---- 2. damaged, truncated, foreign files --------------------------------------------------------
size=$(stat -c %s "$T/backup.rvs")
cp "$T/backup.rvs" "$T/damaged.rvs"
off=$((size / 2))
printf '\x5a' | dd of="$T/damaged.rvs" bs=1 seek=$off conv=notrunc status=none
cmp -s "$T/backup.rvs" "$T/damaged.rvs" && { # the byte was already 0x5a: flip another
  printf '\xa5' | dd of="$T/damaged.rvs" bs=1 seek=$off conv=notrunc status=none; }
expect_fail 1 "is damaged: checksum mismatch" "$RV" snapshot status "$T/damaged.rvs"
expect_fail 1 "offset" "$RV" snapshot status "$T/damaged.rvs"
head -c $((size - 100)) "$T/backup.rvs" >"$T/truncated.rvs"
expect_fail 1 "truncated at offset" "$RV" snapshot status "$T/truncated.rvs"
head -c 20 "$T/backup.rvs" >"$T/short.rvs"
expect_fail 1 "truncated at offset 20" "$RV" snapshot status "$T/short.rvs"
echo "not a snapshot" >"$T/foreign.rvs"
expect_fail 1 "not a raftvisor snapshot file (offset 0" "$RV" snapshot status "$T/foreign.rvs"
expect_fail 1 "No such file" "$RV" snapshot status "$T/absent.rvs"
expect_fail 2 "expected one FILE" "$RV" snapshot status
for sub in save status restore; do
  matches "usage: raftvisor snapshot $sub" "$("$RV" snapshot $sub --help)" || fail "$sub --help"
done
expect_fail 2 "unknown subcommand" "$RV" snapshot nosuch

# ---- 3. restore refuses a non-empty data-dir ----------------------------------------------------
mkdir -p "$T/occupied"
echo keep >"$T/occupied/x"
expect_fail 1 "is not empty" "$RV" snapshot restore "$T/backup.rvs" --data-dir "$T/occupied" \
  -c "$T/n1.yaml"
assert_eq "$(ls "$T/occupied")" "x" "a refused restore leaves the data-dir as it was"
expect_fail 1 "truncated at offset" "$RV" snapshot restore "$T/truncated.rvs" \
  --data-dir "$T/never" -c "$T/n1.yaml"
[ ! -e "$T/never" ] || fail "a restore from a truncated file created the data-dir"

# ---- 4. a new cluster from the file ---------------------------------------------------------------
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do wipe_node "n$i"; done # the old cluster is gone (its logs kept for the scan)
for i in 1 2 3; do
  sed -i "s#data-dir: $T/n$i\$#data-dir: $T/r$i#; s/^  id: it\$/  id: restored/" "$T/n$i.yaml"
  out=$("$RV" snapshot restore "$T/backup.rvs" -c "$T/n$i.yaml") ||
    fail "snapshot restore n$i: $out"
  assert_contains "$out" "restored into $T/r$i for node n$i of cluster restored" "restore n$i"
done
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
wait_for "the restored cluster agrees on a leader" 30 leader_agreed 3
term=$(raft_field "$T/n1.yaml" term)
[ "$term" -gt "$(echo "$st" | jq -r .term)" ] || fail "the restored cluster leads in term $term"
digests_equal 3
assert_eq "$DIGEST" "$saved_digest" "the restored namespace's digest"
[ "$DIGEST_INDEX" -ge "$saved_index" ] || fail "restored at index $DIGEST_INDEX < $saved_index"
rc=0
fs 1 -test -e /after-save || rc=$?
assert_eq "$rc" 1 "a directory made after the save is not restored"
assert_eq "$(fs 1 -cat /data/a/f1)" "content 1" "a file as it was at the save"
fs 1 -cat /data/b/c/big | cmp -s - "$T/big" || fail "the big file's content"
fs 1 -mkdir /after-restore
printf 'new' | fs 2 -put - /after-restore/x
digests_equal 3
log "restored cluster: digest $saved_digest at $saved_index; writes go on (now $DIGEST_INDEX)"
