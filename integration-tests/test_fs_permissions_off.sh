#!/usr/bin/env bash
# security.permissions: false (HDFS's dfs.permissions.enabled=false): nothing is checked, but
# owners, groups and modes are still recorded as with checks on. As alice: -cat of the
# superuser's 0600 file, -rm of a file in the superuser's 0755 root and -chown to another user
# all succeed; what alice creates is hers, in its parent's group, with the umask applied.
source "$(dirname "$0")/lib.sh"
SECURITY_YAML="security:
  insecure: true
  superuser: $(id -un)
  permissions: false"
unset RV_CLIENT_KEY RV_SERVER_KEYS # an insecure cluster: plain tcp, asserted users
fs_cluster 3
as() { local u=$1 i=$2; shift 2; HADOOP_USER_NAME=$u "$RV" fs -c "$T/n$i.yaml" "$@"; }
fs 1 -touchz /f
fs 1 -chmod 600 /f
as alice 2 -cat /f >/dev/null || fail "alice's -cat of a 0600 file with permissions off"
as alice 1 -touchz /g
assert_eq "$(fs 1 --json -stat /g | jq -r '[.owner, .group, .perm] | @tsv')" \
  "alice	supergroup	0644" "alice's new file: still recorded as hers"
as alice 1 -chown bob /g || fail "alice's -chown with permissions off"
assert_eq "$(fs 1 --json -stat /g | jq -r .owner)" "bob" "the owner after alice's chown"
out=$(as alice 3 -rm /f) || fail "alice's -rm of the superuser's file with permissions off: $out"
assert_eq "$out" "Deleted /f" "-rm's output"
log "ok: permissions off checks nothing and still records owners"
