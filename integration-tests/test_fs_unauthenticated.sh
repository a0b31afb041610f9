#!/usr/bin/env bash
# The secure default (issue 8): a cluster whose YAML does not say security.insecure: true never
# believes the user a request asserts; a client whose connection is not authenticated (no
# CURVE in this build) is refused, reads and writes alike, with RV_EPERM and a message saying
# why, even when it claims to be the superuser. Nothing is written.
source "$(dirname "$0")/lib.sh"
SECURITY_YAML="security:
  insecure: false"
cluster_yaml 1 health-monitor raft-peer kv-store
start_node "$T/n1.yaml"
wait_for "a leader" 20 leader_agreed 1
why="Permission denied: the connection is not authenticated"
expect_fail 1 "mkdir: $why" env HADOOP_USER_NAME="$(id -un)" "$RV" fs -c "$T/n1.yaml" -mkdir /x
expect_fail 1 "ls: $why" "$RV" fs -c "$T/n1.yaml" -ls /
rc=0
out=$("$RV" fs -c "$T/n1.yaml" --json -touchz /y) || rc=$?
assert_eq "$rc" 1 "exit of an unauthenticated -touchz --json"
assert_eq "$(echo "$out" | jq -r .error)" "EPERM" "--json error of an unauthenticated write"
log "ok: unauthenticated clients refused by a secure cluster"
