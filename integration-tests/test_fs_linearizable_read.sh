#!/usr/bin/env bash
# A linearizable read on a follower right after a write sees the write: the follower's kv-store
# asks for a read index (its raft-peer asks the leader, Raft thesis §6.4) and answers once it has
# applied that far. rv-fs-rw-probe writes through the leader and reads back through a follower
# in one process, at once; its stale reads in the same rounds show how often the follower's own
# state is still behind at that moment (logged, not asserted: it depends on timing). Then 400
# linearizable reads alone on each follower, each right after its write, and the same through
# the CLI, one process per operation. (A kv-store that answers before applying up to its read
# index fails here in most runs; test_kv_actor catches it every time.)
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
f=$(follower_of 3 "$leader")
l=${leader#n}
log "write on $leader, read on n$f"
out=$("$RV_BIN/rv-fs-rw-probe" "$(client_addr "$l")" "$(client_addr "$f")" /r 200) ||
  fail "a linearizable read on n$f missed the write before it: $out"
log "$out"
# then linearizable reads alone, each right after its write (the narrowest window), on each
# follower
for k in 1 2 3; do
  [ "n$k" != "$leader" ] || continue
  out=$("$RV_BIN/rv-fs-rw-probe" "$(client_addr "$l")" "$(client_addr "$k")" "/r$k" 400 --lin-only) ||
    fail "a linearizable read on n$k missed the write before it: $out"
  log "linearizable reads only, on n$k: $out"
done
for i in $(seq 1 10); do
  printf 'v%d' $i | fs_at "$l" -put -f - /c || fail "put #$i"
  assert_eq "$(fs_at "$f" -cat /c)" "v$i" "the CLI's read on n$f right after write #$i"
done
log "ok: every linearizable read on a follower saw the write before it"
