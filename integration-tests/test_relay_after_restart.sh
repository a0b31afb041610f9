#!/usr/bin/env bash
# A CLI request the supervisor relays to an actor (raft ..., haadmin's fencing) right after the
# actor was restarted: the actor is running, but the supervisor's connection to its new inbox
# may not be up yet (ZeroMQ reconnects every 10-100 ms, and the mailbox waits 50 ms at most on
# a first send). The supervisor keeps the request and sends it again (up to 3 s), so the CLI
# gets the actor's own answer, never a false "unavailable" (CI, ASan build: `raft transfer` on
# a follower answered EUNAVAIL instead of ENOTLEADER). Each round kills a follower's raft-peer
# and asks it again and again while it restarts; before the fix every run failed (3 of 3: 2-6
# false EUNAVAIL in about 55 requests).
source "$(dirname "$0")/lib.sh"
fs_cluster 3
leader=$(leader_agreed 3)
f=$(follower_of 3 "$leader")
rounds=6 bad=() asked=0
for k in $(seq 1 $rounds); do
  pid=$(actor_pid "$T/n$f.yaml" raft-peer)
  [ "$pid" -gt 1 ] || fail "round $k: n$f's raft-peer has no pid ($pid)"
  expect_restart "n$f" raft-peer
  kill -9 "$pid" # not `raftvisor restart`: a crash's backoff lets ZeroMQ's reconnect interval grow
  # ask again and again while it restarts: "not running" is a true answer until the supervisor
  # sees it run; from then on only raft-peer's own answer (ENOTLEADER) is right
  end=$((SECONDS + 15)) e=""
  while [ "$e" != ENOTLEADER ] && [ $SECONDS -lt $end ]; do
    code=0; out=$("$RV" raft --json -c "$T/n$f.yaml" transfer "n$f") || code=$?
    asked=$((asked + 1))
    e=$(jq -r '.error' <<<"$out")
    case "$e:$(jq -r '.message // empty' <<<"$out")" in
      ENOTLEADER:* | "EUNAVAIL:actor raft-peer is not running on node n$f") ;;
      *) bad+=("round $k: exit $code: $out") ;;
    esac
  done
  [ "$e" = ENOTLEADER ] || fail "round $k: n$f's raft-peer did not answer within 15 s: $out"
  log "round $k: raft-peer answered ($(jq -r '.message' <<<"$out"))"
  wait_for "round $k: one leader again" 20 leader_agreed 3 >/dev/null
done
resent=$(grep -c "relay #[0-9]* to raft-peer: .*sending again" "$T/n$f/log/supervisor.log" || true)
log "$asked requests in $rounds rounds; the supervisor sent $resent of them again"
[ ${#bad[@]} = 0 ] || fail "${#bad[@]} requests to a running raft-peer got no answer from it: ${bad[*]}"
log "ok: every request relayed to a restarted raft-peer reached it once it ran"
