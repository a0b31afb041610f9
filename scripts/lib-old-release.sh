# Sourced by make-upgrade-fixture.sh and upgrade-test.sh: the binaries of a previous release of
# raftvisor (a commit of this repository), built once in a scratch directory outside the
# repository (/tmp/rv-old-<COMMIT>, kept for the next run; RV_OLD_BUILD=DIR uses another).

# old_release_bin TOP COMMIT: builds COMMIT's raftvisor and actors if needed; prints their
# bin directory.
old_release_bin() {
  local top=$1 commit=$2 full old
  full=$(git -C "$top" rev-parse --verify "$commit^{commit}")
  old=${RV_OLD_BUILD:-/tmp/rv-old-$commit}
  if [ ! -x "$old/build/bin/raftvisor" ] || [ ! -x "$old/build/bin/raftvisor-kv-store" ]; then
    echo "building $commit ($full) in $old ..." >&2
    mkdir -p "$old"
    git -C "$top" archive "$full" | tar -x -C "$old"
    nice cmake -S "$old" -B "$old/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    nice cmake --build "$old/build" -j "$(nproc)" --target raftvisor raftvisor-kv-store \
      raftvisor-raft-peer raftvisor-health-monitor >/dev/null
  fi
  echo "$old/build/bin"
}
