#!/usr/bin/env bash
# -appendToFile and -truncate are each one replicated command (kv-store's FS_APPEND and
# FS_TRUNCATE), decided against the file as it is at the command's log index:
#  1. two clients appending N records each to one file, concurrently, one CLI call per record:
#     every acknowledged record is in the file exactly once (a read-then-put-back client would
#     lose the records another client appended in between);
#  2. a client truncating the file to 0 again and again while another appends: the file ends
#     holding exactly the acknowledged appends whose log index is above the last truncate's, in
#     log order: no acknowledged append after a truncate is lost, none before it survives;
#  3. every replica holds the same namespace (digests at one applied index).
# The log indexes come from each call's --json line.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
N=${RV_IT_APPENDS:-15}

# appender TAG COUNT FILE: COUNT appends of "TAG-i" lines, one CLI call each; the --json line of
# each acknowledged one goes to $T/TAG.acked, the output of a failed one to $T/TAG.failed.
appender() {
  local tag=$1 count=$2 file=$3 i out
  : >"$T/$tag.acked"
  : >"$T/$tag.failed"
  for ((i = 1; i <= count; i++)); do
    if out=$(printf '%s-%d\n' "$tag" "$i" | fs 1 --json -appendToFile - "$file" 2>&1); then
      echo "$tag-$i $out" >>"$T/$tag.acked"
    else
      echo "$tag-$i $out" >>"$T/$tag.failed"
    fi
  done
}

# ---- 1. concurrent appenders ----------------------------------------------------------------
fs 1 -mkdir /a
appender A "$N" /a/log &
pa=$!
appender B "$N" /a/log &
pb=$!
wait "$pa"
wait "$pb"
fs 1 -cat /a/log >"$T/log"
acked=$(cat "$T/A.acked" "$T/B.acked" | wc -l)
log "appends acknowledged: $acked of $((2 * N)); failed: $(cat "$T/A.failed" "$T/B.failed" | tr '\n' ';')"
[ "$acked" -gt 0 ] || fail "no append was acknowledged"
while read -r rec _; do
  [ "$(grep -cx -- "$rec" "$T/log")" = 1 ] || fail "acknowledged record $rec is not in /a/log once: $(tr '\n' ' ' <"$T/log")"
done < <(cat "$T/A.acked" "$T/B.acked")
# nothing but the records sent, each line whole
bad=$(grep -cvxE '[AB]-[0-9]+' "$T/log" || true)
[ "$bad" = 0 ] || fail "/a/log holds $bad lines that are not records: $(tr '\n' ' ' <"$T/log")"
# each client's records in the order it sent them
for tag in A B; do
  grep -x "$tag-[0-9]*" "$T/log" | sed "s/^$tag-//" >"$T/$tag.order"
  sort -n -c "$T/$tag.order" || fail "$tag's records out of order: $(tr '\n' ' ' <"$T/$tag.order")"
done
# the totals -count reads follow the content
bytes=$(wc -c <"$T/log")
assert_eq "$(fs 1 -count /a | awk '{print $3}')" "$bytes" "-count /a bytes"

# ---- 2. truncate under a concurrent append --------------------------------------------------
fs 1 -touchz /a/t
appender C "$N" /a/t &
pc=$!
: >"$T/trunc"
while kill -0 "$pc" 2>/dev/null; do
  # an unacknowledged truncate may have applied anyway: the check below could not place it
  out=$(fs 1 --json -truncate 0 /a/t 2>&1) || fail "a truncate was not acknowledged: $out"
  echo "$out" >>"$T/trunc"
done
wait "$pc"
[ -s "$T/trunc" ] || fail "no truncate was acknowledged"
index_of() { sed -n 's/.*"index":\([0-9]*\).*/\1/p'; }
last_trunc=$(index_of <"$T/trunc" | sort -n | tail -1)
# the acknowledged appends above the last truncate, in log order
while read -r rec json; do
  echo "$(echo "$json" | index_of) $rec"
done <"$T/C.acked" | sort -n | awk -v t="$last_trunc" '$1 > t {print $2}' >"$T/want"
# an append whose answer was lost may have applied: such records are left out of the check
fs 1 -cat /a/t | grep -vxF -f <(awk '{print $1}' "$T/C.failed"; echo '#none#') >"$T/got" || true
log "truncates: $(wc -l <"$T/trunc") (last at index $last_trunc); appends after it: $(wc -l <"$T/want")"
diff "$T/want" "$T/got" >/dev/null ||
  fail "after truncate at index $last_trunc, /a/t holds [$(tr '\n' ' ' <"$T/got")], expected [$(tr '\n' ' ' <"$T/want")]"

# ---- 3. the replicas agree --------------------------------------------------------------------
digests_equal 3
log "ok: $acked concurrent appends all present; truncate kept exactly the appends after it; digest $DIGEST at $DIGEST_INDEX"
