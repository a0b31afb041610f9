#!/usr/bin/env bash
# The nemesis suite's checks can fail: a run whose "nemesis" destroys every copy of the data
# (kill -9 of every process, every data-dir wiped, the nodes started empty) must be reported as
# failed, with acknowledged creates lost and the history check not passed (reads after the wipe
# contradict acknowledged writes: "NO"; or, when a put finds its parent directory gone, a result
# the model refuses: "error"), while the digests agree (three empty nodes are alike) and the
# cluster serves again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nemesis/nemesis_lib.sh"
NEM_TAIL_S=1
NEM_FAILED_DIR=$T
nem_cluster_up
seed=${RV_NEMESIS_SEED:-$((RANDOM + 1))}
rc=0
nem_run wipe-all "$seed" 1 || rc=$?
[ "$rc" = 1 ] || fail "a run that lost every acknowledged write passed its checks (rc $rc)"
IFS=$'\t' read -r nem _ ops acked lost lin unavail <"$T/results.tsv"
log "reported: $nem ops $ops acked $acked lost $lost linearizable $lin unavailability $unavail ms"
[ "$lost" -gt 0 ] || fail "no acknowledged create reported lost ($acked acknowledged, all wiped)"
[ "$lost" -ge "$((acked * NEM_N))" ] || log "note: $lost of $((acked * NEM_N)) (node, create) pairs missing: creates after the wipe survive"
case $lin in NO | error) ;; *) fail "the history check passed a wiped cluster (got '$lin')" ;; esac
[ -d "$T/rv-nemesis-failed-wipe-all-$seed" ] || fail "the failed run's files were not kept"
log "ok: the checks fail a run that lost its data (seed $seed)"
