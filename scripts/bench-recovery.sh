#!/usr/bin/env bash
# Recovery benchmark (a report, not a test): a three-node cluster with the replica on gets
# bench's bulk load of FILES files (default 1,500,000, as scripts/bench-fs.sh), waits for
# meta-status' _synced=1, is stopped and wiped; a new cluster in ots.recovery-mode loads the copy.
# BACKEND=file (default: a file:// shared directory) or BACKEND=tablestore (rv-ots-server, the
# local Tablestore-protocol server). Prints the bulk load's time; progress (meta-status) every
# 5 s during the recovery; then rows, rows/s, files/s and seconds from RecoveryBegin applied to
# RecoveryFinish applied (kv-store's log), the CPU seconds each actor (and rv-ots-server) spent
# during the recovery (/proc/PID/stat: noise on a shared host disturbs it less than time), the
# largest loop lag each actor reported (status --json loop_lag_max_us, sampled every 2 s) and the
# load average; then checks that the digests are equal. Runs on the integration harness
# (integration-tests/lib.sh): an actor restarted on the way fails the run.
#   FILES=150000 [BACKEND=tablestore] scripts/bench-recovery.sh
#   (RV_RECOVERY_CHUNK_BYTES / RV_RECOVERY_INFLIGHT tune the loader)
top=$(cd "$(dirname "$0")/.." && pwd)
export RV_BIN=${RV_BIN:-$top/build/bin}
source "$top/integration-tests/lib.sh"
FILES=${FILES:-1500000}
BACKEND=${BACKEND:-file}
if [ "$BACKEND" = tablestore ]; then
  source "$top/integration-tests/ots-server/lib-ots.sh"
  ots_start
fi
ots_yaml() { # LINES...: the node's ots: section with the backend's endpoint
  printf 'ots:\n'
  printf '  %s\n' "$@"
  if [ "$BACKEND" = tablestore ]; then
    printf '  endpoint: "http://127.0.0.1:%s"\n  instance: rv-test\n  access-key-id: rvTestKeyId\n  access-key-secret: "@%s"\n' \
      "$OTS_PORT" "$OTS_DIR/secret"
  else
    printf '  endpoint: "file://%s/remote"\n' "$T"
  fi
}
cluster_yaml 3 health-monitor raft-peer kv-store
mkdir -p "$T/remote"
for i in 1 2 3; do
  cp "$T/n$i.yaml" "$T/base$i.yaml"
  ots_yaml "enabled: true" >>"$T/n$i.yaml"
  start_node "$T/n$i.yaml"
done
wait_for "leader" 30 leader_agreed 3
wait_for "write" 30 fs 1 -mkdir -p /x
t0=$SECONDS
"$RV" bench -c "$T/n1.yaml" --workload bulk-load --dirs $((FILES / 1000 > 0 ? FILES / 1000 : 1)) --files "$FILES" --clients 64 >"$T/bench.out" 2>&1 || fail "bench: $(tail -5 "$T/bench.out")"
log "bulk load of $FILES files: $((SECONDS - t0)) s; $(grep -i 'files/s\|load' "$T/bench.out" | tail -2 | tr '\n' ' ')"
meta_synced() { "$RV" meta-status -c "$T/n1.yaml" 2>/dev/null | grep -q '^LEADER .* _synced=1 '; }
t0=$SECONDS
wait_for "_synced=1" 1800 meta_synced
log "uploaded: $((SECONDS - t0)) s after the load; $("$RV" meta-status -c "$T/n1.yaml" | grep LEADER)"
digests_equal 3
A=$DIGEST
for i in 1 2 3; do stop_node "$T/n$i.yaml"; done
for i in 1 2 3; do wipe_node "n$i"; done
for i in 1 2 3; do
  cp "$T/base$i.yaml" "$T/n$i.yaml"
  ots_yaml "recovery-mode: true" >>"$T/n$i.yaml"
done

