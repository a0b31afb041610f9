# nemesis_lib.sh: Jepsen-style runs against a three-node cluster on a real network (netns.sh).
# Sourced by a scenario after lib.sh. One run:
#   1. two client workloads start (rv-lin-workload): 4 clients doing put/create/cat/stat/rm on
#      4 paths (the history for rv-lincheck), and 2 clients creating files that are never
#      touched again (the acknowledged writes every node must hold at the end);
#   2. once they made progress, the nemesis acts for a while, then heals (the fault stops, a
#      killed node is started again);
#   3. the cluster must answer 30 more operations within 60 s of the heal (liveness); the load
#      goes on NEM_TAIL_S seconds and is stopped (a stop file: what is in flight completes);
#   4. the cluster must agree on one leader, every node must reach one applied index with one
#      digest (digests_equal), every acknowledged create must be in every node's own state
#      (stale reads), and the history must be linearizable.
# Each run appends one line to $T/results.tsv; nem_report prints the table. Every run declares to
# the harness check (lib.sh) the restarts it may cause: expect_restart for what it kills or
# pauses past the heartbeat timeout, expect_node_down for the nodes it kills.
#
# Nemeses (NEM_ALL): pause-actor, pause-node, pause-supervisor (SIGSTOP, then SIGCONT),
# pause-follower (a follower's node SIGSTOPped, and the leader and the other follower cut from
# each other around its resume: the vote lease a resumed voter must keep),
# kill-actor, kill-node, kill-all (SIGKILL; the killed nodes are started again), partition-leader
# (the leader cut from both followers), partition-bridge (the leader and one follower cut from
# each other; the third node sees both), partition-oneway (all the leader sends is lost),
# disk-follower, disk-leader (the node's data disk, a 64 MiB tmpfs, filled to the last byte,
# then freed; so small that the Raft log is already on short segments and the fill bites at
# once: with 256 MiB, RocksDB's preallocated WAL and a pre-written 16 MiB log segment let the
# node write on for the whole fault), clock-jump (a node's wall clock jumps by hours or a day, forward or back, under
# libfaketime; CLOCK_MONOTONIC untouched, as a stepped NTP clock leaves it).

NEM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$NEM_LIB_DIR/netns.sh"

NEM_ALL=pause-actor,pause-node,pause-follower,pause-supervisor,kill-actor,kill-node,kill-all,partition-leader,partition-bridge,partition-oneway,disk-follower,disk-leader,clock-jump
NEM_N=3
NEM_RAFT_PORT=7101
NEM_CLIENT_PORT=7201
NEM_FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
NEM_TMPFS_MB=${NEM_TMPFS_MB:-0}   # > 0: each node's data-dir is a tmpfs of that size
NEM_FAKETIME=${NEM_FAKETIME:-0}   # 1: nodes run under libfaketime (for clock-jump)
NEM_TAIL_S=${NEM_TAIL_S:-3}       # the workloads go on this long after the heal
NEM_RUN=0

# nem_cluster_up: namespaces, YAML and three started nodes with a leader, ready for runs.
nem_cluster_up() {
  netns_up "$NEM_N"
  s_nem_nodes_up
}

# nem_cluster_renew: a fresh cluster in the same namespaces: every node stopped (with the
# harness check of its restarts and exits), its data-dir wiped (logs kept aside for the
# sanitizer scan), started again empty. A long run renews every NEM_RUNS_PER_CLUSTER runs, so
# that the namespace, and a small tmpfs, do not fill up with the runs' history.
nem_cluster_renew() {
  local i k
  for ((i = 1; i <= NEM_N; i++)); do stop_node "$T/n$i.yaml"; done
  for ((i = 1; i <= NEM_N; i++)); do
    if [ "$NEM_TMPFS_MB" -gt 0 ]; then
      # the logs are on the tmpfs too: kept aside (as wipe_node does) before it goes
      k=1
      while [ -e "$T/saved-logs/n$i.$k" ]; do k=$((k + 1)); done
      mkdir -p "$T/saved-logs/n$i.$k"
      cp -r "$T/n$i/log/." "$T/saved-logs/n$i.$k/"
      umount "$T/n$i"
      rmdir "$T/n$i"
    else
      wipe_node "n$i"
    fi
  done
  log "cluster stopped and wiped; starting a fresh one"
  s_nem_nodes_up
}

