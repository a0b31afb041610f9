#!/usr/bin/env bash
# Makes the upgrade fixture: the data-dirs of a three-node cluster written by a previous release
# of raftvisor, so that integration-tests/test_upgrade_fixture.sh can start the current binaries
# on them. Builds that release (a commit of this repository, default e7e8172: the tip of
# 2026-11-22, the last day before format versions were documented) in a scratch directory
# outside the repository, runs a cluster with it, writes a namespace (directories, files with
# contents, attributes, a rename, a removal), stops it cleanly, and packs the data-dirs (Raft
# logs and RocksDB stores; not logs, run directories or RocksDB's info LOG files) with a
# manifest of what must be found into a compressed tarball.
#
#   scripts/make-upgrade-fixture.sh [COMMIT] [OUT.tar.gz]
# Default OUT: integration-tests/fixtures/upgrade-<COMMIT>.tar.gz. Scratch: /tmp/rv-old-<COMMIT>
# (kept, so a second run does not build again; RV_OLD_BUILD=DIR uses binaries built elsewhere).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:-e7e8172}
out=${2:-$top/integration-tests/fixtures/upgrade-$commit.tar.gz}
full=$(git -C "$top" rev-parse --verify "$commit^{commit}")
source "$top/scripts/lib-old-release.sh"
bin=$(old_release_bin "$top" "$commit")
RV="$bin/raftvisor"
work=$(mktemp -d /tmp/rv-fixture.XXXXXX)
stop_all() {
  local i
  for i in 1 2 3; do [ -f "$work/n$i.yaml" ] && "$RV" stop -c "$work/n$i.yaml" >/dev/null 2>&1 || true; done
}
trap 'stop_all; rm -rf "$work"' EXIT
base=$((20000 + RANDOM % 10000))
for i in 1 2 3; do
  cat >"$work/n$i.yaml" <<YAML
node: {id: n$i, data-dir: $work/n$i}
cluster:
  id: it
  nodes:
    - {id: n1, host: 127.0.0.1, raft-port: $((base + 1)), client-port: $((base + 4))}
    - {id: n2, host: 127.0.0.1, raft-port: $((base + 2)), client-port: $((base + 5))}
    - {id: n3, host: 127.0.0.1, raft-port: $((base + 3)), client-port: $((base + 6))}
actors:
  - {name: health-monitor}
  - {name: raft-peer}
  - {name: kv-store}
YAML
done
for i in 1 2 3; do "$RV" start --daemon -c "$work/n$i.yaml" >/dev/null; done
fs() { "$RV" fs -c "$work/n1.yaml" --retry 30000 "$@"; }
deadline=$((SECONDS + 30))
until fs -mkdir -p /fixture 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "the old cluster took no write in 30 s" >&2; exit 1; }
  sleep 0.2
done
# the namespace: every kind of entry and change the old release knew
fs -mkdir -p /fixture/dirs/a/b/c /fixture/empty /fixture/files /fixture/gone
for k in $(seq 1 40); do printf 'file %d of the previous release\n' "$k" | fs -put - "/fixture/files/f$k"; done
head -c 20000 /dev/zero | tr '\0' 'x' | fs -put - /fixture/dirs/a/b/c/big
fs -touchz /fixture/empty-file
fs -chmod 700 /fixture/dirs/a
fs -mv /fixture/files/f40 /fixture/dirs/renamed
fs -rm -r /fixture/gone
# what must be found (path, type, content's CRC) and the digest, from the old cluster itself
{
  echo "# made by scripts/make-upgrade-fixture.sh with raftvisor $commit ($full)"
  fs -ls -R /fixture | awk 'NR>0 && $1 ~ /^[d-]/ {print substr($1,1,1), $NF}'
} >"$work/manifest"
for f in $(awk '$1 == "-" {print $2}' "$work/manifest"); do
  echo "crc $f $(fs -cat "$f" | cksum | cut -d' ' -f1)" >>"$work/manifest"
done
# every node at one index, one digest
for try in $(seq 1 100); do
  d1=$("$RV" fs --nodes 127.0.0.1:$((base + 4)) --stale -digest)
  d2=$("$RV" fs --nodes 127.0.0.1:$((base + 5)) --stale -digest)
  d3=$("$RV" fs --nodes 127.0.0.1:$((base + 6)) --stale -digest)
  if [ "$(printf '%s\n%s\n%s\n' "$d1" "$d2" "$d3" | awk '{print $1, $2}' | sort -u | wc -l)" = 1 ]; then break; fi
  sleep 0.1
done
echo "digest $(echo "$d1" | awk '{print $1, $2}')" >>"$work/manifest"
stop_all
mkdir -p "$work/pack"
for i in 1 2 3; do
  mkdir -p "$work/pack/n$i"
  cp -r "$work/n$i/raft" "$work/n$i/kv" "$work/pack/n$i/"
  find "$work/pack/n$i" -name 'LOG*' -delete
done
cp "$work/manifest" "$work/pack/manifest"
mkdir -p "$(dirname "$out")"
tar -C "$work/pack" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "$out" .
echo "wrote $out ($(stat -c %s "$out") bytes): $(grep -c '^[d-] ' "$work/manifest") entries, $(grep '^digest' "$work/manifest")"
