#!/usr/bin/env bash
# Attribute commands on a three-node cluster, with the real CLI: -chmod (octal, symbolic, -R over
# a small tree, entries already right left unwritten), -chown, -chgrp, -touch (-a, -m, -t, -c,
# creating a missing file), each written through a follower and read back on another node with
# -stat, -ls and --json; bad arguments are usage errors (exit 2) naming the argument, before
# anything is sent; and -digest: every node at one applied index reports one digest, which moves
# with a change.
source "$(dirname "$0")/lib.sh"
export TZ=UTC # -touch -t takes local time (as Hadoop); -stat prints UTC, -ls local time
fs_cluster 3
leader=$(leader_agreed 3)
f=$(follower_of 3 "$leader")
r=${leader#n} # reads on the leader: another node than the writer
log "leader $leader; writing through follower n$f, reading on n$r"

fs "$f" -mkdir -p /t/d1/d2 || fail "mkdir -p"
printf 'x' | fs "$f" -put - /t/f1 || fail "put /t/f1"
printf 'yy' | fs "$f" -put - /t/d1/f2 || fail "put /t/d1/f2"
fs "$f" -touchz /t/d1/d2/f3 || fail "touchz"
stat_at() { fs_at "$r" -stat "$@"; }

# chmod: octal, the sticky bit, symbolic clauses
fs "$f" -chmod 600 /t/f1 || fail "chmod 600"
assert_eq "$(stat_at '%a %A' /t/f1)" "600 rw-------" "chmod 600 seen on n$r"
fs "$f" -chmod 1777 /t || fail "chmod 1777"
assert_eq "$(stat_at '%a %A' /t)" "1777 rwxrwxrwt" "chmod 1777"
matches '^drwxrwxrwt +- .* /t$' "$(fs_at "$r" -ls /)" ||
  fail "ls shows the sticky bit: $(fs_at "$r" -ls /)"
fs "$f" -chmod u+x,go-w,a+r /t/f1 || fail "chmod u+x,go-w,a+r"
assert_eq "$(stat_at '%a' /t/f1)" "744" "symbolic chmod"
fs "$f" -chmod o-t,g=rx /t || fail "chmod o-t,g=rx"
assert_eq "$(stat_at '%a' /t)" "757" "symbolic chmod of a directory"
matches '^-rwxr--r-- +3 .* /t/f1$' "$(fs_at "$r" -ls /t)" ||
  fail "ls shows the mode: $(fs_at "$r" -ls /t)"
expect_fail 1 "chmod: \`/t/nope': No such file or directory" fs "$f" -chmod 700 /t/nope

# chmod -R: the path and everything below it, nothing else; a second run writes nothing
fs "$f" -chmod -R 750 /t/d1 || fail "chmod -R 750"
for p in /t/d1 /t/d1/d2 /t/d1/f2 /t/d1/d2/f3; do
  assert_eq "$(stat_at '%a' "$p")" "750" "chmod -R 750: $p"
done
assert_eq "$(stat_at '%a' /t/f1)" "744" "chmod -R leaves what is outside the subtree"
fs "$f" -chmod -R a-x,a+X /t/d1 || fail "chmod -R a-x,a+X"
assert_eq "$(stat_at '%a' /t/d1 /t/d1/d2 /t/d1/f2 /t/d1/d2/f3 | tr '\n' ' ')" "751 751 640 640 " \
  "a-x,a+X: x for directories only"
out=$(fs "$f" --json -chmod -R a-x,a+X /t/d1) || fail "chmod -R --json"
echo "$out" | jq -s -e 'length == 4 and all(.[]; .ok and (.changed | not))' >/dev/null ||
  fail "a repeated chmod -R writes nothing: $out"

# chown, chgrp (-R too)
fs "$f" -chown alice:staff /t/f1 || fail "chown alice:staff"
assert_eq "$(stat_at '%u %g' /t/f1)" "alice staff" "chown OWNER:GROUP"
fs "$f" -chown bob /t/f1 || fail "chown bob"
fs "$f" -chown :ops /t/f1 || fail "chown :ops"
assert_eq "$(stat_at '%u %g' /t/f1)" "bob ops" "chown OWNER, then :GROUP"
fs "$f" -chown -R carol:devs /t/d1 || fail "chown -R"
assert_eq "$(stat_at '%u:%g' /t/d1 /t/d1/d2 /t/d1/f2 /t/d1/d2/f3 | sort -u)" "carol:devs" "chown -R"
matches '^-rw-r----- +3 carol devs +2 .* /t/d1/f2$' "$(fs_at "$r" -ls /t/d1)" ||
  fail "ls shows owner and group: $(fs_at "$r" -ls /t/d1)"
fs "$f" -chgrp -R qa /t || fail "chgrp -R"
assert_eq "$(fs_at "$r" -ls -R /t | awk '{print $3 ":" $4}' | sort -u | tr '\n' ' ')" \
  "bob:qa carol:qa " "chgrp -R changes groups only"
fs "$f" --json -stat /t/f1 | jq -e '.owner == "bob" and .group == "qa" and .perm == "0744"' \
  >/dev/null || fail "stat --json"

# touch: -t, -m, -a, now, creating, -c, a directory
fs "$f" -touch -t 20200102:030405 /t/f1 || fail "touch -t"
assert_eq "$(stat_at '%x|%y' /t/f1)" "2020-01-02 03:04:05|2020-01-02 03:04:05" "touch -t"
matches ' 2020-01-02 03:04 /t/f1$' "$(fs_at "$r" -ls /t)" ||
  fail "ls shows the mtime: $(fs_at "$r" -ls /t)"
fs "$f" -touch -m -t 20210101:000000 /t/f1 || fail "touch -m"
assert_eq "$(stat_at '%x|%y' /t/f1)" "2020-01-02 03:04:05|2021-01-01 00:00:00" "touch -m"
fs "$f" -touch -a -t 20220101:000000 /t/f1 || fail "touch -a"
assert_eq "$(stat_at '%x|%y' /t/f1)" "2022-01-01 00:00:00|2021-01-01 00:00:00" "touch -a"
before=$(($(date +%s%3N) - 5000))
fs "$f" -touch /t/f1 || fail "touch (now)"
read -r x y <<<"$(stat_at '%X %Y' /t/f1)"
[ "$x" = "$y" ] && [ "$y" -ge "$before" ] || fail "touch: both times now (>= $before): $x $y"
assert_eq "$(fs "$f" -cat /t/f1)" "x" "touch keeps the content"
fs "$f" -touch /t/new || fail "touch of a missing file"
assert_eq "$(stat_at '%F %b %u' /t/new)" "regular file 0 $(id -un)" "touch makes an empty file"
fs "$f" -touch -t 19991231:235959 /t/new2 || fail "touch -t of a missing file"
assert_eq "$(stat_at '%y' /t/new2)" "1999-12-31 23:59:59" "a new file takes the timestamp"
fs "$f" -touch -c /t/absent || fail "touch -c of a missing file"
expect_fail 1 "stat: \`/t/absent': No such file or directory" stat_at %y /t/absent
fs "$f" -touch -m -t 20230405:060708 /t/d1 || fail "touch of a directory"
assert_eq "$(stat_at '%y' /t/d1)" "2023-04-05 06:07:08" "touch of a directory"
expect_fail 1 "touch: \`/t/nodir/x': No such file or directory" fs "$f" -touch /t/nodir/x
fs "$f" --json -touch /t/new3 | jq -e '.ok and .created and .index > 0' >/dev/null ||
  fail "touch --json"

# usage errors: exit 2, naming the argument, nothing sent
expect_fail 2 "-chmod: chmod : mode 'u+q' does not match the expected pattern." fs 1 -chmod u+q /t
expect_fail 2 "mode \"u+q\": clause 1: expected permissions" fs 1 -chmod u+q /t
expect_fail 2 "mode \"4755\": an octal mode is 3 digits" fs 1 -chmod 4755 /t
expect_fail 2 "mode \"g\": clause 1: expected an operator" fs 1 -chmod -R g /t
expect_fail 2 "-chmod: Illegal option -- Z" fs 1 -chmod -Z 755 /t
expect_fail 2 "-chmod: Not enough arguments: expected 2 but got 1" fs 1 -chmod 755
expect_fail 2 "-chown: '' does not match expected pattern for [owner][:group]." fs 1 -chown "" /t
expect_fail 2 "\"\" names neither an owner nor a group" fs 1 -chown "" /t
expect_fail 2 "\"a b\": the owner holds ' '" fs 1 -chown "a b" /t
expect_fail 2 "-chgrp: '' does not match expected pattern for group" fs 1 -chgrp "" /t
expect_fail 2 "-chgrp: Not enough arguments: expected 2 but got 1" fs 1 -chgrp qa
expect_fail 2 "-touch: timestamp \"2020-01-01\": expected yyyyMMdd:HHmmss" \
  fs 1 -touch -t 2020-01-01 /t/f1
expect_fail 2 "timestamp \"20230230:000000\": no such date" fs 1 -touch -t 20230230:000000 /t/f1
expect_fail 2 "-touch: -t needs a TIMESTAMP" fs 1 -touch -t
expect_fail 2 "-touch: Not enough arguments: expected 1 but got 0" fs 1 -touch -a
expect_fail 2 "-digest: takes no arguments" fs 1 -digest /t
assert_eq "$(stat_at '%a %u %g' /t/f1)" "744 bob qa" "usage errors change nothing"
fs 1 --help >"$T/fs-help.txt" # (not piped into grep -q: under pipefail its early exit fails fs)
grep -q -- "-chmod \[-R\] <MODE" "$T/fs-help.txt" || fail "fs --help lists -chmod"
fs 1 -usage chmod >"$T/fs-usage.txt"
grep -q -- "-chmod \[-R\] <MODE\[,MODE\]... | OCTALMODE> PATH..." "$T/fs-usage.txt" ||
  fail "fs -usage chmod"
grep -q -- "-digest" "$T/fs-help.txt" || fail "fs --help lists -digest"

# -digest: one digest on every node at one applied index; it moves with a change
digests_equal 3
d1=$DIGEST
i1=$DIGEST_INDEX
fs_at "$r" --json -digest | jq -e --arg d "$d1" --arg n "$(client_addr "$r")" \
  '.ok and .digest == $d and .scope == "namespace" and .index > 0 and .node == $n' >/dev/null ||
  fail "digest --json: $(fs_at "$r" --json -digest)"
fs "$f" -chmod 700 /t/f1 || fail "chmod 700"
digests_equal 3
[ "$DIGEST" != "$d1" ] && [ "$DIGEST_INDEX" -gt "$i1" ] ||
  fail "a chmod changes the digest and the index: $d1@$i1 -> $DIGEST@$DIGEST_INDEX"
log "ok: chmod, chown, chgrp, touch; digest $DIGEST at index $DIGEST_INDEX on every node"
