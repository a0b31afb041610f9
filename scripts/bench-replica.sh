#!/usr/bin/env bash
# Off-cluster replica benchmark (a report, not a test), file:// backend on the local disk (or,
# with --backend tablestore, the Tablestore backend against a local rv-ots-server, which syncs
# every write to its RocksDB), three nodes on loopback with every actor and real fsyncs:
#  1. replication lag under a steady create load at fixed rates (`raftvisor bench --rate R`,
#     default 1000 and 5000 creates/s; the rates reached are printed): the leader's meta-status
#     is sampled every 50 ms by one process (`meta-status --json --every 50`); lag in entries is
#     commit_index - synced_index; lag in seconds is, at each sample, now minus the commit time
#     of the oldest entry not yet in the copy (that entry was committed between the last sample
#     whose commit_index had not reached it and the first that had: the earlier time is taken,
#     so the figure is an upper bound, at most one sample interval too high); p50, p99 and max;
#  2. create throughput and p99 at 64 clients with the replica on and off, in the same run: two
#     clusters, runs alternated on/off/on/off;
#  with CPU µs per create per actor (utime + stime from /proc/PID/stat of every actor of every
#  node, summed per actor name over the three nodes, before and after each run, divided by the
#  creates of the run, warm-up included) and the leader's kv-store loop lag (status --json
#  loop_lag_p99_us / loop_lag_max_us: the lateness of its timers over the last 10-20 s) for
#  every run;
#  3. a backlog drained (file backend only): the remote directory is moved away (every upload
#     fails, the change log grows), 64 clients create for S seconds, then 20 s of a light load
#     (4 clients, 200 creates/s) with the replica still blocked (the replicator retries with
#     backoff, and each retry reads the backlog's ReplChanges pages again), then the directory
#     comes back and the replicator streams the backlog in pages of 10,000 rows under the same
#     light load: time to _synced, entries drained, the leader's kv-store CPU per entry drained
#     (light load included), its loop lag (the largest p99 and max of status --json sampled
#     every second until synced, 10-20 s windows: they also cover the end of the phase before)
#     and the light load's create p99; then, for the whole run, the kv-store handlers that held
#     a loop 200 ms or more (the runtime logs each), by kind.
#  Every figure comes with the load average. RV_BIN=DIR runs the binaries in DIR (default
#  build/bin): the same script against two builds, for an A/B comparison.
#   scripts/bench-replica.sh [--seconds S] [--rates R1,R2] [--rounds N] [--backend file|tablestore]
#                            [--sections 1,2,3]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
secs=15 rates=1000,5000 rounds=2 backend=file sections=1,2,3
while [ $# -gt 0 ]; do
  case $1 in
    --backend) backend=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --sections) sections=$2; shift 2 ;;
    *) echo "usage: scripts/bench-replica.sh [--seconds S] [--rates R1,R2] [--rounds N] [--backend file|tablestore] [--sections 1,2,3]" >&2; exit 2 ;;
  esac
done
section() { [[ ",$sections," == *",$1,"* ]]; }
B=${RV_BIN:-$top/build/bin}
RV=$B/raftvisor
[ -x "$RV" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
T=$(mktemp -d /tmp/rvrepl.XXXXXX)
sampler="" ots_pid=""
cleanup() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  cluster_stop "$T/on" "$RV"
  cluster_stop "$T/off" "$RV"
  if [ -n "$ots_pid" ]; then kill "$ots_pid" 2>/dev/null || true; wait "$ots_pid" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/on" "$T/off" "$T/remote"
raft=$((10000 + RANDOM % 20000))
case $backend in
  file) ots_yaml="ots: {enabled: true, endpoint: \"file://$T/remote\"}" ;;
  tablestore) # rv-ots-server on a free port (it logs the one it got)
    mkdir -p "$T/ots"
    printf 'bench-secret-%s\n' "$RANDOM$RANDOM" >"$T/ots/secret"
    chmod 600 "$T/ots/secret"
    "$B/rv-ots-server" --listen 127.0.0.1:0 --data "$T/ots/db" --instance rv-bench \
      --access-key-id benchKeyId --access-key-secret "@$T/ots/secret" 2>"$T/ots/server.log" &
    ots_pid=$!
    port=""
    for _ in $(seq 1 200); do
      port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T/ots/server.log" | cut -d: -f2 || true)
      [ -n "$port" ] && break
      sleep 0.05
    done
    [ -n "$port" ] || { echo "rv-ots-server did not start: $(cat "$T/ots/server.log")" >&2; exit 1; }
    ots_yaml="ots: {enabled: true, endpoint: \"http://127.0.0.1:$port\", instance: rv-bench, access-key-id: benchKeyId, access-key-secret: \"@$T/ots/secret\"}"
    ;;
  *) echo "--backend: file or tablestore" >&2; exit 2 ;;
