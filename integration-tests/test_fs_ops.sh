#!/usr/bin/env bash
# Every raftvisor fs operation and its errors on a three-node cluster, with HDFS' output and
# messages and the CLI's exit codes (rm without -r refuses any directory, -rmdir takes empty
# ones only; the attribute commands are test_fs_attrs.sh); writes through any node (followers
# redirect to the leader), reads from a follower (linearizable, and --stale), --json, a put over
# the inline limit refused before it reaches the Raft log, and a cluster that does not answer
# (exit 3).
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
f=$(follower_of 3 "$leader")
log "leader $leader; writing through follower n$f"

# mkdir, -p, and their errors
fs "$f" -mkdir /a || fail "mkdir /a"
fs "$f" -mkdir -p /a/b/c /d || fail "mkdir -p"
expect_fail 1 "mkdir: \`/a': File exists" fs "$f" -mkdir /a
expect_fail 1 "mkdir: \`mkdir failed for path: /x/y. Item parent path not found: /x.': No such file or directory" fs "$f" -mkdir /x/y
fs "$f" -mkdir -p /a/b || fail "mkdir -p of an existing directory"

# put (a file, stdin, into a directory, -f), cat
printf 'hello\n' >"$T/local.txt"
fs "$f" -put "$T/local.txt" /a/f || fail "put a local file"
printf 'from stdin' | fs "$f" -put - /a/s || fail "put from stdin"
fs "$f" -put "$T/local.txt" /d || fail "put into a directory"
expect_fail 1 "put: \`/a/f': File exists" fs "$f" -put "$T/local.txt" /a/f
printf 'replaced' | fs "$f" -put -f - /a/f || fail "put -f"
expect_fail 1 "put: \`/p/q/r': No such file or directory: \`hdfs://it/p/q/r'" \
  fs "$f" -put - /p/q/r </dev/null # as Hadoop: the destination's parent must exist
fs "$f" -mkdir -p /p/q && printf 'deep' | fs "$f" -put - /p/q/r || fail "put into /p/q"
expect_fail 1 "put: \`$T/nope': No such file or directory" fs "$f" -put "$T/nope" /a/g
assert_eq "$(fs "$f" -cat /a/f)" "replaced" "cat after put -f"
assert_eq "$(fs "$f" -cat /a/s /d/local.txt)" "from stdinhello" "cat of two files"
expect_fail 1 "cat: \`/a': Is a directory" fs "$f" -cat /a
expect_fail 1 "cat: \`/zz': No such file or directory" fs "$f" -cat /zz

# touchz, mv, rm
fs "$f" -touchz /a/empty /a/empty2 || fail "touchz"
fs "$f" -touchz /a/empty || fail "touchz of an existing empty file"
expect_fail 1 "touchz: \`/a/f': Not a zero-length file" fs "$f" -touchz /a/f
fs "$f" -mv /a/empty2 /a/renamed || fail "mv (rename)"
fs "$f" -mv /a/renamed /d || fail "mv into a directory"
expect_fail 1 "mv: \`/a/renamed': No such file or directory" fs "$f" -mv /a/renamed /x
expect_fail 1 "mv: \`/x/y': No such file or directory: \`hdfs://it/x/y'" fs "$f" -mv /d/renamed /x/y
expect_fail 1 "mv: \`/a/f': File exists" fs "$f" -mv /a/s /a/f
out=$(fs "$f" -rm /a/empty) || fail "rm of a file"
assert_eq "$out" "Deleted /a/empty" "rm prints what it deleted"
expect_fail 1 "rm: \`/a': Is a directory" fs "$f" -rm /a
expect_fail 1 "rm: \`/nope': No such file or directory" fs "$f" -rm /nope
fs "$f" -rm -f /nope || fail "rm -f of a missing path"
fs "$f" -rm -r /p >/dev/null || fail "rm -r"
# rm without -r refuses a directory even when it is empty (HDFS); -rmdir takes empty ones only
fs "$f" -mkdir -p /e/sub || fail "mkdir -p /e/sub"
expect_fail 1 "rm: \`/e/sub': Is a directory" fs "$f" -rm /e/sub
expect_fail 1 "rm: \`/e/sub': Is a directory" fs "$f" -rm -f /e/sub
expect_fail 1 "rmdir: \`/e': Directory is not empty" fs "$f" -rmdir /e
fs "$f" -rmdir --ignore-fail-on-non-empty /e || fail "rmdir --ignore-fail-on-non-empty"
expect_fail 1 "rmdir: \`/a/f': Is not a directory" fs "$f" -rmdir /a/f
expect_fail 1 "rmdir: \`/nope': No such file or directory" fs "$f" -rmdir /nope
assert_eq "$(fs "$f" -rmdir /e/sub /e)" "" "rmdir is silent"
expect_fail 1 "stat: \`/e': No such file or directory" fs_at "$f" -stat /e
fs "$f" --json -mkdir /e2 >/dev/null && fs "$f" --json -rmdir /e2 | jq -e '.op == "rmdir" and .ok' \
  >/dev/null || fail "rmdir --json"

# the namespace now: / holds a, d; a holds b (b/c), f, s; d holds local.txt, renamed
# count: Hadoop's columns
want=$(printf '%12s %12s %18s %s' 5 4 24 /)
assert_eq "$(fs "$f" -count /)" "$want" "count /"
out=$(fs "$f" -count -v /a)
assert_contains "$out" "   DIR_COUNT   FILE_COUNT       CONTENT_SIZE PATHNAME" "count -v header"
assert_contains "$out" "$(printf '%12s %12s %18s %s' 3 2 18 /a)" "count -v /a"

