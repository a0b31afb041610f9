#!/usr/bin/env bash
# Runs Hadoop's own FsShell CLI test suites against `raftvisor fs` (a report, not a ctest):
#   scripts/hadoop-cli-suite.sh --xml FILE [--xml FILE ...] [--nodes N] [--only REGEX] [--keep] [--json]
# FILE is testHDFSConf.xml (hadoop-hdfs-project/hadoop-hdfs/src/test/resources/) or testConf.xml
# (hadoop-common-project/hadoop-common/src/test/resources/) from a Hadoop source tree; they are
# not in this repository. A fresh secure loopback cluster is started (lib-cluster.sh),
# the local data files Hadoop's tests read (CLITEST_DATA: data15bytes ... data1k) are generated,
# and every test is run as CLITestHelper runs it (scripts/hadoop_cli_suite.py says how), as the
# cluster's superuser (the login name, as Hadoop's tests run as user.name).
#   --nodes N      the cluster's size, 1 (default) to 7. Hadoop's harness (TestHDFSCLI) sets
#                  dfs.replication to 1 because "many of the tests expect a replication value of
#                  1 in the output"; raftvisor's replication figure is the number of masters, so
#                  the faithful analogue is one node. With 3, the tests that differ only by that
#                  figure are reported as their own group.
#   --only REGEX   only the tests whose description matches REGEX (Python syntax)
#   --keep         keep the cluster running and the directory (printed) afterwards
#   --json         the report as one JSON object instead of text
# Progress goes to stderr; the report to stdout; per-test details (commands, outputs, the
# failed comparators) to /tmp/rvhcs.XXXXXX.details.txt (named in the report). Exit 0 when the suite ran (whatever passed), 2 on a
# usage error, 1 when the cluster could not be started.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
xml=() only="" keep=0 json=0 nodes=1
usage() {
  echo "usage: scripts/hadoop-cli-suite.sh --xml FILE [--xml FILE ...] [--nodes N] [--only REGEX] [--keep] [--json]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --xml) [ $# -ge 2 ] || usage; [ -r "$2" ] || { echo "hadoop-cli-suite: cannot read $2" >&2; exit 2; }
      xml+=("$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"); shift 2 ;;
    --nodes) [ $# -ge 2 ] || usage
      case $2 in [1-7]) nodes=$2 ;; *) echo "hadoop-cli-suite: --nodes: expected 1..7, got '$2'" >&2; exit 2 ;; esac
      shift 2 ;;
    --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --json) json=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done
[ ${#xml[@]} -gt 0 ] || usage
export RV_CLUSTER_NODES=$nodes
RV=${RV:-$top/build/bin/raftvisor}
[ -x "$RV" ] || { echo "hadoop-cli-suite: $RV not built (scripts/build.sh)" >&2; exit 1; }
T=$(mktemp -d /tmp/rvhcs.XXXXXX)

# A block of 16 ports claimed as integration-tests/lib.sh claims them (an atomic mkdir under
# /tmp/rvit-ports, so that concurrent scenarios and this run never take the same ports).
base=""
mkdir -p /tmp/rvit-ports
for ((try = 0; try < 200; try++)); do
  b=$((10000 + 16 * (RANDOM % 1250)))
  mkdir "/tmp/rvit-ports/$b" 2>/dev/null || continue
  echo $$ >"/tmp/rvit-ports/$b/pid"
  used=$(ss -Htan | awk '{n = split($4, a, ":"); print a[n]}' | sort -u)
  for ((k = 1; k <= 2 * nodes; k++)); do
    if grep -qx "$((b + k))" <<<"$used"; then rm -rf "/tmp/rvit-ports/$b"; continue 2; fi
  done
  base=$b
  break
done
[ -n "$base" ] || { echo "hadoop-cli-suite: no free ports found" >&2; exit 1; }
cleanup() {
  rm -rf "/tmp/rvit-ports/$base"
  if [ $keep = 1 ]; then
    echo "cluster kept: $T/n*.yaml (stop: raftvisor stop -c each)" >&2
    return
  fi
  cluster_stop "$T" "$RV"
  if pgrep -f -- "-c $T/n" >/dev/null; then # a node the stop did not reach: keep its files
    echo "hadoop-cli-suite: nodes of $T still run; stop them with raftvisor stop -c $T/nI.yaml" >&2
    return
  fi
  rm -rf "$T"
}
trap cleanup EXIT

# CLITEST_DATA: Hadoop's data files are lines of "12345678901234\n" (15 bytes): dataNbytes has
# N/15 of them, data1k 71 (1065 bytes).
mkdir -p "$T/cache"
for spec in data15bytes:1 data30bytes:2 data60bytes:4 data120bytes:8 data1k:71; do
  for ((k = 0; k < ${spec#*:}; k++)); do printf '12345678901234\n'; done >"$T/cache/${spec%:*}"
done

cluster_yaml "$T" hcs "$base" $((base + nodes)) # raft ports base+1.., client ports after them
cluster_start "$T" "$RV"
ok=0
for ((k = 0; k < 300; k++)); do # up to 30 s for a leader that takes writes
  if "$RV" fs -c "$T/n1.yaml" -test -d / >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || { echo "hadoop-cli-suite: the cluster did not come up ($T)" >&2; keep=1; exit 1; }
echo "cluster of $nodes node(s) up: hdfs://127.0.0.1:$((base + nodes + 1)) (n1's client port); running ${#xml[@]} suite file(s)" >&2
args=()
for f in "${xml[@]}"; do args+=(--xml "$f"); done
[ -n "$only" ] && args+=(--only "$only")
[ $json = 1 ] && args+=(--json)
/usr/bin/python3 "$top/scripts/hadoop_cli_suite.py" "${args[@]}" --rv "$RV" \
  --namenode "hdfs://127.0.0.1:$((base + nodes + 1))" --data "$T/cache" --user "$(id -un)" \
  --masters "$nodes" --details "$T.details.txt"