esac
cluster_yaml "$T/on" replon "$raft" $((raft + 100)) "$ots_yaml"
cluster_yaml "$T/off" reploff $((raft + 10)) $((raft + 110))
# each YAML names its own cluster's admin key (security.client-key); the environment would name
# only the last cluster's
unset RV_CLIENT_KEY RV_SERVER_KEYS
clusters=on
section 2 && clusters="on off" # the comparison cluster only when it is used
for c in $clusters; do cluster_start "$T/$c" "$RV"; done
for c in $clusters; do
  ok=""
  for _ in $(seq 1 500); do "$RV" fs -c "$T/$c/n1.yaml" -mkdir -p /bench 2>/dev/null && { ok=1; break; }; sleep 0.05; done
  [ -n "$ok" ] || { echo "cluster $c: mkdir /bench failed: $("$RV" fs -c "$T/$c/n1.yaml" -mkdir -p /bench 2>&1)" >&2; exit 1; }
done
echo "replica benchmark ($backend backend, $B), $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# cpu_snap DIR: "actor ticks" lines, utime + stime of every actor (and supervisor) of the three
# nodes of DIR, from their /proc/PID/stat (pids from `raftvisor status --json`).
cpu_snap() {
  local i
  for i in 1 2 3; do
    "$RV" status --json -c "$1/n$i.yaml" 2>/dev/null |
      jq -r '"supervisor \(.supervisor_pid)", (.actors[] | select(.pid > 0) | "\(.name) \(.pid)")' || true
  done | while read -r name pid; do
    # fields after the ")" of the command: state is $1, utime $12, stime $13
    if [ -r "/proc/$pid/stat" ]; then
      echo "$name $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')"
    fi
  done
}
# cpu_report BEFORE AFTER CREATES: "µs per create" per actor name and in all.
cpu_report() {
  local hz
  hz=$(getconf CLK_TCK)
  awk -v hz="$hz" -v n="$3" 'FNR == NR { b[$1] += $2; next } { a[$1] += $2 }
    END {
      line = "    CPU us/create:"; tot = 0
      for (k in a) { d = (a[k] - b[k]) * 1e6 / hz / (n > 0 ? n : 1); tot += d; v[k] = d }
      split("kv-store raft-peer ots-replicator health-monitor supervisor", order, " ")
      for (i = 1; i <= 5; i++) if (order[i] in v) line = line sprintf(" %s %.0f", order[i], v[order[i]])
      for (k in v) if (k !~ /^(kv-store|raft-peer|ots-replicator|health-monitor|supervisor)$/)
        line = line sprintf(" %s %.0f", k, v[k])
      print line sprintf(", all %.0f", tot)
    }' "$1" "$2"
}

# leader DIR: the node id of DIR's leader (as meta-status sees it).
leader() {
  "$RV" meta-status --json -c "$1/n1.yaml" 2>/dev/null |
    jq -r '[.nodes[] | select(.role == "LEADER") | .node] | first // empty'
}
# kv_lag DIR NODE: "P99_US MAX_US PID" of NODE's kv-store (status --json).
kv_lag() {
  "$RV" status --json -c "$1/$2.yaml" 2>/dev/null |
    jq -r '.actors[] | select(.name == "kv-store") | "\(.loop_lag_p99_us) \(.loop_lag_max_us) \(.pid)"'
}
# lag_line DIR: the leader's kv-store loop lag, as a report line.
lag_line() {
  local l p99 max pid
  l=$(leader "$1")
  [ -n "$l" ] || { echo "    kv-store loop lag: no leader"; return; }
  read -r p99 max pid < <(kv_lag "$1" "$l")
  printf "    kv-store loop lag on the leader %s: p99 %.1f ms, max %.1f ms (last 10-20 s), load %s\n" \
    "$l" "$(echo "${p99:-0} / 1000" | bc -l)" "$(echo "${max:-0} / 1000" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
}