# ls, ls -R (depth first), ls of a file, stat formats, all read on a follower
ls_out=$(fs_at "$f" -ls /a) || fail "ls /a"
assert_eq "$(first_line "$ls_out")" "Found 3 items" "ls header"
when='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}'
matches "^drwxr-xr-x   - [^ ]+ supergroup +0 $when /a/b\$" "$ls_out" ||
  fail "ls directory line: $ls_out"
matches "^-rw-r--r--   3 [^ ]+ supergroup +8 $when /a/f\$" "$ls_out" ||
  fail "ls file line: $ls_out"
paths=$(fs_at "$f" -ls -R / | awk '{print $NF}' | tr '\n' ' ')
assert_eq "$paths" "/a /a/b /a/b/c /a/f /a/s /d /d/local.txt /d/renamed " "ls -R order"
assert_eq "$(fs_at "$f" -ls /a/f | awk '{print $NF}')" "/a/f" "ls of a file"
assert_eq "$(fs_at "$f" -ls /a/b/c)" "" "ls of an empty directory (no \"Found 0 items\", as Hadoop)"
assert_eq "$(fs_at "$f" -stat '%F %b %n %a %r' /a/f /a)" "regular file 8 f 644 3
directory 0 a 755 0" "stat format"
matches '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' "$(fs_at "$f" -stat /a)" ||
  fail "stat's default format (%y)"
expect_fail 1 "ls: \`/none': No such file or directory" fs_at "$f" -ls /none
expect_fail 1 "stat: \`/a/f/x': No such file or directory" fs_at "$f" -stat /a/f/x
assert_eq "$(fs_at "$f" --stale -cat /a/s)" "from stdin" "stale read on a follower"

# --json: one object per line; errors too
fs "$f" --json -ls / | jq -s -e 'length == 2 and
  any(.[]; .path == "/a" and .type == "directory" and .children == 3)' >/dev/null ||
  fail "ls --json"
fs "$f" --json -mkdir /j | jq -e '.ok and .index > 0 and (.replayed | not)' >/dev/null ||
  fail "mkdir --json"
rc=0
out=$(fs "$f" --json -mkdir /j) || rc=$?
[ $rc = 1 ] || fail "a failed --json op exits 1, not $rc"
want="mkdir: \`/j': File exists"
echo "$out" | jq -e --arg m "$want" '.ok == false and .error == "EEXIST" and .message == $m' \
  >/dev/null || fail "error --json: $out"
fs "$f" --json -count /a | jq -e '.dirs == 3 and .files == 2 and .bytes == 18' >/dev/null ||
  fail "count --json"
fs "$f" --json -cat /a/s | jq -e '.content_base64 == "ZnJvbSBzdGRpbg=="' >/dev/null ||
  fail "cat --json"

# bad paths and too much content: refused before they reach the Raft log (the next write gets
# the very next index)
before=$(fs "$f" --json -mkdir -p / | jq -r .index)
[ "$before" -gt 0 ] || fail "a write's index: $before"
expect_fail 1 "is 256 bytes, longer than the limit of 255 bytes" fs "$f" -mkdir "/$(printf 'n%.0s' {1..256})"
head -c $((1024 * 1024 + 1)) /dev/zero >"$T/big"
expect_fail 1 "exceeds the inline limit of 1048576 bytes" fs "$f" -put "$T/big" /big
head -c $((5 * 1024 * 1024)) /dev/zero >"$T/huge"
expect_fail 1 "larger than the 4 MiB" fs "$f" -put "$T/huge" /huge
fs "$f" -count / >/dev/null # a read: never in the log
assert_eq "$(fs "$f" --json -mkdir -p / | jq -r .index)" $((before + 1)) "the next write's index"

# usage errors (2), a cluster that does not answer (3)
expect_fail 2 "no command given" "$RV" fs -c "$T/n1.yaml"
expect_fail 2 "give either -c FILE or --nodes" "$RV" fs -ls /
expect_fail 2 "-frob: Unknown command" fs 1 -frob /
expect_fail 2 "-mkdir: Illegal option -- x" fs 1 -mkdir -x /a
expect_fail 2 "the port \"99999\" is not a number" "$RV" fs --nodes 127.0.0.1:99999 -ls /
expect_fail 2 "-stat: unknown format \"%q\"" fs 1 -stat '%q' /a
expect_fail 2 "-rmdir: Illegal option -- r" fs 1 -rmdir -r /a
expect_fail 2 "-rmdir: Not enough arguments: expected 1 but got 0" fs 1 -rmdir
expect_fail 3 "is the cluster running?" env RV_CLIENT_KEY= "$RV" fs --nodes 127.0.0.1:1 \
  --timeout 100 --retry 300 -ls /
# with a client key, a node whose public key is not known is not talked to at all
expect_fail 1 "no CURVE public key is known for node 127.0.0.1:1" "$RV" fs --nodes 127.0.0.1:1 -ls /
fs 1 --help >"$T/fs-help.txt"
grep -q -- "-count \[-q\] \[-h\] \[-v\]" "$T/fs-help.txt" || fail "fs --help lists -count"
log "ok: every operation and its errors"