# Whether a node's data-dir tmpfs has less than half its size free: the runs' history filled a
# 64 MiB tmpfs five runs into a cluster once the namespace got faster (a full disk no nemesis
# made, so a failed run). A node holds about 46 MiB of it at once (RocksDB preallocates each WAL
# at 1.1 memtables, 35 MiB, and Raft writes its spare segments), and a memtable switch needs
# another WAL: with less than half free, the cluster is renewed before the next run (with 64 MiB,
# after every run; a bigger NEM_TMPFS_MB keeps a cluster for more runs).
s_nem_disks_filling() {
  [ "$NEM_TMPFS_MB" -gt 0 ] || return 1
  local i avail
  for ((i = 1; i <= NEM_N; i++)); do
    avail=$(df --output=avail -k "$T/n$i" 2>/dev/null | tail -n 1 | tr -d ' ')
    [ -n "$avail" ] || continue
    if [ "$avail" -lt $((NEM_TMPFS_MB * 1024 / 2)) ]; then
      log "n$i's data disk has ${avail} KiB free of ${NEM_TMPFS_MB} MiB: renewing the cluster"
      return 0
    fi
  done
  return 1
}

s_nem_nodes_up() {
  local i k nodes=""
  for ((k = 1; k <= NEM_N; k++)); do
    nodes+="    - {public-key: \"$(key_of "n$k")\", id: n$k, host: $(netns_ip "$k"), raft-port: $NEM_RAFT_PORT, client-port: $NEM_CLIENT_PORT}
"
  done
  for ((i = 1; i <= NEM_N; i++)); do
    mkdir -p "$T/n$i"
    if [ "$NEM_TMPFS_MB" -gt 0 ]; then
      mount -t tmpfs -o "size=${NEM_TMPFS_MB}m,mode=0700" "rvnem-n$i" "$T/n$i" ||
        fail "cannot mount a ${NEM_TMPFS_MB} MiB tmpfs on $T/n$i"
      # at exit, after the harness check: the logs on the tmpfs are kept aside (a failed
      # scenario keeps $T), then it goes
      at_cleanup "! mountpoint -q $T/n$i || { mkdir -p $T/saved-logs/n$i.final && cp -r $T/n$i/log/. $T/saved-logs/n$i.final/; umount -l $T/n$i; }"
    fi
    echo "+0" >"$T/clock.n$i"
    cat >"$T/n$i.yaml" <<YAML
node:
  id: n$i
  data-dir: $T/n$i
cluster:
  id: nem
  nodes:
$nodes
$(security_section "n$i")
supervisor:
  heartbeat-interval-ms: 100
  heartbeat-timeout-ms: 1500
  restart-min-delay-ms: 50
  restart-intensity: 20
  # in the ASan build on the loaded 2-core machine, kv-store's exit after its "stopped" line
  # (the cleanup after RocksDB closed, and presumably LeakSanitizer's scan at exit) overran the
  # 3 s default: the harness check wants a clean exit, not a fast one
  shutdown-timeout-ms: 10000
health:
  ping-interval-ms: 200
  ping-timeout-ms: 2000
  min-free-disk-mb: $([ "$NEM_TMPFS_MB" -gt 0 ] && echo 8 || echo 64)
actors:
  - {name: health-monitor}
  - {name: raft-peer}
  - {name: kv-store}
YAML
    echo "$T/n$i.yaml" >>"$T/configs"
  done
  export_server_keys # the tools given node lists (rv-lin-workload) authenticate the nodes
  for ((i = 1; i <= NEM_N; i++)); do nem_start "$i"; done
  wait_for "one leader agreed by all" 30 leader_agreed "$NEM_N"
  wait_for "the namespace takes a write" 30 fs 1 -mkdir -p /
  log "cluster up: leader $(leader_agreed "$NEM_N"); nodes $(nem_nodes)" \
    "$([ "$NEM_TMPFS_MB" -gt 0 ] && echo "; data-dirs on ${NEM_TMPFS_MB} MiB tmpfs")" \
    "$([ "$NEM_FAKETIME" = 1 ] && echo "; under libfaketime")"
}

