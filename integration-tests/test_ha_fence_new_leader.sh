#!/usr/bin/env bash
# A new leader after a crash of the old one (kill -9 of its whole node): with fencing methods
# configured, it takes no writes until a method has fenced the old leader (a clear retriable
# error meanwhile, reads go on, status and -checkHealth say why), retrying with backoff while the
# method fails; once the method succeeds, writes go through. Then -failover --forcefence with a
# method that fails: "Unable to fence", and TO stays a standby. The same crash on a cluster with
# no methods: the new leader takes writes at once (test_haadmin covers it with no methods too).
source "$(dirname "$0")/lib.sh"
cluster_yaml 3 health-monitor raft-peer kv-store
# the method succeeds only once $T/allow exists, and records every call
for i in 1 2 3; do
  cat >>"$T/n$i.yaml" <<YAML
ha:
  fencing:
    methods: ["shell(echo \$target_namenodeid >>$T/fence-calls; test -f $T/allow)"]
    shell-timeout-ms: 5000
YAML
done
for i in 1 2 3; do "$RV" start --daemon -c "$T/n$i.yaml" >/dev/null || fail "start n$i"; supervisor_pid "$T/n$i.yaml" >>"$T/pids"; done
wait_for "one leader agreed by all" 20 leader_agreed 3
fs 1 -mkdir -p /before || fail "write before the crash"
old=$(leader_agreed 3)
spid=$(supervisor_pid "$T/$old.yaml")
log "kill -9 the whole node $old (supervisor $spid and its actors)"
for p in $spid $(all_actor_pids "$T/$old.yaml"); do kill -9 "$p"; done
other=$(follower_of 3 "$old")
HA() { "$RV" haadmin -c "$T/n$other.yaml" "$@"; }
wait_for "a new leader" 20 one_active "$T/n$other.yaml"
new=""
for i in 1 2 3; do [ "n$i" != "$old" ] && [ "$(HA -getServiceState "n$i")" = active ] && new=$i; done
[ -n "$new" ] || fail "no active node after the crash"
wait_for "n$new fences $old" 10 file_lines "$T/fence-calls" 1
assert_eq "$(head -n1 "$T/fence-calls")" "$old" "fence target"
fence=$(status_json "$T/n$new.yaml" | jq -r '.raft.fence // ""')
assert_contains "$fence" "fencing $old" "status fence"
out=$(fs_at "$new" --retry 300 -mkdir -p /during 2>&1) && fail "a write went through while fencing"
assert_contains "$out" "takes no writes yet: fencing $old" "the retriable error"
fs_at "$new" -ls / >/dev/null || fail "reads must keep working while fencing"
expect_fail 1 "Health check failed: fence: fencing $old" HA -checkHealth "n$new"
wait_for "a second attempt (backoff)" 10 file_lines "$T/fence-calls" 2
touch "$T/allow"
wait_for "the fence succeeds and writes go through" 40 fs "$new" --retry 300 -mkdir -p /after
assert_eq "$(status_json "$T/n$new.yaml" | jq -r '.raft.fence // ""')" "" "fence cleared"
wait_for "n$new healthy" 10 HA -checkHealth "n$new"

# --forcefence with a failing method: no failover
rm -f "$T/allow"
to=""
for i in 1 2 3; do [ "n$i" != "$old" ] && [ "$i" != "$new" ] && to=$i; done
expect_fail 1 "Failover failed: Unable to fence n$new. Fencing failed." HA -failover --forcefence "n$new" "n$to"
assert_eq "$(HA -getServiceState "n$to")" standby "n$to after the refused failover"
assert_eq "$(HA -getServiceState "n$new")" active "n$new after the refused failover"
log "ok: fence attempts $(wc -l <"$T/fence-calls")"
