#!/usr/bin/env bash
# Who a client is comes from its CURVE key, never from what it asserts (issue 8): on a secure
# cluster, alice's key (listed in security.clients as principal alice) is alice even when her
# requests claim to be the superuser (HADOOP_USER_NAME): -rm of the superuser's file is refused
# in Hadoop's words naming user=alice and the file stays; what she creates in a directory open
# to her is owned by alice; -chown by her is refused. The superuser's key does what she cannot.
source "$(dirname "$0")/lib.sh"
SECURITY_CLIENTS="alice"
SECURITY_EXTRA='  groups: ["alice=staff"]'
fs_cluster 3
as_alice() { # as_alice I ARGS...: raftvisor fs through node nI with alice's key
  local i=$1
  shift
  HADOOP_USER_NAME=$ADMIN "$RV" fs --key "$T/keys/alice.secret" -c "$T/n$i.yaml" "$@"
}
fs 1 -touchz /f
fs 1 -mkdir /open
fs 1 -chmod 777 /open
expect_fail 1 "rm: Permission denied: user=alice, access=WRITE, inode=\"/\":$ADMIN:supergroup:drwxr-xr-x" \
  as_alice 2 -rm /f
fs 1 -stat /f >/dev/null || fail "/f is gone after alice's refused -rm"
as_alice 3 -touchz /open/mine || fail "alice cannot create in a 0777 directory"
owner=$(fs 1 -stat %u /open/mine)
assert_eq "$owner" alice "the owner of what alice's key created (she asserted $ADMIN)"
expect_fail 1 "User alice is not a super user" as_alice 1 -chown "$ADMIN" /open/mine
fs 1 -chown alice /f || fail "the superuser's -chown"
as_alice 2 -rm /open/mine || fail "alice's -rm of her own file"
# HA administration (moving leadership, fencing) is the superuser's; states are open to all
rc=0
leader=$(leader_agreed 3)
to=n$(follower_of 3 "$leader")
out=$(RV_CLIENT_KEY=$T/keys/alice.secret "$RV" haadmin -c "$T/n1.yaml" -failover "$leader" "$to" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "alice's -failover went through: $out"
assert_contains "$out" "Access denied for user alice. Superuser privilege is required" "alice's -failover"
RV_CLIENT_KEY=$T/keys/alice.secret "$RV" haadmin -c "$T/n1.yaml" -getAllServiceState >/dev/null ||
  fail "alice cannot read the service states"
digests_equal 3
log "ok: the principal is the key's, whatever the client asserts"