# nem_start I: starts node nI in its namespace (under libfaketime with NEM_FAKETIME=1, its
# offset read from $T/clock.nI every second), recorded for the cleanup and the harness check.
nem_start() {
  local i=$1 out env=()
  if [ "$NEM_FAKETIME" = 1 ]; then
    [ -e "$NEM_FAKETIME_LIB" ] || fail "libfaketime is not installed ($NEM_FAKETIME_LIB; scripts/setup.sh installs faketime)"
    env=(env "LD_PRELOAD=$NEM_FAKETIME_LIB" "FAKETIME_TIMESTAMP_FILE=$T/clock.n$i"
      FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1
      "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
  fi
  out=$(netns_exec "$i" "${env[@]}" "$RV" start --daemon -c "$T/n$i.yaml" 2>&1) ||
    fail "raftvisor start -c $T/n$i.yaml (in $(netns_name "$i")) failed: $out"
  supervisor_pid "$T/n$i.yaml" >>"$T/pids"
  echo "started n$i" >>"$T/nodes"
}

# nem_nodes: the client addresses, host:port,...
nem_nodes() {
  local k out=""
  for ((k = 1; k <= NEM_N; k++)); do out+="${out:+,}$(netns_ip "$k"):$NEM_CLIENT_PORT"; done
  echo "$out"
}

# nem_leader: the agreed leader's number (waits for one, up to 30 s).
nem_leader() {
  wait_for "one leader agreed by all" 30 leader_agreed "$NEM_N"
  local l
  l=$(leader_agreed "$NEM_N")
  echo "${l#n}"
}

# nem_other I [J]: a node number other than I (and J), chosen with $RANDOM (seeded per run).
nem_other() {
  local c
  while :; do
    c=$((1 + RANDOM % NEM_N))
    [ "$c" != "$1" ] && [ "$c" != "${2:-0}" ] && { echo "$c"; return; }
  done
}

# nem_node_pids I: the supervisor's pid then every running actor's.
nem_node_pids() {
  supervisor_pid "$T/n$1.yaml"
  status_json "$T/n$1.yaml" | jq -r '.actors[].pid' | grep -v '^0$' || true
}

s_nem_ops() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
s_nem_ops_at_least() { [ "$(s_nem_ops "$1")" -ge "$2" ]; }

# nem_act NEMESIS FAULT_S: the nemesis itself; returns once it has healed. Logs what it did.
nem_act() {
  local nem=$1 f=$2 l a b actor pid pids k
  l=$(nem_leader)
  case $nem in
    pause-actor)
      actor=$([ $((RANDOM % 2)) = 0 ] && echo raft-peer || echo kv-store)
      pid=$(actor_pid "$T/n$l.yaml" "$actor")
      # 1 s is below the heartbeat timeout (1.5 s); a loaded host may still see it as a hang
      expect_restart "n$l" "$actor"
      log "nemesis: SIGSTOP $actor of leader n$l (pid $pid) for 1 s"
      kill -STOP "$pid"
      sleep 1
      kill -CONT "$pid"
      ;;
    pause-node)
      pids=$(nem_node_pids "$l" | tr '\n' ' ')
      log "nemesis: SIGSTOP every process of leader n$l ($pids) for ${f} s"
      kill -STOP $pids # the supervisor first: it must judge no actor on the time it was stopped
      sleep "$f"
      # shellcheck disable=SC2046
      kill -CONT $(echo $pids | tr ' ' '\n' | tac) # the actors first, the supervisor last
      ;;
    pause-follower)
      # the case a voter's vote lease must survive (raft_election.c): a follower resumed from a
      # pause handles the leader's last heartbeat before the ticks it owes, while the other
      # follower, cut from the leader, asks it for its vote. A lease on ticks alone would let it
      # vote at once: a new leader commits while the old one still serves lease reads.
      a=$(nem_other "$l")
      b=$(nem_other "$l" "$a")
      pids=$(nem_node_pids "$a" | tr '\n' ' ')
      log "nemesis: SIGSTOP every process of follower n$a ($pids) for ${f} s; leader n$l and n$b cut from each other from 1 s before its resume to 1 s after"
      kill -STOP $pids
      sleep "$(awk -v f="$f" 'BEGIN { print (f > 1 ? f - 1 : 0) }')"
      netns_cut "$l" "$b"
      sleep 1
      # shellcheck disable=SC2046
      kill -CONT $(echo $pids | tr ' ' '\n' | tac)
      sleep 1
      netns_heal "$NEM_N"
      ;;
    pause-supervisor)
      pid=$(supervisor_pid "$T/n$l.yaml")
      log "nemesis: SIGSTOP the supervisor of leader n$l (pid $pid) for ${f} s"
      kill -STOP "$pid"
      sleep "$f"
      kill -CONT "$pid"
      ;;
    kill-actor)
      a=$([ $((RANDOM % 2)) = 0 ] && echo "$l" || nem_other "$l")
      actor=$(echo raft-peer kv-store health-monitor | cut -d' ' -f$((1 + RANDOM % 3)))
      pid=$(actor_pid "$T/n$a.yaml" "$actor")
      expect_restart "n$a" "$actor"
      log "nemesis: kill -9 $actor of n$a (pid $pid; leader n$l)"
      kill -9 "$pid"
      wait_for "n$a's $actor running again" 30 field_is "$T/n$a.yaml" "$actor" state running
      ;;
    kill-node | kill-all)
      local targets=$l
      [ "$nem" = kill-all ] && targets=$(seq 1 "$NEM_N" | tr '\n' ' ')
      pids=""
      for k in $targets; do
        pids+=" $(nem_node_pids "$k" | tr '\n' ' ')"
        expect_node_down "n$k"
        # recovering after kill -9 (RocksDB's WAL replayed, the Raft log scanned) can overrun the
        # 5 s start timeout on a loaded host (seen in the ASan build at load average 25): the
        # supervisor kills and restarts the actor once; a crash loop would still fail the check
        expect_restart "n$k" kv-store
        expect_restart "n$k" raft-peer
      done
      log "nemesis: kill -9 every process of node(s) $targets (leader n$l):$pids; down ${f} s"
      kill -9 $pids
      for pid in $pids; do wait_for "pid $pid gone" 10 gone "$pid"; done
      sleep "$f"
      for k in $targets; do nem_start "$k"; done
      ;;
    partition-leader)
      for k in $(seq 1 "$NEM_N"); do [ "$k" != "$l" ] && netns_cut "$l" "$k"; done
      log "nemesis: leader n$l cut from every other node for ${f} s"
      sleep "$f"
      netns_heal "$NEM_N"
      ;;
    partition-bridge)
      a=$(nem_other "$l")
      b=$(nem_other "$l" "$a")
      netns_cut "$l" "$a"
      log "nemesis: bridge: leader n$l and n$a cut from each other, n$b sees both, for ${f} s"
      sleep "$f"
      netns_heal "$NEM_N"
      ;;
    partition-oneway)
      for k in $(seq 1 "$NEM_N"); do [ "$k" != "$l" ] && netns_cut "$l" "$k" oneway; done
      log "nemesis: everything leader n$l sends to the others is lost (they still reach it), ${f} s"
      sleep "$f"
      netns_heal "$NEM_N"
      ;;
    disk-follower | disk-leader)
      [ "$NEM_TMPFS_MB" -gt 0 ] || fail "$nem needs the data-dirs on tmpfs (NEM_TMPFS_MB)"
      a=$l
      [ "$nem" = disk-follower ] && a=$(nem_other "$l")
      # ENOSPC may make an actor exit with a temporary failure (75) and be restarted
      expect_restart "n$a" kv-store 3
      expect_restart "n$a" raft-peer 3
      local rc=0
      dd if=/dev/zero of="$T/n$a/filler" bs=1M 2>/dev/null || rc=$?
      log "nemesis: n$a's data disk filled ($(df -h --output=avail "$T/n$a" | tail -n 1 | tr -d ' ') left," \
        "dd exit $rc; leader n$l) for ${f} s"
      sleep "$f"
      rm -f "$T/n$a/filler"
      ;;
    clock-jump)
      [ "$NEM_FAKETIME" = 1 ] || fail "clock-jump needs the nodes under libfaketime (NEM_FAKETIME=1)"
      local offs=(+1d -1d +3h -3h +25m -40m) o1 o2
      a=$(nem_other 0)
      o1=${offs[$((RANDOM % 6))]}
      o2=${offs[$((RANDOM % 6))]}
      b=$(nem_other "$a")
      echo "$o1" >"$T/clock.n$a"
      echo "$o2" >"$T/clock.n$b"
      log "nemesis: wall clock of n$a jumps $o1 and of n$b $o2 (leader n$l), for ${f} s"
      sleep "$f"
      echo "+0" >"$T/clock.n$a"
      echo "+0" >"$T/clock.n$b"
      ;;
    wipe-all)
      # not a fault a cluster can survive (every copy of the data is lost): the self-test of the
      # checks (it_test_nemesis_checks_fail) uses it to prove that they fail; not in NEM_ALL
      pids=""
      for k in $(seq 1 "$NEM_N"); do
        pids+=" $(nem_node_pids "$k" | tr '\n' ' ')"
        expect_node_down "n$k"
      done
      log "nemesis: kill -9 of every process ($pids) and every node's data-dir wiped"
      kill -9 $pids
      for pid in $pids; do wait_for "pid $pid gone" 10 gone "$pid"; done
      for k in $(seq 1 "$NEM_N"); do
        echo "stopped n$k" >>"$T/nodes"
        wipe_node "n$k"
        mkdir -p "$T/n$k"
      done
      for k in $(seq 1 "$NEM_N"); do nem_start "$k"; done
      ;;
    *) fail "unknown nemesis '$nem' (known: $NEM_ALL)" ;;
  esac
}

