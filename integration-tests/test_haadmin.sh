#!/usr/bin/env bash
# raftvisor haadmin on three nodes, every command and error, over the client ports: the states,
# -checkHealth (a node whose data disk is "too full" by its own threshold fails it, naming the
# check), -transitionToActive/-transitionToStandby, -failover and each of its refusals, usage
# errors in Hadoop's words, --nodes instead of -c, and a -failover from a dead leader with no
# fencing methods configured (fencing fails: "Unable to fence", TO not made active).
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
# n3 demands more free disk than any machine has: it is up, but unhealthy
sed -i 's/^health:$/health:\n  min-free-disk-mb: 100000000/' "$T/n3.yaml"
for i in 1 2 3; do "$RV" start --daemon -c "$T/n$i.yaml" >/dev/null || fail "start n$i"; supervisor_pid "$T/n$i.yaml" >>"$T/pids"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
HA() { "$RV" haadmin -c "$T/n1.yaml" "$@"; }
nodes="$(client_addr 1),$(client_addr 2),$(client_addr 3)"

# -- usage, in Hadoop's words; exit 2; -help exits 0
expect_fail 2 "Usage: raftvisor haadmin" "$RV" haadmin -c "$T/n1.yaml"
expect_fail 2 "failover: incorrect arguments" HA -failover n1
expect_fail 2 "failover: incorrect arguments" HA -failover --forcebogus n1 n2
expect_fail 2 "getServiceState: incorrect number of arguments" HA -getServiceState
expect_fail 2 "checkHealth: incorrect number of arguments" HA -checkHealth n1 n2
expect_fail 2 "frobnicate: Unknown command" HA -frobnicate
expect_fail 2 "Bad command 'failover': expected command starting with '-'" HA failover n1 n2
expect_fail 2 "give the cluster with -c FILE" "$RV" haadmin -getServiceState n1
out=$(HA -help failover) || fail "-help failover exited $?"
assert_contains "$out" "Failover from the first service to the second." "-help failover"
expect_fail 2 "Illegal argument: nameservice \"other\"" HA -ns other -getServiceState n1
expect_fail 1 "Unable to determine service address for namenode 'n9'" HA -getServiceState n9

# -- states: one active, two standby, the same through --nodes
leader=$(leader_agreed 3)
for i in 1 2 3; do
  st=$(HA -getServiceState "n$i") || fail "getServiceState n$i exited $?"
  if [ "n$i" = "$leader" ]; then assert_eq "$st" active "n$i"; else assert_eq "$st" standby "n$i"; fi
done
all=$(HA -getAllServiceState) || fail "getAllServiceState"
assert_eq "$(echo "$all" | grep -c ' active$')" 1 "active count in: $all"
assert_eq "$(echo "$all" | grep -c ' standby$')" 2 "standby count in: $all"
assert_contains "$all" "$(client_addr 1)" "getAllServiceState lists host:port"
all2=$("$RV" haadmin --nodes "$nodes" -getAllServiceState) || fail "--nodes getAllServiceState"
assert_eq "$(echo "$all2" | grep -c ' active$')" 1 "--nodes active count"
expect_fail 2 "Illegal argument: nameservice \"other\" is not the cluster of" "$RV" haadmin --nodes "$nodes" -ns other -getAllServiceState
"$RV" haadmin --nodes "$nodes" -ns it -getAllServiceState >/dev/null || fail "--nodes -ns it"
st=$("$RV" haadmin --nodes "$nodes" -getServiceState "$leader") || fail "--nodes by id"
assert_eq "$st" active "--nodes -getServiceState $leader"

# -- health: real checks, each failing one named
wait_for "n1 healthy" 10 HA -checkHealth n1
wait_for "n2 healthy" 10 HA -checkHealth n2
expect_fail 1 "Health check failed: disk: " HA -checkHealth n3
assert_contains "$(status_json "$T/n3.yaml" | jq -r .health_reason)" "disk: " "n3 status reason"

# -- transitions: to n1 and n2 (healthy), standby hands over to a healthy voter
HA -transitionToActive n2 || fail "transitionToActive n2 exited $?"
assert_eq "$(HA -getServiceState n2)" active "n2 after transitionToActive"
HA -transitionToActive n2 || fail "transitionToActive of the active node must succeed"
HA -transitionToStandby n2 || fail "transitionToStandby n2 exited $?"
assert_eq "$(HA -getServiceState n2)" standby "n2 after transitionToStandby"
assert_eq "$(HA -getServiceState n1)" active "n1 (the only other healthy voter)"
HA -transitionToStandby n3 || fail "transitionToStandby of a standby is a no-op"
expect_fail 2 "transitionToActive: incorrect arguments" HA -transitionToActive --forcefence n1

# -- failover: graceful, and every refusal (n2's verdict follows its new leader within a report)
wait_for "n2 healthy after the transitions" 10 HA -checkHealth n2
out=$(HA -failover n1 n2) || fail "failover n1 n2 exited $?"
assert_eq "$out" "Failover from n1 to n2 successful" "failover output"
assert_eq "$(HA -getServiceState n2)" active "n2 after failover"
"$RV" fs -c "$T/n1.yaml" -mkdir -p /after-failover || fail "a write after the failover"
expect_fail 1 "Failover failed: Can't failover a service to itself" HA -failover n2 n2
expect_fail 1 "Failover failed: Can't failover to an active service" HA -failover n1 n2
expect_fail 1 "Failover failed: Can't failover to an unhealthy service: disk: " HA -failover n2 n3
expect_fail 1 "Failover failed: Can't failover to an unhealthy service" HA -failover --forceactive n2 n3
out=$(HA -failover --forceactive n2 n1) || fail "failover --forceactive n2 n1"
assert_eq "$(HA -getServiceState n1)" active "n1 after failover back"

# -- a dead leader, no fencing methods: fencing cannot succeed, TO is not made active by us.
# n3 (unhealthy, but automatic failover is off: nothing stops a manual transfer) leads, then
# crashes (kill -9 of its whole node).
HA -transitionToActive n3 || fail "transitionToActive n3 exited $?"
assert_eq "$(HA -getServiceState n3)" active "n3 after transitionToActive"
for p in $(supervisor_pid "$T/n3.yaml") $(all_actor_pids "$T/n3.yaml"); do kill -9 "$p"; done
expect_fail 1 "Operation failed: cannot reach n3" HA -getServiceState n3
assert_contains "$(HA -getAllServiceState)" "Failed to connect" "getAllServiceState with n3 down"
wait_for "a new leader among n1, n2" 20 one_active "$T/n1.yaml"
if [ "$(HA -getServiceState n2)" = active ]; then to=n1; new=2; else to=n2; new=1; fi
# no fencing methods: the new leader waits for nothing after the crash
fs "$new" --retry 3000 -mkdir -p /after-crash || fail "the new leader n$new must take writes at once"
assert_eq "$(status_json "$T/n$new.yaml" | jq -r '.raft.fence // ""')" "" "no fence without methods"
expect_fail 1 "Failover failed: Unable to fence n3. Fencing failed." HA -failover n3 "$to"
expect_fail 1 "no fencing methods configured" HA -failover n3 "$to"
assert_eq "$(HA -getServiceState "$to")" standby "$to after the failed failover"
log "ok"