# cpu_ticks: "NODE/NAME PID TICKS" for every actor of every node and the server (utime + stime)
cpu_ticks() {
  local i
  for i in 1 2 3; do
    status_json "$T/n$i.yaml" | jq -r '.actors[] | "\(.name) \(.pid)"' | while read -r name pid; do
      [ "$pid" != 0 ] && [ -r "/proc/$pid/stat" ] || continue
      echo "n$i/$name $pid $(awk '{print $14 + $15}' "/proc/$pid/stat")"
    done
  done
  if [ "$BACKEND" = tablestore ]; then
    echo "rv-ots-server $OTS_PID $(awk '{print $14 + $15}' "/proc/$OTS_PID/stat")"
  fi
}
lags() { # "NAME LAG_US" per actor of every node
  local i
  for i in 1 2 3; do
    status_json "$T/n$i.yaml" 2>/dev/null | jq -r --arg n "n$i" '.actors[] | "\($n)/\(.name) \(.loop_lag_max_us // 0)"' || true
  done
}
t0=$SECONDS
for i in 1 2 3; do start_node "$T/n$i.yaml"; done
cpu_ticks >"$T/cpu.before" # at once: a slow leader_agreed on a loaded host must not hide the load
: >"$T/lags"
fin() { "$RV" meta-status -c "$T/n1.yaml" 2>/dev/null | grep -q 'state=FINISH'; }
last_progress=0
until fin; do
  [ $((SECONDS - t0)) -lt 3600 ] || fail "no FINISH after an hour"
  lags >>"$T/lags"
  if [ $((SECONDS - last_progress)) -ge 5 ]; then
    last_progress=$SECONDS
    log "progress: $("$RV" meta-status -c "$T/n1.yaml" 2>/dev/null | grep '^LEADER' | grep -o 'state=.*' || echo '(no leader line)')"
  fi
  sleep 2 # a report's sampling period, not a synchronisation
done
lags >>"$T/lags"
cpu_ticks >"$T/cpu.after"
[ -s "$T/cpu.after" ] || log "no CPU figures: $(cpu_ticks 2>&1 | head -3)"
log "recovery: FINISH $((SECONDS - t0)) s after the start; $("$RV" meta-status -c "$T/n1.yaml" | head -1)"
ms() { date -d "$(echo "$1" | cut -c1-23)Z" +%s%3N; }
b=$(grep -h "recovery-begin applied" "$T"/n*/log/kv-store.log | sort | head -1)
f=$(grep -h "recovery-finish applied" "$T"/n*/log/kv-store.log | sort | head -1)
rows=$(echo "$f" | sed -n 's/.*FINISH, \([0-9]*\) rows.*/\1/p')
took=$(($(ms "$f") - $(ms "$b")))
log "recovery of $FILES files ($BACKEND): $rows rows in $took ms (RecoveryBegin to RecoveryFinish applied):" \
  "$((rows * 1000 / (took > 0 ? took : 1))) rows/s, $((FILES * 1000 / (took > 0 ? took : 1))) files/s," \
  "$((took / 1000)).$(printf '%03d' $((took % 1000))) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
hz=$(getconf CLK_TCK)
log "CPU seconds per actor during the recovery (us per row); the leader: $(leader_agreed 3)"
awk -v hz="$hz" -v rows="${rows:-0}" 'NR == FNR { before[$2] = $3; next }
  { x = ($2 in before) ? before[$2] : 0; used[$1] += $3 - x }
  END { for (a in used) { per = (rows > 0) ? used[a] / hz * 1e6 / rows : 0
          printf "  %-24s %8.2f s  %7.2f us/row\n", a, used[a] / hz, per } }' "$T/cpu.before" "$T/cpu.after" | sort
log "largest loop lag per actor during the recovery (status loop_lag_max_us, ms):"
awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (a in m) printf "  %-24s %8.1f ms\n", a, m[a] / 1000 }' \
  "$T/lags" | sort
log "handlers that held a loop (every actor's log, last 20), and each kv-store's last slow slice:"
grep -h "held the loop" "$T"/n*/log/*.log | sort | tail -n 20 || true
for i in 1 2 3; do grep -h "an apply slice" "$T/n$i/log/kv-store.log" | tail -n 1 || true; done
log "raw CPU samples (NODE/ACTOR PID TICKS), before and after:"
paste "$T/cpu.before" "$T/cpu.after" || true
digests_equal 3
[ "$DIGEST" = "$A" ] || fail "digest differs"
log "ok: digest equal $DIGEST"