# s_nem_unavailability HISTORY: the longest time, in ms, with no definite answer (any result
# but a timeout or "unavailable"/"not the leader") to any client, from the first call to the
# last return.
s_nem_unavailability() {
  jq -r 'select(.return_us != null and (.result | IN("EUNAVAIL","ENOTLEADER","ETIMEDOUT","ECLOSED","EAGAIN","EBUSY") | not)) | .return_us' "$1" |
    sort -n | awk -v start="$(jq -s 'map(.call_us) | min // 0' "$1")" '
      BEGIN {prev = start; gap = 0}
      {if ($1 - prev > gap) gap = $1 - prev; prev = $1}
      END {printf "%d", gap / 1000}'
}

# s_nem_missing I DIR ACKED_FILE: prints the names of ACKED_FILE (sorted) that node nI's own
# state (a stale listing of DIR) does not hold.
s_nem_missing() {
  local i=$1 dir=$2 acked=$3
  local rc=0
  fs_at "$i" --stale -ls "$dir" 2>"$T/ls.err" | awk 'NR > 1 {sub(".*/", "", $NF); print $NF}' |
    sort >"$T/have.$i" || rc=$?
  if [ $rc -ne 0 ]; then # a directory that is gone holds nothing; any other failure is one
    grep -q "No such file or directory" "$T/ls.err" || { cat "$T/ls.err" >&2; return 1; }
    : >"$T/have.$i"
  fi
  comm -23 "$acked" "$T/have.$i"
}