lag_run() {
  local rate=$1
  "$RV" meta-status --json --every 50 -c "$T/on/n1.yaml" 2>/dev/null |
    jq -r --unbuffered '.time_ms as $t | .nodes[] | select(.role == "LEADER") | "\($t) \(.commit_index) \(.synced_index)"' \
    >"$T/samples.$rate" &
  sampler=$!
  cpu_snap "$T/on" >"$T/cpu0"
  "$RV" bench -c "$T/on/n1.yaml" --workload create --clients 64 --rate "$rate" --seconds "$secs" \
    --json >"$T/bench.$rate" 2>/dev/null || true
  cpu_snap "$T/on" >"$T/cpu1"
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""
  local got p99 ops
  got=$(jq -r '.ops_per_s' "$T/bench.$rate" | tail -n 1)
  p99=$(jq -r '.p99_us / 1000' "$T/bench.$rate" | tail -n 1)
  ops=$(jq -r '.ops_all' "$T/bench.$rate" | tail -n 1)
  # lag at sample i: entries commit - synced; seconds: t_i - t_{j-1}, j the first sample whose
  # commit passed synced_i (the oldest unsynced entry was committed after sample j-1)
  awk '{ t[NR] = $1; c[NR] = $2; s[NR] = $3 }
    END {
      for (i = 1; i <= NR; i++) {
        le = c[i] > s[i] ? c[i] - s[i] : 0; ls = 0
        if (s[i] < c[i]) for (j = 1; j <= i; j++) if (c[j] > s[i]) { ls = (t[i] - t[j > 1 ? j - 1 : 1]) / 1000; break }
        print le, ls
      }
    }' "$T/samples.$rate" >"$T/lags.$rate"
  local n
  n=$(wc -l <"$T/lags.$rate")
  [ "$n" -gt 0 ] || { echo "  $rate creates/s asked: no samples"; return; }
  pct() { sort -n | awk -v q="$1" '{ v[NR] = $1 } END { i = int(NR * q) + 1; if (i > NR) i = NR; print v[i] }'; }
  printf "  %s creates/s asked, %.0f reached (create p99 %s ms): lag p50 %s entries / %s s, p99 %s / %s s, max %s / %s s (%s samples), load %s\n" \
    "$rate" "$got" "$p99" \
    "$(cut -d' ' -f1 "$T/lags.$rate" | pct 0.5)" "$(cut -d' ' -f2 "$T/lags.$rate" | pct 0.5)" \
    "$(cut -d' ' -f1 "$T/lags.$rate" | pct 0.99)" "$(cut -d' ' -f2 "$T/lags.$rate" | pct 0.99)" \
    "$(cut -d' ' -f1 "$T/lags.$rate" | pct 1.0)" "$(cut -d' ' -f2 "$T/lags.$rate" | pct 1.0)" "$n" \
    "$(cut -d' ' -f1 /proc/loadavg)"
  cpu_report "$T/cpu0" "$T/cpu1" "$ops"
  lag_line "$T/on"
}

