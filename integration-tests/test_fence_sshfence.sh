#!/usr/bin/env bash
# sshfence against a real sshd on a loopback port (keys generated here): node n1's fencer stops
# node n2 for good, its supervisor included, so nothing restarts it: afterwards no process of n2
# runs and nothing listens on its ports. Also: an sshd that is not there fails the method and the
# next one is tried; fencing a node that is already down succeeds only because nothing listens on
# its ports; a port held by a process that is not a raftvisor actor is never "fenced".
source "$(dirname "$0")/lib.sh"
SSHD=/usr/sbin/sshd
[ -x $SSHD ] || fail "$SSHD is missing: run scripts/setup.sh (openssh-server)"
command -v ssh >/dev/null || fail "ssh is missing: run scripts/setup.sh (openssh-client)"
[ -d /run/sshd ] || mkdir -p /run/sshd || fail "sshd needs /run/sshd (privilege separation)"

# keys and sshd, on a loopback port of our own
mkdir -m 700 "$T/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" || fail "ssh-keygen (host)"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id_fence" || fail "ssh-keygen (user)"
cp "$T/ssh/id_fence.pub" "$T/ssh/authorized_keys"
sshport=$((FENCE_BASE + 200))
cat >"$T/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1
HostKey $T/ssh/host_key
AuthorizedKeysFile $T/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PidFile none
CONF
$SSHD -D -e -f "$T/ssh/sshd_config" -p "$sshport" 2>"$T/sshd.log" &
sshd=$!
echo $sshd >>"$T/pids"
wait_for "sshd listening on $sshport" 10 listening "$sshport"

user=$(id -un)
deadport=$((FENCE_BASE + 201)) # nothing listens there: that sshfence fails
n1=$(fence_yaml n1 health-monitor "  fencing:
    ssh-private-key-files: [$T/ssh/id_fence]
    ssh-connect-timeout-ms: 5000
    shell-timeout-ms: 20000
    methods:
      - sshfence($user:$deadport)
      - sshfence($user:$sshport)")
n2=$(fence_yaml n2 "health-monitor raft-peer kv-store" "  automatic-failover: false")
start_node "$n1"
start_node "$n2"
wait_for "n1's fencer running" 10 field_is "$n1" fencer state running
raft=$((FENCE_BASE + 2))
client=$((FENCE_BASE + 102))
wait_for "n2's raft-peer listening on $raft" 20 listening "$raft"
wait_for "n2's kv-store listening on $client" 20 listening "$client"
sup2=$(supervisor_pid "$n2")
pids2=$(all_actor_pids "$n2" | tr '\n' ' ')
log "n2: supervisor $sup2, actors $pids2"

log "fence n2 over ssh"
expect_node_down n2 # fenced on purpose: stopped for good
out=$("$RV" fence -c "$n1" n2 2>"$T/fence.err")
rc=$?
echo "$out"
[ $rc = 0 ] || fail "raftvisor fence exited $rc: $(cat "$T/fence.err"); sshd: $(tail -5 "$T/sshd.log")"
assert_contains "$out" "method 1/2 sshfence($user:$deadport): attempt 1: failed: exit status 255" \
  "the sshfence to a port without sshd"
assert_contains "$out" "method 2/2 sshfence($user:$sshport): attempt 1: fenced: exit status 0" \
  "the sshfence through sshd"
# for good: the supervisor and every actor gone, nothing listening, nothing restarted
for p in $sup2 $pids2; do wait_for "n2's pid $p gone" 10 gone "$p"; done
listening "$raft" && fail "something listens on n2's raft port $raft after the fence"
listening "$client" && fail "something listens on n2's client port $client after the fence"
expect_fail 3 "node n2 is not running" "$RV" status -c "$n2"
grep -q "killing supervisor pid $sup2 (stopped first, so it restarts nothing)" \
  "$T/n1/log/fencer.log" || fail "the fencer's log does not show the remote script's report"

log "fencing n2 again: nothing of it runs and nothing listens: fenced"
out=$("$RV" fence -c "$n1" n2 2>&1) || fail "second fence failed: $out"
grep -q "nothing of the node runs and nothing listens on ports $raft $client: fenced" \
  "$T/n1/log/fencer.log" || fail "the second fence did not find the node down"

log "a port held by something that is not a raftvisor actor is not fenced"
python3 -c "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $raft)); s.listen(); time.sleep(600)" &
squatter=$!
echo $squatter >>"$T/pids"
wait_for "the squatter listening on $raft" 10 listening "$raft"
expect_fail 1 "Unable to fence service by any configured method: node n2 is not fenced" \
  "$RV" fence -c "$n1" n2
grep -q "port $raft is held by pid $squatter (python3), not an actor of a raftvisor node: not fenced" \
  "$T/n1/log/fencer.log" || fail "the refusal is not logged"
alive "$squatter" || fail "sshfence killed a process that is not part of the node"
kill "$squatter" "$sshd"
log "ok"