# nem_run NEMESIS SEED FAULT_S: one run (see the top); appends its line to $T/results.tsv and
# returns 1 when a check failed (the reason logged, the run's files kept in $T/runN).
nem_run() {
  local nem=$1 seed=$2 f=$3 r dir wl1 wl2 rc=0 code out lin="yes" lost=0 i miss
  NEM_RUN=$((NEM_RUN + 1))
  r=$NEM_RUN
  dir=$T/run$r
  mkdir -p "$dir"
  RANDOM=$seed
  # the workloads run until told to stop (a stop file: they finish what is in flight, so the
  # history stays whole), with a cap far beyond any run
  "$RV_BIN/rv-lin-workload" --nodes "$(nem_nodes)" --out "$dir/history.jsonl" --clients 4 \
    --paths 4 --seconds 600 --stop-file "$dir/stop" --seed "$seed" --dir "/lin$r" \
    >"$dir/workload.txt" 2>&1 &
  wl1=$!
  "$RV_BIN/rv-lin-workload" --nodes "$(nem_nodes)" --out "$dir/acked.jsonl" --clients 2 \
    --seconds 600 --stop-file "$dir/stop" --seed "$((seed + 1))" --dir "/acked$r" --unique \
    >"$dir/acked.txt" 2>&1 &
  wl2=$!
  echo "$wl1" >>"$T/pids"
  echo "$wl2" >>"$T/pids"
  wait_for "run $r: 30 operations on a healthy cluster" 30 s_nem_ops_at_least "$dir/history.jsonl" 30
  nem_act "$nem" "$f"
  # after the heal: the cluster must serve again (a liveness deadline), then NEM_TAIL_S more
  local at
  at=$(s_nem_ops "$dir/history.jsonl")
  wait_for "run $r: 30 operations after the heal" 60 s_nem_ops_at_least "$dir/history.jsonl" $((at + 30))
  sleep "$NEM_TAIL_S" # the load's length after the heal, not a synchronisation
  touch "$dir/stop"
  wait "$wl1" || { log "run $r: the workload failed: $(cat "$dir/workload.txt")"; rc=1; }
  wait "$wl2" || { log "run $r: the create workload failed: $(cat "$dir/acked.txt")"; rc=1; }
  log "run $r: $(cat "$dir/workload.txt") / creates: $(cat "$dir/acked.txt")"
  # the cluster after the fault: one leader, one state, every acknowledged write everywhere
  nem_leader >/dev/null
  digests_equal "$NEM_N"
  jq -r 'select(.result == "ok") | .path | sub(".*/"; "")' "$dir/acked.jsonl" | sort >"$dir/acked.txt.sorted"
  for ((i = 1; i <= NEM_N; i++)); do
    miss=$(s_nem_missing "$i" "/acked$r" "$dir/acked.txt.sorted") || fail "run $r: cannot list /acked$r on n$i"
    if [ -n "$miss" ]; then
      log "run $r: LOST: n$i misses $(echo "$miss" | wc -l) acknowledged creates: $(clip 300 "$miss")"
      lost=$((lost + $(echo "$miss" | wc -l)))
      rc=1
    fi
  done
  code=0
  out=$("$RV_BIN/rv-lincheck" "$dir/history.jsonl" --model namespace --timeout-s 60 2>&1) || code=$?
  case $code in
    0) ;;
    1) lin="NO"; rc=1; log "run $r: NOT LINEARIZABLE (seed $seed): $(clip 3000 "$out")" ;;
    3) lin="unknown"; log "run $r: rv-lincheck gave up: $out" ;;
    *) lin="error"; rc=1; log "run $r: rv-lincheck could not check the history (exit $code): $out" ;;
  esac
  local ops acked unavail
  ops=$(($(s_nem_ops "$dir/history.jsonl") + $(s_nem_ops "$dir/acked.jsonl")))
  acked=$(wc -l <"$dir/acked.txt.sorted")
  unavail=$(s_nem_unavailability "$dir/history.jsonl")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$nem" "$seed" "$ops" "$acked" "$lost" "$lin" "$unavail" >>"$T/results.tsv"
  log "run $r: $nem: $ops ops, $acked acknowledged creates, $lost lost, linearizable $lin," \
    "longest unavailability ${unavail} ms; digest $DIGEST at index $DIGEST_INDEX on all nodes"
  # the run's files go, so that a long run's namespace (and a small tmpfs) does not keep growing
  fs 1 -rm -r -skipTrash "/lin$r" "/acked$r" >/dev/null || log "run $r: could not remove /lin$r and /acked$r"
  if [ $rc -ne 0 ]; then
    local keep=${NEM_FAILED_DIR:-/tmp}/rv-nemesis-failed-$nem-$seed
    cp -r "$dir" "$keep"
    for ((i = 1; i <= NEM_N; i++)); do cp -r "$T/n$i/log" "$keep/n$i-log" 2>/dev/null || true; done
    log "run $r: FAILED; history and logs copied to $keep"
  fi
  return $rc
}