if section 1; then
  echo "1. replication lag at fixed create rates (64 clients, $secs s each):"
  for r in ${rates//,/ }; do lag_run "$r"; done
fi

if section 2; then
  echo "2. create throughput at 64 clients, replica on vs off (alternated, $secs s each):"
  for round in $(seq 1 "$rounds"); do
    for c in on off; do
      cpu_snap "$T/$c" >"$T/cpu0"
      "$RV" bench -c "$T/$c/n1.yaml" --workload create --clients 64 --seconds "$secs" --json \
        2>/dev/null >"$T/tp" || true
      cpu_snap "$T/$c" >"$T/cpu1"
      jq -r --arg c "$c" --arg r "$round" --arg l "$(cut -d' ' -f1 /proc/loadavg)" \
        '"  round \($r) replica \($c): \(.ops_per_s | floor) creates/s, p99 \(.p99_us / 1000) ms, errors \(.errors), load \($l)"' "$T/tp"
      cpu_report "$T/cpu0" "$T/cpu1" "$(jq -r '.ops_all' "$T/tp")"
      lag_line "$T/$c"
    done
  done
fi

# ticks PID: utime + stime of PID (clock ticks).
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# synced_commit DIR: "SYNCED_INDEX COMMIT_INDEX" of DIR's leader.
synced_commit() {
  "$RV" meta-status --json -c "$1/n1.yaml" 2>/dev/null |
    jq -r '[.nodes[] | select(.role == "LEADER")] | first | "\(.synced_index // 0) \(.commit_index // 0)"'
}
if section 3 && [ "$backend" = file ]; then
  echo "3. a backlog drained ($secs s of creates at 64 clients with the remote directory away):"
  mv "$T/remote" "$T/remote.away"
  "$RV" bench -c "$T/on/n1.yaml" --workload create --clients 64 --seconds "$secs" --json \
    2>/dev/null >"$T/backlog" || true
  echo "  backlog: $(jq -r '.ops_all' "$T/backlog" | tail -n 1) creates; load $(cut -d' ' -f1 /proc/loadavg)"
  "$RV" bench -c "$T/on/n1.yaml" --workload create --clients 4 --rate 200 --seconds 20 --json \
    2>/dev/null >"$T/quiet" || true
  L=$(leader "$T/on")
  read -r p99 max pid < <(kv_lag "$T/on" "$L")
  printf "  light load (4 clients, 200 creates/s, create p99 %s ms), replica blocked (each retry reads the backlog's pages again): kv-store loop lag on %s p99 %.1f ms, max %.1f ms, load %s\n" \
    "$(jq -r '.p99_us / 1000' "$T/quiet" | tail -n 1)" "$L" "$(echo "$p99 / 1000" | bc -l)" \
    "$(echo "$max / 1000" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
  read -r synced0 commit0 < <(synced_commit "$T/on")
  t0=$(date +%s.%N) c0=$(ticks "$pid")
  "$RV" bench -c "$T/on/n1.yaml" --workload create --clients 4 --rate 200 --seconds 60 --json \
    2>/dev/null >"$T/drain" &
  light=$!
  mv "$T/remote.away" "$T/remote"
  p99max=0 maxmax=0 drained=""
  for _ in $(seq 1 60); do
    sleep 1
    read -r p99 max _ < <(kv_lag "$T/on" "$L")
    [ "${p99:-0}" -gt "$p99max" ] && p99max=$p99
    [ "${max:-0}" -gt "$maxmax" ] && maxmax=$max
    read -r synced commit < <(synced_commit "$T/on")
    if [ -z "$drained" ] && [ "${synced:-0}" -ge "$commit0" ]; then
      drained=$(echo "$(date +%s.%N) - $t0" | bc -l) c1=$(ticks "$pid") n=$((synced - synced0))
      break
    fi
  done
  wait "$light" || true
  if [ -n "$drained" ]; then
    printf "  drained %s entries in %.1f s; leader %s kv-store CPU %.0f us per entry drained (light load included); loop lag while draining: p99 up to %.1f ms, max %.1f ms; light load create p99 %s ms; load %s\n" \
      "$n" "$drained" "$L" "$(echo "($c1 - $c0) * 1000000 / $(getconf CLK_TCK) / $n" | bc -l)" \
      "$(echo "$p99max / 1000" | bc -l)" "$(echo "$maxmax / 1000" | bc -l)" \
      "$(jq -r '.p99_us / 1000' "$T/drain" | tail -n 1)" "$(cut -d' ' -f1 /proc/loadavg)"
  else
    echo "  the backlog was not drained within 60 s (synced $synced of $commit0)"
  fi
  # every kv-store handler that held its loop 200 ms or more (the runtime logs them), by kind
  echo "  kv-store handlers that held the loop >= 200 ms, whole run, three nodes: $(
    grep -h "held the loop" "$T"/on/n*/log/kv-store.log 2>/dev/null |
      sed -n 's/.*handling \(a message [A-Za-z]*\|a timer\|[a-z ]*\) held the loop for \([0-9]*\) ms.*/\1 \2/p' |
      awk '{ ms = $NF; $NF = ""; sub(/ $/, ""); n[$0]++; if (ms > m[$0]) m[$0] = ms }
        END { for (k in n) { printf "%s%s: %d (max %d ms)", sep, k, n[k], m[k]; sep = ", " }
              if (!length(n)) printf "none" }')"
fi
"$RV" meta-status -c "$T/on/n1.yaml" | sed 's/^/  /'
