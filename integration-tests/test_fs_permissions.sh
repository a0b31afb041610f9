#!/usr/bin/env bash
# HDFS permissions enforced on the server (issue 8): the cluster believes the user a request
# asserts (security.insecure, until clients authenticate with CURVE) and checks it as HDFS's
# FSPermissionChecker does, in the apply path of every node. As alice, -rm of the superuser's
# file prints Hadoop's "Permission denied" line and the file stays (--json: code 26, EPERM);
# -chown by a non-superuser is refused; chmod by another user too; a /tmp with the sticky bit
# lets bob create but not remove alice's file; reads are checked on the serving node (cat of a
# 0600 file, ls of a 0700 directory); creates record the user as owner and the parent's group;
# every node holds the same namespace afterwards.
source "$(dirname "$0")/lib.sh"
SU=$(id -un)
SECURITY_YAML="security:
  insecure: true
  superuser: $SU
  groups: [\"alice=staff\", \"bob=staff,eng\"]"
unset RV_CLIENT_KEY RV_SERVER_KEYS # an insecure cluster: plain tcp, asserted users
fs_cluster 3
as() { # as USER I ARGS...: raftvisor fs through node nI as USER
  local u=$1 i=$2
  shift 2
  HADOOP_USER_NAME=$u "$RV" fs -c "$T/n$i.yaml" "$@"
}
root_dir="\"/\":$SU:supergroup:drwxr-xr-x"

fs 1 -touchz /f
expect_fail 1 "rm: Permission denied: user=alice, access=WRITE, inode=$root_dir" as alice 2 -rm /f
fs 1 -stat /f >/dev/null || fail "/f is gone after a refused -rm"
rc=0
out=$(as alice 1 --json -rm /f) || rc=$?
assert_eq "$rc" 1 "exit of a refused -rm --json"
assert_eq "$(echo "$out" | jq -r '[.code, .error] | @tsv')" "26	EPERM" "--json code of a refused -rm"
expect_fail 1 "mkdir: Permission denied: user=alice, access=WRITE, inode=$root_dir" \
  as alice 1 -mkdir -p /alice/x
log "ok: -rm and -mkdir of another's directory refused as Hadoop says it"

# creates: owner = the user, group = the parent's; chown is the superuser's
fs 1 -mkdir -p /home/alice
fs 1 -chown alice:staff /home/alice
as alice 2 -touchz /home/alice/f
assert_eq "$(fs 1 --json -stat /home/alice/f | jq -r '[.owner, .group, .perm] | @tsv')" \
  "alice	staff	0644" "owner, group and mode of alice's new file (umask 022)"
expect_fail 1 "chown: changing ownership of '/home/alice/f': User alice is not a super user (non-super user cannot change owner)." \
  as alice 1 -chown bob /home/alice/f
expect_fail 1 "chgrp: changing ownership of '/home/alice/f': User alice does not belong to eng" \
  as alice 1 -chgrp eng /home/alice/f
expect_fail 1 "chmod: changing permissions of '/home/alice/f': Permission denied. user=bob is not the owner of inode=/home/alice/f" \
  as bob 1 -chmod 777 /home/alice/f
assert_eq "$(fs 1 --json -stat /home/alice/f | jq -r '[.owner, .group, .perm] | @tsv')" \
  "alice	staff	0644" "attributes after the refused changes"
as alice 1 -chmod 600 /home/alice/f
fs 1 -chown bob /home/alice/f
assert_eq "$(fs 1 --json -stat /home/alice/f | jq -r '[.owner, .perm] | @tsv')" "bob	0600" \
  "the owner's chmod and the superuser's chown"
log "ok: owner-only chmod, superuser-only chown, chgrp to one's own groups"

# the sticky bit: anyone may create in /tmp, only the owner (of the file or of /tmp) removes
fs 1 -mkdir /tmp
fs 1 -chmod 1777 /tmp
as alice 1 -touchz /tmp/a
as bob 2 -touchz /tmp/b
expect_fail 1 "rm: Permission denied by sticky bit: user=bob, path=\"/tmp/a\":alice:supergroup:-rw-r--r--, parent=\"/tmp\":$SU:supergroup:drwxrwxrwt" \
  as bob 3 -rm /tmp/a
expect_fail 1 "mv: Permission denied by sticky bit: user=bob" as bob 1 -mv /tmp/a /tmp/c
fs 1 -stat /tmp/a >/dev/null || fail "/tmp/a is gone after refused -rm and -mv"
as alice 1 -rm /tmp/a
as bob 1 -rm /tmp/b
log "ok: sticky /tmp"

# reads, checked on whichever node serves them (followers included)
fs 1 -chmod 600 /f
fs 1 -mkdir -p /private/inside
fs 1 -chmod 700 /private
for i in 1 2 3; do
  expect_fail 1 "cat: Permission denied: user=alice, access=READ, inode=\"/f\":$SU:supergroup:-rw-------" \
    as alice "$i" -cat /f
  expect_fail 1 "ls: Permission denied: user=alice, access=READ_EXECUTE, inode=\"/private\":$SU:supergroup:drwx------" \
    as alice "$i" -ls /private
done
expect_fail 1 "Permission denied: user=alice, access=EXECUTE, inode=\"/private\"" \
  as alice 1 -stat /private/inside
expect_fail 1 "Access denied for user alice. Superuser privilege is required" as alice 1 -digest
fs 1 -cat /f >/dev/null || fail "the superuser's -cat"
log "ok: reads checked on every node"

# every replica applied the same decisions
d1=$(fs_at 1 -digest | awk '{print $1}')
same_digest() { [ "$(fs_at "$1" -digest | awk '{print $1}')" = "$d1" ]; }
for i in 2 3; do wait_for "n$i's namespace equals n1's" 10 same_digest "$i"; done
log "ok: permissions enforced, replicas agree"