# nem_report: the table of $T/results.tsv, one line per nemesis.
nem_report() {
  awk -F'\t' '
    {runs[$1]++; ops[$1] += $3; acked[$1] += $4; lost[$1] += $5
     if ($6 == "yes") yes[$1]++; if ($7 > un[$1]) un[$1] = $7
     if (!($1 in seen)) {seen[$1] = 1; order[++n] = $1}}
    END {
      printf "%-18s %5s %8s %8s %5s %13s %18s\n", "nemesis", "runs", "ops", "acked", "lost", "linearizable", "max unavail (ms)"
      for (k = 1; k <= n; k++) {
        m = order[k]
        printf "%-18s %5d %8d %8d %5d %13s %18d\n", m, runs[m], ops[m], acked[m], lost[m], (yes[m] + 0) "/" runs[m], un[m]
      }
    }' "$T/results.tsv"
}

# nem_main --nemesis LIST [--runs-each N | --minutes M] [--seed S] [--fault-seconds F]: sets the
# cluster up for the nemeses asked for, runs them (each N times in order, or round-robin until M
# minutes have passed), prints the table, and fails if any run failed a check.
nem_main() {
  local list=$NEM_ALL each=1 minutes=0 seed="" f=3 failed=0 k nem
  while [ $# -gt 0 ]; do
    case $1 in
      --nemesis) list=$2; shift 2 ;;
      --runs-each) each=$2; shift 2 ;;
      --minutes) minutes=$2; shift 2 ;;
      --seed) seed=$2; shift 2 ;;
      --fault-seconds) f=$2; shift 2 ;;
      *) fail "nemesis: unknown option '$1' (--nemesis LIST --runs-each N --minutes M --seed S --fault-seconds F)" ;;
    esac
  done
  [ "$list" = all ] && list=$NEM_ALL
  local nems
  IFS=, read -r -a nems <<<"$list"
  for nem in "${nems[@]}"; do
    [[ ",$NEM_ALL," == *",$nem,"* ]] || fail "unknown nemesis '$nem' (known: $NEM_ALL)"
    case $nem in
      disk-*) [ "$NEM_TMPFS_MB" -gt 0 ] || NEM_TMPFS_MB=64 ;;
      clock-*) NEM_FAKETIME=1 ;;
    esac
  done
  seed=${seed:-$((RANDOM * 32768 + RANDOM))}
  log "nemesis seed $seed (--seed $seed replays the choices); nemeses: ${nems[*]}"
  : >"$T/results.tsv"
  nem_cluster_up
  local end=$((SECONDS + minutes * 60)) run=0
  while :; do
    if [ $run -gt 0 ] && { [ $((run % ${NEM_RUNS_PER_CLUSTER:-6})) = 0 ] || s_nem_disks_filling; }; then
      nem_cluster_renew
    fi
    if [ "$minutes" -gt 0 ]; then
      [ $SECONDS -lt $end ] || break
      nem=${nems[$((run % ${#nems[@]}))]}
    else
      [ $run -lt $((each * ${#nems[@]})) ] || break
      nem=${nems[$((run / each))]}
    fi
    nem_run "$nem" "$((seed + run))" "$f" || failed=$((failed + 1))
    run=$((run + 1))
  done
  nem_report | tee "$T/report.txt"
  [ $failed -eq 0 ] || fail "$failed of $run nemesis runs failed a check (seed $seed)"
  log "ok: $run runs, seed $seed"
}
